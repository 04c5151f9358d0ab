"""Queueing the notices about one order: the countdown alert and edit previews.

Both go through the outbox (so a Slack outage only delays them) with a dedup
key, so scanning twice or retrying a command queues each notice once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from podops import reports
from podops.db import Database
from podops.models import Order, utcnow
from podops.outbox import enqueue
from podops.outbox.messages import alert_message, preview_message


def scan_alerts(db: Database, window: timedelta, now: datetime | None = None) -> int:
    """Queue one alert for each order that entered the alert window."""
    queued = 0
    with db.unit_of_work() as session:
        for order_id in reports.alert_candidates(session, now or utcnow(), window):
            if enqueue(session, alert_message(order_id)):
                queued += 1
    return queued


def queue_previews(
    session: Session, order: Order, text: str, files: Sequence[str | Path], *, key: str
) -> None:
    """Schedule the re-rendered previews of an edit (posted in the order's thread)."""
    enqueue(session, preview_message(order.id, text, files, key))


def remember_alert(session: Session, order_id: int, ref: str | None) -> None:
    """Store where the alert lives; a plain UPDATE so it never races a staff action's
    version check (alert_ref is bookkeeping, not order state)."""
    table: Any = Order.__table__
    session.execute(update(table).where(table.c.id == order_id).values(alert_ref=ref))
