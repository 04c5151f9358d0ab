"""The columnar reader opens the database `database.url` names, whatever SQLAlchemy
driver the URL spells, and says when no driver opens it."""

from __future__ import annotations

from pathlib import Path

import pytest

from podops.reporting.columnar import driver_target


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
