"""CLI fixtures: the fake WooCommerce shop shared with intake (for `podops stores check`)."""

from tests.intake.conftest import shop

__all__ = ["shop"]
