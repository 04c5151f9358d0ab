"""fulfillments keep the provider's charge (cost, cost_currency)

Revision ID: 0012_reports
Revises: 0011_products
Create Date: 2026-12-03 09:00:00

What the provider charges for a fulfillment, as it reported it at submission or in a
status answer (None: it reported none, so reports show the margin as unknown).
Added in place (`ALTER TABLE ADD COLUMN`, no batch copy): `fulfillment_lines` and
`shipments` reference `fulfillments`, and a rebuild would cascade-delete their rows
on SQLite (ARCHITECTURE.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_reports"
down_revision = "0011_products"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("fulfillments", sa.Column("cost", sa.Numeric(12, 2), nullable=True))
    op.add_column("fulfillments", sa.Column("cost_currency", sa.String(3), nullable=True))


def downgrade() -> None:
    # SQLite >= 3.35 drops a column in place; no table copy.
    op.drop_column("fulfillments", "cost_currency")
    op.drop_column("fulfillments", "cost")
