"""indexes so the everyday queries cost what open orders cost, not what history costs

Revision ID: 0016_scale
Revises: 0015_returns
Create Date: 2026-12-04 09:00:00

Measured on PostgreSQL with 1,000,000 orders (`bench/scale.py`):
- `ix_orders_open_placed_at` (partial, open statuses): the not-shipped list, newest
  first, and the daily summary's open orders read only open orders;
- `ix_orders_finished_updated_at` (partial, finished statuses): the sheet mirror finds
  the orders finished in the last `archive_after_days` (an order's last change is never
  before it finished, so the recent ones are a short range of this index);
- `ix_fulfillments_remakes_created_at` (partial, remakes): the summary's remake counts;
- `ix_shipments_tracking_number`: a tracking number recorded on another order is found
  without reading every parcel (staff entry, the Tracking tab, bulk CSV);
- `ix_events_sheet_notes` (partial): the staff notes the sheet shows;
- on PostgreSQL, trigram indexes (pg_trgm) on the customer's name and email, so
  `/order find smith` does not read every order. Without the right to create the
  extension they are skipped with a warning (find then scans, as before).

Only indexes are created: no table is rebuilt (on SQLite a rebuild of `orders` would
cascade-delete its lines and events). On a large PostgreSQL database they take seconds
to build and block writes meanwhile: run the upgrade in a quiet minute.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0016_scale"
down_revision = "0015_returns"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

OPEN = (
    "status IN ('cancel_requested', 'in_production', 'needs_design', 'on_hold', "
    "'partially_shipped', 'pending', 'received', 'submit_failed', 'submitted', 'submitting')"
)
FINISHED = "status IN ('cancelled', 'completed', 'returned')"
TRIGRAM = ("ix_orders_customer_name_trgm", "ix_orders_customer_email_trgm")


def _partial(where: str) -> dict[str, Any]:
    return {"postgresql_where": sa.text(where), "sqlite_where": sa.text(where)}


def upgrade() -> None:
    op.create_index("ix_orders_open_placed_at", "orders", ["placed_at", "id"], **_partial(OPEN))
    op.create_index("ix_orders_finished_updated_at", "orders", ["updated_at"], **_partial(FINISHED))
    op.create_index(
        "ix_fulfillments_remakes_created_at",
        "fulfillments",
        ["created_at"],
        **_partial("kind = 'remake'"),
    )
    op.create_index("ix_shipments_tracking_number", "shipments", ["tracking_number"])
    op.create_index(
        "ix_events_sheet_notes", "events", ["order_id"], **_partial("action = 'sheet_note'")
    )
    if op.get_bind().dialect.name == "postgresql":
        _trigram_indexes()


def _trigram_indexes() -> None:
    """pg_trgm lives in `public` (installed once per database, whatever the schema),
    so its operator class is named with its schema."""
    bind = op.get_bind()
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public"))
    except sa.exc.DBAPIError as exc:
        log.warning("pg_trgm not available (%s): /order find reads every order", exc.orig)
        return
    for name, column in zip(TRIGRAM, ("customer_name", "customer_email"), strict=True):
        bind.execute(
            sa.text(f"CREATE INDEX {name} ON orders USING gin ({column} public.gin_trgm_ops)")
        )


def downgrade() -> None:
    for name in TRIGRAM:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.drop_index("ix_events_sheet_notes", "events")
    op.drop_index("ix_shipments_tracking_number", "shipments")
    op.drop_index("ix_fulfillments_remakes_created_at", "fulfillments")
    op.drop_index("ix_orders_finished_updated_at", "orders")
    op.drop_index("ix_orders_open_placed_at", "orders")
