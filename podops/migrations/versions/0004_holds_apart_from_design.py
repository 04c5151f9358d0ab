"""a hold is a person's decision kept apart from design readiness

Revision ID: 0004_holds
Revises: 0003
Create Date: 2026-11-24 09:00:00

- held_by / held_at: who held the order (a person, the shop, intake at
  receipt) and when; the order card, the CLI and the sheet show it.
- held_from is now the status *under* the hold, which design steps move
  (pending <-> needs_design) while the hold stays: every on_hold row gets one
  (needs_design when a line's print file was refused, else pending).
- Orders whose hold a render refusal overwrote (status needs_design or
  pending, hold reason still set, never released) are held again, with an
  audit event saying why; stale hold reasons on orders past submission are
  cleared, so nothing shows "Held" that is not held.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

import podops.models

revision = "0004_holds"
down_revision = "0003"
branch_labels = None
depends_on = None

RENDER_PROBLEM = ": print file: "
BEFORE_SUBMISSION = ("on_hold", "pending", "needs_design", "submit_failed", "received")
RESTORED_BY = "podops upgrade"


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("held_by", sa.String(length=128), nullable=True))
        batch.add_column(
            sa.Column("held_at", podops.models.UTCDateTime(timezone=True), nullable=True)
        )
    connection = op.get_bind()
    orders = sa.table(
        "orders",
        sa.column("id", sa.Integer),
        sa.column("status", sa.String),
        sa.column("hold_reason", sa.Text),
        sa.column("held_from", sa.String),
        sa.column("held_by", sa.String),
        sa.column("hold_remaining_s", sa.Integer),
        sa.column("problems", sa.JSON),
    )
    events = sa.table(
        "events",
        sa.column("id", sa.Integer),
        sa.column("order_id", sa.Integer),
        sa.column("at", podops.models.UTCDateTime(timezone=True)),
        sa.column("actor", sa.String),
        sa.column("channel", sa.String),
        sa.column("action", sa.String),
        sa.column("from_status", sa.String),
        sa.column("to_status", sa.String),
        sa.column("detail", sa.JSON),
    )
    _restore_overwritten_holds(connection, orders, events)
    _fill_held_orders(connection, orders, events)
    connection.execute(
        orders.update()
        .where(orders.c.status.not_in(BEFORE_SUBMISSION), orders.c.status != "cancelled")
        .values(hold_reason=None, held_from=None, hold_remaining_s=None)
    )


def _under_hold(problems: Any, fallback: str = "pending") -> str:
    refused = any(RENDER_PROBLEM in str(p) for p in (problems or []))
    return "needs_design" if refused else fallback


def _restore_overwritten_holds(connection: Any, orders: Any, events: Any) -> None:
    """A refusal once moved held orders to needs_design (and a later render on to
    pending) without a release: hold them again where they stand."""
    lost = connection.execute(
        sa.select(orders.c.id, orders.c.status, orders.c.hold_reason).where(
            orders.c.status.in_(("pending", "needs_design")), orders.c.hold_reason.is_not(None)
        )
    ).all()
    now = datetime.now(UTC)
    for order_id, status, reason in lost:
        connection.execute(
            orders.update()
            .where(orders.c.id == order_id)
            .values(status="on_hold", held_from=status)
        )
        connection.execute(
            events.insert().values(
                order_id=order_id,
                at=now,
                actor=RESTORED_BY,
                channel="system",
                action="hold",
                from_status=status,
                to_status="on_hold",
                detail={
                    "reason": reason,
                    "restored": "its hold was lost to a design refusal, never released",
                },
            )
        )


def _fill_held_orders(connection: Any, orders: Any, events: Any) -> None:
    """Who held each held order (its last hold event, else intake) and what is under it."""
    held = connection.execute(
        sa.select(orders.c.id, orders.c.held_from, orders.c.held_by, orders.c.problems).where(
            orders.c.status == "on_hold"
        )
    ).all()
    for order_id, held_from, held_by, problems in held:
        actor = connection.execute(
            sa.select(events.c.actor)
            .where(events.c.order_id == order_id, events.c.action == "hold")
            .where(events.c.actor != RESTORED_BY)
            .order_by(events.c.id.desc())
            .limit(1)
        ).scalar()
        connection.execute(
            orders.update()
            .where(orders.c.id == order_id)
            .values(
                held_from=held_from or _under_hold(problems),
                held_by=held_by or actor or "intake",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("held_at")
        batch.drop_column("held_by")
