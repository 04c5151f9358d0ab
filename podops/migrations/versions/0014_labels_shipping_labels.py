"""shipping labels: one row per label bought (or being bought), parcels' delivery

Revision ID: 0014_labels
Revises: 0013_limits
Create Date: 2026-12-04 09:00:00

`labels` holds each label from before it is bought (the label service's shipment
id is stored before the buy, so a lost answer is looked up, never bought again);
the unique index on `open_order_id` lets one label of an order be in flight.
`shipments.delivery_status` and `delivered_at` keep what a label's tracker said.
Plain added columns on `shipments` (SQLite's own ALTER TABLE): no table rebuild,
which would cascade-delete parcel lines.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_labels"
down_revision = "0013_limits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("shipments", sa.Column("delivery_status", sa.String(length=32), nullable=True))
    op.add_column("shipments", sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("open_order_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("requested_by", sa.String(length=128), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("rate_rule", sa.String(length=64), nullable=False),
        sa.Column("service_shipment_id", sa.String(length=64), nullable=True),
        sa.Column("rate_id", sa.String(length=64), nullable=True),
        sa.Column("carrier", sa.String(length=64), nullable=False),
        sa.Column("service", sa.String(length=64), nullable=False),
        sa.Column("price", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("tracking_number", sa.String(length=128), nullable=True),
        sa.Column("tracker_id", sa.String(length=64), nullable=True),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("bought_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refund_status", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_labels_order_id_orders"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipments.id"],
            name=op.f("fk_labels_shipment_id_shipments"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_labels")),
    )
    op.create_index("uq_labels_open_order_id", "labels", ["open_order_id"], unique=True)
    op.create_index("ix_labels_service_shipment_id", "labels", ["service_shipment_id"])
    op.create_index("ix_labels_bought_at", "labels", ["bought_at"])
    op.create_index(op.f("ix_labels_order_id"), "labels", ["order_id"])


def downgrade() -> None:
    op.drop_table("labels")
    for column in ("delivered_at", "delivery_status"):
        # SQLite's own DROP COLUMN: a batch rebuild of `shipments` would cascade-delete
        # its parcel lines.
        op.execute(f"ALTER TABLE shipments DROP COLUMN {column}")
