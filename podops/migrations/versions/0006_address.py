"""shipping addresses changed by staff and the shop, and their verification

Revision ID: 0006_address
Revises: 0004_holds
Create Date: 2026-12-01 09:00:00

- store_address: the address as the shop last sent it, kept once staff change
  ours, so a poll can tell a change made in the shop from the old one again.
- address_check: the last address verification of the order (which address,
  verified / failed / unavailable / accepted, the carrier's reason, tries).

Both are NULL for existing orders: the shop's address is then the order's own,
and no verification has been made.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_address"
down_revision = "0009_crop"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("store_address", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("address_check", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("address_check")
        batch.drop_column("store_address")
