"""The notification jobs: the alert scan, the outbox drain for everything people are
told, and the daily summary (queued at `summary.at`, and once at start-up when
one was missed). What is queued and how it is posted lives in `podops.notify`;
this module only schedules it and binds the runtime's notifier and chart renderer."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from podops.jobs import JobSpec
from podops.notify import alerts, digests, retrying, weekly
from podops.notify import summary as daily
from podops.notify.handlers import NotifyHandlers
from podops.outbox import DrainReport, OutboxDispatcher

if TYPE_CHECKING:
    from podops.ports.context import Notifying

DRAIN_BATCH = 50
SUMMARY_CATCH_UP = "notify.summary_catch_up"


def scan_alerts(runtime: Notifying, now: datetime | None = None) -> int:
    """Queue the alerts of orders that entered the window `slack.alert_before_minutes`."""
    window = timedelta(minutes=runtime.settings.slack.alert_before_minutes)
    return alerts.scan_alerts(runtime.db, window, now)


def drain(runtime: Notifying, limit: int = DRAIN_BATCH) -> DrainReport:
    """Post what is due; a burst of one kind first becomes one digest, and messages
    that started to keep failing get their one warning."""
    retrying.warn_new(runtime.db)
    digests.fold_bursts(runtime.db)
    handlers = NotifyHandlers(runtime.notifier, runtime.chart, runtime.storage).as_dict()
    return OutboxDispatcher(runtime.db, handlers).drain(limit)


def jobs(runtime: Notifying) -> list[JobSpec]:
    """The scheduler jobs for notifications (console or Slack alike)."""
    settings, db = runtime.settings, runtime.db
    at = settings.summary.at
    return [
        JobSpec("notify.alert_scan", lambda: scan_alerts(runtime), "interval", {"seconds": 30}),
        JobSpec("notify.drain", lambda: drain(runtime), "interval", {"seconds": 5}),
        JobSpec(
            "notify.daily_summary",
            lambda: daily.enqueue_daily_summary(db, settings),
            "cron",
            {"hour": at.hour, "minute": at.minute, "timezone": settings.timezone},
            singleton=True,
        ),
        *(
            [
                JobSpec(
                    "notify.weekly_report",
                    lambda: weekly.enqueue_weekly_report(db, settings, runtime.report_charts),
                    "cron",
                    {
                        "day_of_week": "mon",
                        "hour": at.hour,
                        "minute": at.minute,
                        "timezone": settings.timezone,
                    },
                    singleton=True,
                )
            ]
            if settings.reports.weekly
            else []
        ),
        # Once at start-up: a summary missed while the service was down still goes out.
        JobSpec(SUMMARY_CATCH_UP, lambda: daily.catch_up(db, settings), "date", {}, singleton=True),
    ]
