"""Housekeeping: rows that would otherwise pile up forever, one per delivery or per
instance started, are deleted once nothing needs them (the daily `db.prune` job).

- `inbound_deliveries`: one row per webhook or Slack delivery, kept so a redelivery
  is applied once. After `housekeeping.deliveries_days` (14 by default) no sender
  redelivers any more (Shopify retries for 48 hours, WooCommerce a few times, Slack
  within minutes), so older rows are deleted.
- Heartbeats (`sync_state` `heartbeat:<host>:<pid>`): an instance killed without a
  clean shutdown leaves its row, and every start has a new pid. `podops status` shows
  a vanished instance for a day; its row goes after HEARTBEAT_KEPT.
- Job leases (`job_leases`, SQLite): the per-order leases of address and design
  changes leave one row per order; one expired for LEASE_KEPT is nobody's.

Rows go in batches of PRUNE_BATCH, each its own short transaction, oldest first: a
million-row backlog never holds one long transaction (on PostgreSQL intake goes on
writing between batches; on SQLite a writer waits one batch at most). A run stops
after MAX_BATCHES; the next day's run goes on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, delete, select
from sqlalchemy.orm import InstrumentedAttribute

from podops.db import Database
from podops.models import Base, InboundDelivery, JobLease, SyncState, utcnow

HEARTBEAT_PREFIX = "heartbeat:"
"""`sync_state` keys of the instances' heartbeats (`podops.runtime.job_health`)."""
PRUNE_BATCH = 2000
MAX_BATCHES = 500
"""A run deletes at most a million rows of each kind (a backlog from before pruning)."""
HEARTBEAT_KEPT = timedelta(days=7)
LEASE_KEPT = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Pruned:
    """How many rows of each kind one run deleted."""

    deliveries: int = 0
    heartbeats: int = 0
    leases: int = 0


def prune(
    db: Database,
    deliveries_kept: timedelta,
    *,
    now: datetime | None = None,
    batch: int = PRUNE_BATCH,
    max_batches: int = MAX_BATCHES,
) -> Pruned:
    """Delete deliveries older than `deliveries_kept`, vanished instances' heartbeats and
    long-expired leases."""
    now = now or utcnow()

    def gone(model: type[Base], key: InstrumentedAttribute[Any], old: ColumnElement[bool]) -> int:
        return delete_in_batches(db, model, key, old, batch=batch, max_batches=max_batches)

    return Pruned(
        deliveries=gone(
            InboundDelivery, InboundDelivery.id, InboundDelivery.received_at < now - deliveries_kept
        ),
        heartbeats=gone(
            SyncState,
            SyncState.key,
            SyncState.key.startswith(HEARTBEAT_PREFIX, autoescape=True)
            & (SyncState.updated_at < now - HEARTBEAT_KEPT),
        ),
        leases=gone(JobLease, JobLease.name, JobLease.expires_at < now - LEASE_KEPT),
    )


def delete_in_batches(
    db: Database,
    model: type[Base],
    key: InstrumentedAttribute[Any],
    condition: ColumnElement[bool],
    *,
    batch: int = PRUNE_BATCH,
    max_batches: int = MAX_BATCHES,
) -> int:
    """Delete the rows of `model` matching `condition`, `batch` at a time in key order
    (each batch committed on its own); how many were deleted."""
    removed = 0
    for _ in range(max_batches):
        chosen = select(key).where(condition).order_by(key).limit(batch).scalar_subquery()
        with db.unit_of_work() as session:
            result = session.execute(
                delete(model).where(key.in_(chosen)),
                execution_options={"synchronize_session": False},
            )
            count = cast(CursorResult[Any], result).rowcount
        removed += count
        if count < batch:
            break
    return removed
