"""an order's lines go to their providers as fulfillments, one per provider

Revision ID: 0005_fulfillments
Revises: 0004_holds
Create Date: 2026-12-03 10:00:00

- fulfillments / fulfillment_lines: what one provider makes of an order (its
  lines and quantities) with the submission state that used to sit on the order:
  provider, provider_order_id, provider_status, claim_token, claimed_at,
  submit_attempts, last_error, submitted_at, shipped_at, last_polled_at, and a
  status of its own. Room for remakes: kind, remake_of_id, reason, paid_by.
- Every order that was sent or tried (an attempt, or a provider order id) gets
  fulfillment 1 holding all its lines, with the order's state and provider:
  its reference is the order's own (`main-1234`), so an order in flight across
  the upgrade is still found by the lookup before a retry, polled and
  cancelled. An order never tried has nothing at a provider: its lines carry
  where routing sent them (`line_items.provider`) and the countdown makes its
  fulfillments when it leaves.
- Orders held with "items go to different providers: split the order" lose that
  problem (podops now sends one fulfillment per provider) and their lines are
  routed again from the config when they leave; an event says so. Their hold
  stays until staff release it.
- shipments.fulfillment_id: the fulfillment a provider's parcel came from.
- The submission columns leave `orders` (one home: the fulfillment).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

import podops.models

revision = "0005_fulfillments"
down_revision = "0006_address"
branch_labels = None
depends_on = None

SPLIT_PROBLEM = "items go to different providers"
MIGRATED_BY = "podops upgrade"
MOVED = (
    "provider",
    "provider_order_id",
    "provider_status",
    "submit_attempts",
    "claim_token",
    "claimed_at",
    "last_polled_at",
    "last_error",
    "submitted_at",
)
PART_STATUS = {
    "submitting": "submitting",
    "submit_failed": "submit_failed",
    "submitted": "submitted",
    "in_production": "in_production",
    "cancel_requested": "cancel_requested",
    "partially_shipped": "partially_shipped",
    "shipped": "shipped",
    "completed": "shipped",
    "returned": "shipped",
    "cancelled": "cancelled",
}
"""The order's status -> its fulfillment's; an order before submission that was
tried already (retried, held after a failure) has one waiting to go again."""


def _when() -> Any:
    return podops.models.UTCDateTime(timezone=True)


SHIPMENT_FK = "fk_shipments_fulfillment_id_fulfillments"


def upgrade() -> None:
    """SQLite's ALTER TABLE adds and drops these columns in place: a batch copy of
    `orders` or `shipments` would drop the old table, and with foreign keys on (podops
    turns them on) that deletes every event, line and parcel under it (ON DELETE
    CASCADE)."""
    _create_tables()
    op.add_column("line_items", sa.Column("provider", sa.String(length=64), nullable=True))
    if _sqlite():
        with _parcel_lines_kept(), op.batch_alter_table("shipments") as batch:
            batch.add_column(sa.Column("fulfillment_id", sa.Integer(), nullable=True))
            batch.create_foreign_key(
                SHIPMENT_FK, "fulfillments", ["fulfillment_id"], ["id"], ondelete="SET NULL"
            )
    else:
        op.add_column("shipments", sa.Column("fulfillment_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            SHIPMENT_FK,
            "shipments",
            "fulfillments",
            ["fulfillment_id"],
            ["id"],
            ondelete="SET NULL",
        )
    _move_data(op.get_bind())
    op.drop_index("ix_orders_last_polled_at", table_name="orders")
    for column in MOVED:
        op.drop_column("orders", column)


def _sqlite() -> bool:
    return bool(op.get_bind().dialect.name == "sqlite")


@contextmanager
def _parcel_lines_kept() -> Iterator[None]:
    """SQLite changes a foreign key only by copying the table (batch mode), and
    dropping the old `shipments` deletes its parcels' lines (ON DELETE CASCADE, foreign
    keys on): they are kept aside and put back, ids and all."""
    op.execute("CREATE TEMPORARY TABLE kept_shipment_lines AS SELECT * FROM shipment_lines")
    yield
    op.execute("DELETE FROM shipment_lines")
    op.execute("INSERT INTO shipment_lines SELECT * FROM kept_shipment_lines")
    op.execute("DROP TABLE kept_shipment_lines")


def _create_tables() -> None:
    op.create_table(
        "fulfillments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("order", "remake", name="fulfillmentkind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "waiting",
                "submitting",
                "submit_failed",
                "submitted",
                "in_production",
                "cancel_requested",
                "partially_shipped",
                "shipped",
                "cancelled",
                name="fulfillmentstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("provider_order_id", sa.String(length=128), nullable=True),
        sa.Column("provider_status", sa.String(length=64), nullable=True),
        sa.Column("submit_attempts", sa.Integer(), nullable=False),
        sa.Column("claim_token", sa.String(length=32), nullable=True),
        sa.Column("claimed_at", _when(), nullable=True),
        sa.Column("last_polled_at", _when(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("submitted_at", _when(), nullable=True),
        sa.Column("shipped_at", _when(), nullable=True),
        sa.Column("remake_of_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("paid_by", sa.String(length=16), nullable=True),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("updated_at", _when(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_fulfillments_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["remake_of_id"],
            ["fulfillments.id"],
            name=op.f("fk_fulfillments_remake_of_id_fulfillments"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fulfillments")),
        sa.UniqueConstraint("order_id", "seq", name="uq_fulfillments_order_seq"),
    )
    op.create_index("ix_fulfillments_order_id", "fulfillments", ["order_id"])
    op.create_index("ix_fulfillments_status", "fulfillments", ["status"])
    op.create_index("ix_fulfillments_last_polled_at", "fulfillments", ["last_polled_at"])
    op.create_table(
        "fulfillment_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fulfillment_id", sa.Integer(), nullable=False),
        sa.Column("line_item_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("provider_sku", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(
            ["fulfillment_id"],
            ["fulfillments.id"],
            name=op.f("fk_fulfillment_lines_fulfillment_id_fulfillments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["line_item_id"],
            ["line_items.id"],
            name=op.f("fk_fulfillment_lines_line_item_id_line_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fulfillment_lines")),
        sa.UniqueConstraint("fulfillment_id", "line_item_id", name="uq_fulfillment_lines_line"),
    )
    op.create_index("ix_fulfillment_lines_fulfillment_id", "fulfillment_lines", ["fulfillment_id"])
    op.create_index("ix_fulfillment_lines_line_item_id", "fulfillment_lines", ["line_item_id"])


def _tables() -> tuple[Any, Any, Any, Any, Any, Any]:
    orders = sa.table(
        "orders",
        sa.column("id", sa.Integer),
        sa.column("status", sa.String),
        sa.column("problems", sa.JSON),
        sa.column("hold_reason", sa.Text),
        sa.column("updated_at", _when()),
        sa.column("shipped_at", _when()),
        *(sa.column(name) for name in MOVED),
    )
    parts = sa.table(
        "fulfillments",
        sa.column("id", sa.Integer),
        sa.column("order_id", sa.Integer),
        sa.column("seq", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("status", sa.String),
        sa.column("shipped_at", _when()),
        sa.column("created_at", _when()),
        sa.column("updated_at", _when()),
        sa.column("version", sa.Integer),
        *(sa.column(name) for name in MOVED),
    )
    part_lines = sa.table(
        "fulfillment_lines",
        sa.column("fulfillment_id", sa.Integer),
        sa.column("line_item_id", sa.Integer),
        sa.column("quantity", sa.Integer),
        sa.column("provider_sku", sa.String),
    )
    lines = sa.table(
        "line_items",
        sa.column("id", sa.Integer),
        sa.column("order_id", sa.Integer),
        sa.column("quantity", sa.Integer),
        sa.column("provider_sku", sa.String),
        sa.column("provider", sa.String),
    )
    shipments = sa.table(
        "shipments",
        sa.column("order_id", sa.Integer),
        sa.column("fulfillment_id", sa.Integer),
    )
    events = sa.table(
        "events",
        sa.column("order_id", sa.Integer),
        sa.column("at", _when()),
        sa.column("actor", sa.String),
        sa.column("channel", sa.String),
        sa.column("action", sa.String),
        sa.column("detail", sa.JSON),
    )
    return orders, parts, part_lines, lines, shipments, events


def _move_data(connection: Any) -> None:
    orders, parts, part_lines, lines, shipments, events = _tables()
    status = sa.case(PART_STATUS, value=orders.c.status, else_="waiting")
    tried = sa.or_(orders.c.submit_attempts > 0, orders.c.provider_order_id.is_not(None))
    copied = [c for c in MOVED if c != "provider"]
    connection.execute(
        parts.insert().from_select(
            [
                "order_id",
                "seq",
                "kind",
                "status",
                "provider",
                *copied,
                "shipped_at",
                "created_at",
                "updated_at",
                "version",
            ],
            sa.select(
                orders.c.id,
                sa.literal(1),
                sa.literal("order"),
                status,
                sa.func.coalesce(orders.c.provider, "none"),
                *(orders.c[c] for c in copied),
                orders.c.shipped_at,
                orders.c.updated_at,
                orders.c.updated_at,
                sa.literal(1),
            ).where(tried),
        )
    )
    connection.execute(
        part_lines.insert().from_select(
            ["fulfillment_id", "line_item_id", "quantity", "provider_sku"],
            sa.select(parts.c.id, lines.c.id, lines.c.quantity, lines.c.provider_sku).join(
                lines, lines.c.order_id == parts.c.order_id
            ),
        )
    )
    connection.execute(
        shipments.update().values(
            fulfillment_id=sa.select(parts.c.id)
            .where(parts.c.order_id == shipments.c.order_id, parts.c.seq == 1)
            .scalar_subquery()
        )
    )
    connection.execute(
        lines.update().values(
            provider=sa.select(orders.c.provider)
            .where(orders.c.id == lines.c.order_id)
            .scalar_subquery()
        )
    )
    _unsplit_held_orders(connection, orders, lines, events)


def _unsplit_held_orders(connection: Any, orders: Any, lines: Any, events: Any) -> None:
    """Orders podops held because their lines went to different providers: the
    problem is gone, and their lines are routed again from the config when they leave."""
    found = connection.execute(
        sa.select(orders.c.id, orders.c.problems).where(
            sa.cast(orders.c.problems, sa.Text).like(f"%{SPLIT_PROBLEM}%"),
            orders.c.provider_order_id.is_(None),
            orders.c.submit_attempts == 0,
        )
    ).all()
    now = datetime.now(UTC)
    for order_id, problems in found:
        kept = [p for p in (problems or []) if SPLIT_PROBLEM not in str(p)]
        connection.execute(orders.update().where(orders.c.id == order_id).values(problems=kept))
        connection.execute(lines.update().where(lines.c.order_id == order_id).values(provider=None))
        connection.execute(
            events.insert().values(
                order_id=order_id,
                at=now,
                actor=MIGRATED_BY,
                channel="system",
                action="routed_again",
                detail={
                    "reason": "podops now sends one fulfillment per provider; once released, "
                    "each line goes to the provider its routing rule names"
                },
            )
        )


def downgrade() -> None:
    op.add_column("orders", sa.Column("provider", sa.String(length=64), nullable=True))
    op.add_column("orders", sa.Column("provider_order_id", sa.String(length=128), nullable=True))
    op.add_column("orders", sa.Column("provider_status", sa.String(length=64), nullable=True))
    op.add_column(
        "orders", sa.Column("submit_attempts", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column("orders", sa.Column("claim_token", sa.String(length=32), nullable=True))
    op.add_column("orders", sa.Column("claimed_at", _when(), nullable=True))
    op.add_column("orders", sa.Column("last_polled_at", _when(), nullable=True))
    op.add_column("orders", sa.Column("last_error", sa.Text(), nullable=True))
    op.add_column("orders", sa.Column("submitted_at", _when(), nullable=True))
    op.create_index("ix_orders_last_polled_at", "orders", ["last_polled_at"], unique=False)
    orders, parts, _part_lines, lines, _shipments, _events = _tables()
    connection = op.get_bind()
    for column in MOVED:
        first: Any = (
            sa.select(parts.c[column])
            .where(parts.c.order_id == orders.c.id, parts.c.seq == 1)
            .scalar_subquery()
        )
        if column == "submit_attempts":
            first = sa.func.coalesce(first, 0)
        connection.execute(orders.update().values({column: first}))
    routed = (
        sa.select(lines.c.provider)
        .where(lines.c.order_id == orders.c.id, lines.c.provider.is_not(None))
        .limit(1)
        .scalar_subquery()
    )
    connection.execute(orders.update().where(orders.c.provider.is_(None)).values(provider=routed))
    if _sqlite():
        with _parcel_lines_kept(), op.batch_alter_table("shipments") as batch:
            batch.drop_constraint(SHIPMENT_FK, type_="foreignkey")
            batch.drop_column("fulfillment_id")
    else:
        op.drop_constraint(SHIPMENT_FK, "shipments", type_="foreignkey")
        op.drop_column("shipments", "fulfillment_id")
    op.drop_column("line_items", "provider")
    op.drop_table("fulfillment_lines")
    op.drop_table("fulfillments")
