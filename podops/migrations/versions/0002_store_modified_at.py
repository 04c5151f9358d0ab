"""orders remember when the store last changed them

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 16:50:00

Webhook retries arrive out of order; with the store's change time kept, an
older delivery no longer overrides a newer one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import podops.models

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "orders",
        sa.Column("store_modified_at", podops.models.UTCDateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("store_modified_at")
