"""orders keep their countdown while held, own their submission claim, and their poll time

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 17:05:00

- held_from / hold_remaining_s: release returns a held order to where it was
  (needs_design stays needs_design) and the countdown resumes with the time
  that was left, instead of expiring while the order was held.
- claim_token / claimed_at: a worker re-confirms its claim right before each
  provider call, so a slow batch and the stuck-order reconciler never both
  send the same order.
- last_polled_at: tracking polling takes the longest-unasked orders first, so
  no order in flight starves when more than one batch is waiting.
- line_items.refused_design_sha256: a needs_design line whose design staff
  changed is rendered again, one refused and unchanged is not (no loop).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import podops.models

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("held_from", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("hold_remaining_s", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("claim_token", sa.String(length=32), nullable=True))
        batch.add_column(
            sa.Column("claimed_at", podops.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(
            sa.Column("last_polled_at", podops.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch.create_index("ix_orders_last_polled_at", ["last_polled_at"], unique=False)
    with op.batch_alter_table("line_items") as batch:
        batch.add_column(sa.Column("refused_design_sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("line_items") as batch:
        batch.drop_column("refused_design_sha256")
    with op.batch_alter_table("orders") as batch:
        batch.drop_index("ix_orders_last_polled_at")
        batch.drop_column("last_polled_at")
        batch.drop_column("claimed_at")
        batch.drop_column("claim_token")
        batch.drop_column("hold_remaining_s")
        batch.drop_column("held_from")
