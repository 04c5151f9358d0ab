"""returns: which units of which lines came back, and why

Revision ID: 0015_returns
Revises: 0014_labels
Create Date: 2026-12-04 09:00:00

`returns` (one row per return staff record: reason, who, from where) and
`return_lines` (units of each line) are new tables; `line_items.quantity_returned`
is a plain added column (0 for every existing line). No table is rebuilt (on
SQLite, rebuilding `orders` or `line_items` would cascade-delete what hangs on them).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from podops.models import UTCDateTime

revision = "0015_returns"
down_revision = "0014_labels"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "line_items",
        sa.Column("quantity_returned", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_table(
        "returns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("whole_order", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_returns_order_id_orders"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_returns")),
    )
    op.create_index(op.f("ix_returns_order_id"), "returns", ["order_id"])
    op.create_index(op.f("ix_returns_created_at"), "returns", ["created_at"])
    op.create_table(
        "return_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("return_id", sa.Integer(), nullable=False),
        sa.Column("line_item_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["return_id"],
            ["returns.id"],
            name=op.f("fk_return_lines_return_id_returns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["line_item_id"],
            ["line_items.id"],
            name=op.f("fk_return_lines_line_item_id_line_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_lines")),
    )
    op.create_index(op.f("ix_return_lines_return_id"), "return_lines", ["return_id"])
    op.create_index(op.f("ix_return_lines_line_item_id"), "return_lines", ["line_item_id"])


def downgrade() -> None:
    op.drop_table("return_lines")
    op.drop_table("returns")
    with op.batch_alter_table("line_items") as batch:
        batch.drop_column("quantity_returned")
