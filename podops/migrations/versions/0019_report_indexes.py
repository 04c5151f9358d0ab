"""an index on events by action, so a report reads its few quality events directly

Revision ID: 0019_report_indexes
Revises: 0018_revisions_claimed
Create Date: 2026-12-05 09:00:00

`ix_events_action_order_id` (action, order_id): a report reads the rare quality events
(submit failures, refunds, design fixes...) of the period's orders. Without it both
databases went through every event of the period (four or more per order: receive,
submit, ship, complete) to keep one in twenty; with it they start from those events
and look up their orders (`bench/reports.py`, 1,000,000 orders: SQLite's events read
took 0.56 s of CPU, now 0.13 s; PostgreSQL no longer scans the events table).

Only an index is created: no table is rebuilt. On a large database it takes seconds
to build and blocks writes to events meanwhile: run the upgrade in a quiet minute.
"""

from __future__ import annotations

from alembic import op

revision = "0019_report_indexes"
down_revision = "0018_revisions_claimed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_events_action_order_id", "events", ["action", "order_id"])


def downgrade() -> None:
    op.drop_index("ix_events_action_order_id", "events")
