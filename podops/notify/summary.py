"""The daily summary: yesterday's numbers (from `podops.reports`), queued once per
day through the outbox, so a Slack outage only delays it and a restart never
sends it twice. The chart is drawn by an adapter when the message is posted."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from sqlalchemy import select

from podops import reports
from podops.db import Database
from podops.models import OutboxMessage, utcnow
from podops.outbox import enqueue
from podops.outbox.messages import summary_key, summary_message
from podops.outbox.retrying import retrying
from podops.ports.notify import DailySummary
from podops.settings import Settings


def yesterday(settings: Settings, now: datetime | None = None) -> date:
    """The shop's yesterday, in its own time zone."""
    return (now or utcnow()).astimezone(settings.tz).date() - timedelta(days=1)


RETRYING_NAMED = 5  # messages named in the summary's retrying line


def build_summary(
    db: Database, settings: Settings, day: date, now: datetime | None = None
) -> DailySummary:
    with db.unit_of_work() as session:
        summary = reports.daily_summary(
            session,
            day,
            settings.tz,
            late_after_days=settings.summary.late_after_days,
            now=now,
        )
        stuck, total = retrying(session, now or utcnow(), RETRYING_NAMED)
    first = [item.reference for item in stuck]
    return replace(summary, retrying=total, retrying_first=first)


def enqueue_daily_summary(
    db: Database, settings: Settings, now: datetime | None = None, *, day: date | None = None
) -> bool:
    """Schedule the summary of `day` (default: yesterday) once; a repeat is a no-op."""
    day = day or yesterday(settings, now)
    with db.unit_of_work() as session:
        known = select(OutboxMessage.id).where(OutboxMessage.dedup_key == summary_key(day))
        if session.scalar(known) is not None:
            return False  # already queued or sent: do not even build it
    summary = build_summary(db, settings, day, now)
    with db.unit_of_work() as session:
        message = enqueue(session, summary_message(summary))
    return message is not None


def latest_due(settings: Settings, now: datetime | None = None) -> datetime:
    """When the most recent daily summary was due (`summary.at`, local time)."""
    tz = settings.tz
    local = (now or utcnow()).astimezone(tz)
    due = datetime.combine(local.date(), settings.summary.at, tzinfo=tz)
    return due if due <= local else due - timedelta(days=1)


def catch_up(db: Database, settings: Settings, now: datetime | None = None) -> bool:
    """At start-up: queue the latest due summary if it never left (the service was down
    at `summary.at`); its day's key makes this a no-op when it was sent."""
    day = yesterday(settings, latest_due(settings, now))
    return enqueue_daily_summary(db, settings, now, day=day)
