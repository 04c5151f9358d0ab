"""Store and provider adapters run against their fake servers (fixtures shared with intake)."""

from tests.intake.conftest import shop, woo

__all__ = ["shop", "woo"]
