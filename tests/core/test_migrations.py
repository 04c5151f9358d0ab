"""Migrations and models agree, so a new install gets the schema the code expects."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from podops.db import Database, alembic_config
from podops.models import Base


def test_migrations_match_the_models(db: Database) -> None:
    with db.engine.begin() as connection:
        config = alembic_config(db.url)
        config.attributes["connection"] = connection
        command.check(config)  # raises if the models differ from the migrated schema


def test_upgrade_is_repeatable(db: Database) -> None:
    db.upgrade()
    tables = set(inspect(db.engine).get_table_names())
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
