"""The columnar reader opens the database `database.url` names, whatever SQLAlchemy
driver the URL spells, and says when no driver opens it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from podops.db import Database
from podops.models import Order, Store
from podops.reporting.columnar import column_readers, driver_target

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("prefix", ["sqlite", "sqlite+pysqlite"])
def test_a_sqlite_file_is_opened_read_only_by_its_absolute_path(
    prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert driver_target(f"{prefix}:///data/podops.db") == (
        "sqlite",
        f"file://{tmp_path}/data/podops.db?mode=ro",
    )
    assert driver_target(f"{prefix}:////srv/a b#1.db") == (
        "sqlite",
        "file:///srv/a%20b%231.db?mode=ro",
    )


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "mysql://u@h/db"])
def test_no_driver_for_sqlite_in_memory_or_another_backend(url: str) -> None:
    assert driver_target(url) is None


@pytest.mark.parametrize(
    "prefix", ["postgresql", "postgresql+psycopg", "postgresql+psycopg2", "postgresql+asyncpg"]
)
def test_a_postgresql_url_becomes_a_libpq_one(prefix: str) -> None:
    url = f"{prefix}://shop:p%40ss@db.example:5433/podops?options=-csearch_path%3Dreports"
    assert driver_target(url) == (
        "postgresql",
        "postgresql://shop:p%40ss@db.example:5433/podops?options=-csearch_path%3Dreports",
    )


def test_the_readers_of_one_report_read_the_database_as_it_was_when_they_began(
    db: Database,
) -> None:
    """A report reads its frames on several connections at once; an order committed
    meanwhile is in none of them (they read one snapshot, not each their own)."""
    with db.engine.begin() as connection:
        connection.execute(
            insert(Store), [{"id": 1, "key": "main", "platform": "csv", "created_at": NOW}]
        )
        connection.execute(insert(Order), [_order(1)])
    with column_readers(db.url, db.engine.dialect, 3) as readers:
        assert len(readers) == 3
        with db.engine.begin() as connection:
            connection.execute(insert(Order), [_order(2)])
        counts = [reader.rows(select(func.count()).select_from(Order)) for reader in readers]
    assert counts == [[(1,)], [(1,)], [(1,)]]


def _order(n: int) -> dict[str, object]:
    return {
        "id": n, "store_id": 1, "number": str(n), "external_id": str(n), "status": "pending",
        "placed_at": NOW, "submit_at": NOW, "currency": "USD", "total": Decimal("10.00"),
        "shipping_total": Decimal("0"), "customer_name": "c", "shipping_address": {},
        "problems": [], "note": "", "created_at": NOW, "updated_at": NOW, "version": 1,
    }  # fmt: skip
