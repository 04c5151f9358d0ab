"""Upgrading to shipping speeds keeps every order, line and event (SQLite rebuilding
`orders` in batch mode would cascade-delete them: the columns are added in place), and
orders received before read as standard."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import text

from podops.db import Database, alembic_config

T = "2026-01-01 00:00:00"


def test_upgrade_keeps_lines_and_events_and_reads_old_orders_as_standard(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    with db.engine.begin() as connection:
        config = alembic_config(db.url)
        config.attributes["connection"] = connection
        command.upgrade(config, "0004_holds")
        connection.execute(
            text("INSERT INTO stores (id, key, platform, created_at) VALUES (1, 'main', 'x', :t)"),
            {"t": T},
        )
        connection.execute(
            text(
                "INSERT INTO orders (id, store_id, number, external_id, status, placed_at,"
                " customer_name, customer_email, customer_phone, shipping_address, currency,"
                " total, shipping_total, problems, note, submit_attempts, created_at,"
                " updated_at, version) VALUES (1, 1, '1', '1', 'pending', :t, '', '', '', '{}',"
                " 'USD', 0, 0, '[]', '', 0, :t, :t, 1)"
            ),
            {"t": T},
        )
        connection.execute(
            text(
                "INSERT INTO line_items (order_id, position, external_id, sku, name, product_key,"
                " quantity, quantity_shipped, unit_price, personalization, image_urls, problems,"
                " print_file_revision, print_file_current) VALUES (1, 1, 'a', 'TEE', 'Tee', '',"
                " 1, 0, 0, '{}', '{}', '[]', 0, false)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO events (order_id, at, actor, channel, action, detail)"
                " VALUES (1, :t, 'cli:ana', 'cli', 'hold', '{}')"
            ),
            {"t": T},
        )
    db.upgrade()
    with db.engine.connect() as connection:
        counts = [
            connection.execute(text(f"SELECT count(*) FROM {table}")).scalar()
            for table in ("orders", "line_items", "events")
        ]
        order = connection.execute(
            text("SELECT shipping_speed, rush, shipping_method, shipping_method_id FROM orders")
        ).one()
    db.dispose()
    assert counts == [1, 1, 1]
    assert tuple(order) == ("standard", False, "", "")
