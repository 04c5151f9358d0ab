"""orders keep the shipping line the customer chose, its speed and the rush flag

Revision ID: 0007_shipping_speed
Revises: 0004_holds
Create Date: 2026-12-01 09:00:00

- shipping_method_id / shipping_method: the store's shipping line (WooCommerce
  `method_id[:instance_id]` and `method_title`, the CSV `shipping` column).
- shipping_speed: the speed the store's shipping table maps it to (or staff
  set); None while no table maps it (the order is held for a person).
- rush: the speed has its own countdown; cards and rows flag it.

Orders received before this revision shipped standard, so they read as standard.
Every column is added in place (ALTER TABLE ADD COLUMN): on SQLite a batch rebuild
of `orders` with foreign keys on would cascade-delete its line items and events.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_shipping_speed"
down_revision = "0004_holds"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(
            sa.Column("shipping_method_id", sa.String(length=64), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("shipping_method", sa.String(length=200), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("shipping_speed", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("rush", sa.Boolean(), nullable=False, server_default="0"))
    orders = sa.table("orders", sa.column("shipping_speed", sa.String))
    op.execute(orders.update().values(shipping_speed="standard"))


def downgrade() -> None:
    # Dropped in place, not in batch mode: rebuilding `orders` on SQLite (foreign keys
    # on) would cascade-delete every line item and event.
    for column in ("rush", "shipping_speed", "shipping_method", "shipping_method_id"):
        op.drop_column("orders", column)
