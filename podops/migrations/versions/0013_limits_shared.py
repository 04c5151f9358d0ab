"""shared limits: rate buckets and concurrency slots every process on the database uses

Revision ID: 0013_limits
Revises: 0012_reports
Create Date: 2026-12-03 10:00:00

Only PostgreSQL writes these tables (`podops.shared_limits`); on SQLite (one host)
limits stay in each process, as before. New tables only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_limits"
down_revision = "0012_reports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "limit_buckets",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("tat", sa.Double(), nullable=False),
        sa.Column("blocked_until", sa.Double(), nullable=False),
        sa.Column("start", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_limit_buckets")),
    )
    op.create_table(
        "limit_slots",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("slot", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("key", "slot", name=op.f("pk_limit_slots")),
    )


def downgrade() -> None:
    op.drop_table("limit_slots")
    op.drop_table("limit_buckets")
