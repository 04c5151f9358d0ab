"""What every `podops` command test starts from: a shop folder on the test database,
and the fake WooCommerce shop shared with intake (for `podops stores check`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from podops import services
from podops.cli.main import main
from podops.db import Database
from podops.routing import ShopPolicy
from podops.settings import Settings
from tests.factories import SYSTEM, incoming
from tests.intake.conftest import shop

__all__ = ["seed", "shop", "workdir"]


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str) -> Path:
    """A shop folder whose config points at the test database."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PODOPS_DATABASE__URL", db_url)
    monkeypatch.delenv("PODOPS_CONFIG", raising=False)
    assert main(["init"]) == 0
    return tmp_path


def seed(db_url: str, *numbers: str) -> None:
    database = Database(db_url)
    policy = ShopPolicy.from_settings(Settings())
    with database.unit_of_work() as session:
        services.receive_orders(session, [incoming(n) for n in numbers], policy, SYSTEM)
    database.dispose()
