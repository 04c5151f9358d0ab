"""Upgrading keeps every hold: held rows learn who held them and what is under the
hold, and holds a design refusal once overwrote come back."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import text

from podops.db import Database, alembic_config

ROWS = [
    # number, status, hold_reason, held_from, problems
    ("1", "on_hold", "address check", "pending", "[]"),
    ("2", "on_hold", "placed before podops watched this store", None, "[]"),
    ("3", "on_hold", "needs attention", None, '["line 1: print file: text too long"]'),
    ("4", "needs_design", "customer asked to wait", "pending", '["line 1: print file: x"]'),
    ("5", "pending", "customer asked to wait", "pending", "[]"),
    ("6", "submitted", "customer asked to wait", "pending", "[]"),
    ("7", "pending", None, None, "[]"),
]


def test_upgrade_fills_and_restores_holds(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    with db.engine.begin() as connection:
        config = alembic_config(db.url)
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
        connection.execute(
            text("INSERT INTO stores (id, key, platform, created_at) VALUES (1, 'main', 'x', :t)"),
            {"t": "2026-01-01 00:00:00"},
        )
        for number, status, reason, held_from, problems in ROWS:
            connection.execute(
                text(
                    "INSERT INTO orders (store_id, number, external_id, status, placed_at,"
                    " customer_name, customer_email, customer_phone, shipping_address,"
                    " currency, total, shipping_total, problems, note, hold_reason, held_from,"
                    " submit_attempts, created_at, updated_at, version) VALUES (1, :n, :n, :s,"
                    " :t, '', '', '', '{}', 'USD', 0, 0, :p, '', :r, :f, 0, :t, :t, 1)"
                ),
                {"n": number, "s": status, "t": "2026-01-01 00:00:00", "p": problems}
                | {"r": reason, "f": held_from},
            )
        connection.execute(
            text(
                "INSERT INTO events (order_id, at, actor, channel, action, detail)"
                " SELECT id, '2026-01-01 00:00:00', 'slack:U1 (maria)', 'slack', 'hold', '{}'"
                " FROM orders WHERE number = '1'"
            )
        )
    db.upgrade()
    with db.engine.connect() as connection:
        found = {
            row[0]: tuple(row[1:])
            for row in connection.execute(
                text("SELECT number, status, held_from, held_by, hold_reason FROM orders")
            )
        }
        restored = connection.execute(
            text("SELECT count(*) FROM events WHERE actor = 'podops upgrade'")
        ).scalar()
    db.dispose()
    assert found["1"] == ("on_hold", "pending", "slack:U1 (maria)", "address check")
    assert found["2"][:3] == ("on_hold", "pending", "intake")
    assert found["3"][:2] == ("on_hold", "needs_design")
    assert found["4"][:2] == ("on_hold", "needs_design")  # the lost hold is back
    assert found["5"][:2] == ("on_hold", "pending")
    assert found["6"] == ("submitted", None, None, None)  # it left already: no stale "Held"
    assert found["7"] == ("pending", None, None, None)
    assert restored == 2
