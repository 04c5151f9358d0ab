"""each fulfillment's own shipping address, where its provider kept an older one

Revision ID: 0017_part_address
Revises: 0016_scale
Create Date: 2026-12-05 09:00:00

- fulfillments.shipping_address: the address this part's provider has when it is not
  the order's (a split order's address change that one provider took and another
  refused or could not be reached for). NULL: the order's address, as for every
  existing fulfillment.

One nullable column added in place (SQLite's ALTER TABLE ADD COLUMN): no table is
rebuilt, so nothing referencing `fulfillments` is touched.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_part_address"
down_revision = "0016_scale"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("fulfillments", sa.Column("shipping_address", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("fulfillments") as batch:
        batch.drop_column("shipping_address")
