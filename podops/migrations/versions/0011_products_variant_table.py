"""the Products table: SKUs routed to a provider's product code before the rules

Revision ID: 0011_products
Revises: 0010_placements
Create Date: 2026-12-02 10:00:00

`product_variants` holds the rows staff keep in a CSV file or the sheet's
Products tab, each with the problem that keeps it from routing (empty: it
routes). The readers replace a source's rows in one transaction.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_products"
down_revision = "0010_placements"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "product_variants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=255), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("provider_sku", sa.String(length=255), nullable=False),
        sa.Column("product_key", sa.String(length=128), nullable=False),
        sa.Column("countries", sa.JSON(), nullable=False),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_variants")),
    )
    op.create_index("ix_product_variants_sku", "product_variants", ["sku"])


def downgrade() -> None:
    op.drop_index("ix_product_variants_sku", table_name="product_variants")
    op.drop_table("product_variants")
