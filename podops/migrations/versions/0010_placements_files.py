"""line items keep every print file of a template with named placements

Revision ID: 0010_placements
Revises: 0005_fulfillments
Create Date: 2026-12-03 09:00:00

`line_items.placed_files` (JSON, `[]` for every existing line): when a product's
template declares placements (a tee's front and back), each placement's file of
the current revision with its content hash and preview. `print_file` stays the
first placement's file, so existing lines (one file, at the front) read as before.
A plain added column: no table rebuild (on SQLite, rebuilding `orders` would
cascade-delete its lines and events).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_placements"
down_revision = "0005_fulfillments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "line_items", sa.Column("placed_files", sa.JSON(), nullable=False, server_default="[]")
    )


def downgrade() -> None:
    with op.batch_alter_table("line_items") as batch:
        batch.drop_column("placed_files")
