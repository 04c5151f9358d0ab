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

Files in this host's render folder (`prune_files`):
- Printable label sheets (`podops label print` / `batch`: `print-<tracking>.pdf`,
  `labels-<day>.pdf`, in LABEL_SHEETS_FOLDER) are kept `housekeeping.label_sheets_days`
  (7 by default: a sheet jammed in the printer is printed again within days), then
  deleted. Nothing is lost: a sheet is made again on demand from the label's stored
  image. Bought label files and packing slips are the order's documents and stay.
- Lock files an older podops left per line rendered (`.STEM.lock`; renders now remove
  theirs) go once older than LOCK_FILE_KEPT, each only while this job holds its lock.

Rows go in batches of PRUNE_BATCH, each its own short transaction, oldest first: a
million-row backlog never holds one long transaction (on PostgreSQL intake goes on
writing between batches; on SQLite a writer waits one batch at most). A run stops
after MAX_BATCHES; the next day's run goes on.
"""

from __future__ import annotations

import fcntl
import os
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
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
LABEL_SHEETS_FOLDER = "label-sheets"
"""Where printable label sheets are written, inside the render folder: apart from the
print files, so keeping them tidy never lists the render folder."""
LOCK_FILE_KEPT = timedelta(days=1)
_LABEL_SHEET = re.compile(r"^(?:print-.+|labels-\d{4}-\d{2}-\d{2})\.pdf$")
_LOCK_FILE = re.compile(r"^\..+\.lock$")


@dataclass(frozen=True, slots=True)
class Pruned:
    """How many rows of each kind one run deleted."""

    deliveries: int = 0
    heartbeats: int = 0
    leases: int = 0
    label_sheets: int = 0
    lock_files: int = 0


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


def prune_files(folder: Path, sheets_kept: timedelta, *, now: float | None = None) -> Pruned:
    """Delete this host's label sheets older than `sheets_kept` (in LABEL_SHEETS_FOLDER,
    and those an older podops wrote beside the print files) and leftover lock files.
    Looking through the render folder itself is for what older versions left: once a
    day, never per render."""
    now = time.time() if now is None else now
    sheets = prune_label_sheets(folder / LABEL_SHEETS_FOLDER, sheets_kept, now=now)
    locks = 0
    for entry in _entries(folder):
        if _LABEL_SHEET.match(entry.name) and _older(entry, sheets_kept, now):
            sheets += _unlinked(Path(entry.path))
        elif _LOCK_FILE.match(entry.name) and _older(entry, LOCK_FILE_KEPT, now):
            locks += _remove_unheld_lock(Path(entry.path))
    return Pruned(label_sheets=sheets, lock_files=locks)


def prune_label_sheets(folder: Path, kept: timedelta, *, now: float | None = None) -> int:
    """Delete the label sheets in `folder` last written more than `kept` ago."""
    now = time.time() if now is None else now
    return sum(
        _unlinked(Path(entry.path))
        for entry in _entries(folder)
        if _LABEL_SHEET.match(entry.name) and _older(entry, kept, now)
    )


def _entries(folder: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as entries:
            return [entry for entry in entries if entry.is_file(follow_symlinks=False)]
    except FileNotFoundError:
        return []


def _older(entry: os.DirEntry[str], kept: timedelta, now: float) -> bool:
    try:
        return entry.stat(follow_symlinks=False).st_mtime < now - kept.total_seconds()
    except FileNotFoundError:
        return False


def _unlinked(path: Path) -> int:
    try:
        path.unlink()
    except FileNotFoundError:
        return 0
    return 1


def _remove_unheld_lock(path: Path) -> int:
    """Remove a lock file nobody holds, as its holders do (`render.export.stem_lock`):
    under its lock, and only if the path still names the file locked, so a render
    waiting on it sees it gone and locks afresh."""
    try:
        handle = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return 0
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        mine, current = os.fstat(handle), os.stat(path)
        if (mine.st_ino, mine.st_dev) != (current.st_ino, current.st_dev):
            return 0
        path.unlink()
        return 1
    except (BlockingIOError, FileNotFoundError):
        return 0
    finally:
        os.close(handle)
