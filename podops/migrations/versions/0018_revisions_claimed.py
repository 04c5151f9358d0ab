"""the last print-file revision number handed out per line item

Revision ID: 0018_revisions_claimed
Revises: 0017_part_address
Create Date: 2026-12-03 08:30:00

- line_items.print_file_revisions_claimed: the highest revision number a render of
  this line was given (`services.designs.claim_revision`), recorded or not. The next
  render takes one more than it or than `print_file_revision`, whichever is higher,
  so existing lines need no backfill: 0 means "none handed out since this column".
  It replaces listing the render folder (or bucket) for the line's files on every
  render, which grew slower with every file the shop ever made.

One column with a default added in place (SQLite's ALTER TABLE ADD COLUMN); no row is
rewritten, so a million-order table migrates at once.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_revisions_claimed"
down_revision = "0017_part_address"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "line_items",
        sa.Column("print_file_revisions_claimed", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    with op.batch_alter_table("line_items") as batch:
        batch.drop_column("print_file_revisions_claimed")
