"""Shared fixtures: a real database per test (SQLite file, or a throwaway
PostgreSQL schema when PODOPS_TEST_DATABASE_URL is set), built by Alembic."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text

from podops.db import Database
from podops.models import Base
from podops.routing import ShopPolicy, StorePolicy
from podops.settings import RoutingRule

PG_URL = os.environ.get("PODOPS_TEST_DATABASE_URL", "")

# CI replays the same generated inputs every run (a landing must not depend on luck);
# local runs explore new ones, and what they find becomes a plain test.
hypothesis_settings.register_profile("ci", derandomize=True)
if os.environ.get("PODOPS_HYPOTHESIS_PROFILE"):
    hypothesis_settings.load_profile(os.environ["PODOPS_HYPOTHESIS_PROFILE"])


def _with_schema(url: str, schema: str) -> str:
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database once per run: a SQLite file to copy, or a PG schema URL."""
    if PG_URL:
        schema = f"podops_test_{uuid.uuid4().hex[:10]}"
        admin = create_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = _with_schema(PG_URL, schema)
        Database(url).upgrade()
        yield url
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
        return
    path = tmp_path_factory.mktemp("template") / "template.db"
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    database.dispose()
    yield str(path)


@pytest.fixture
def db_url(database_template: str, tmp_path: Path) -> str:
    """A clean, migrated database URL for one test."""
    if PG_URL:
        engine = create_engine(database_template)
        names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return database_template
    path = tmp_path / "podops.db"
    shutil.copyfile(database_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def policy() -> ShopPolicy:
    return ShopPolicy(
        {
            "main": StorePolicy(countdown_hours=24, default_provider="manual"),
            "second": StorePolicy(countdown_hours=2, default_provider="manual"),
        },
        [
            RoutingRule(sku="TEE-*", provider="manual", product_key="tee-front"),
            RoutingRule(sku="MUG-*", provider="manual", product_key="mug-11oz"),
        ],
    )
