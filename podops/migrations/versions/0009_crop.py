"""line items keep their photos' crop, measured fit and accepted resolution

Revision ID: 0009_crop
Revises: 0004_holds
Create Date: 2026-11-26 09:00:00

`line_items.photos` (JSON, `{}` for every existing line): per image field, the
crop staff chose (zoom and offset inside the frame), how the photo fits its
frame as the last render measured it (its pixels, the frame's inches, the
template's minimum DPI) and a low resolution staff accepted anyway. Existing
lines print as before (no crop) and are measured at their next render.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_crop"
down_revision = "0007_shipping_speed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("line_items") as batch:
        batch.add_column(sa.Column("photos", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("line_items") as batch:
        batch.drop_column("photos")
