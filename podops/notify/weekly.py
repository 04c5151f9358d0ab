"""The weekly report in Slack: on Mondays at `summary.at`, last week's turnaround,
problems and margin by provider, with two or three charts.

The report is built, and its charts drawn, in a child process (pandas and matplotlib
never enter the service: `podops.reporting.apart`); what it posts (lines and PNGs) is
queued once per week through the outbox, so an outage only delays it and a restart
never posts it twice. The charts are drawn by an adapter handed in by the runtime.
"""

from __future__ import annotations

import base64
import math
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from podops.db import Database
from podops.models import OutboxMessage, utcnow
from podops.outbox import Outgoing, Topic, enqueue
from podops.ports.notify import Chart, ReportCharts
from podops.settings import Settings

NAMED = 5
"""Late and stuck orders named in the post (the rest counted)."""


def last_week(settings: Settings, now: datetime | None = None) -> tuple[date, date]:
    """Monday to Sunday of the shop's last full week."""
    today = (now or utcnow()).astimezone(settings.tz).date()
    monday = today - timedelta(days=today.weekday() + 7)
    return monday, monday + timedelta(days=6)


def weekly_key(monday: date) -> str:
    return f"{Topic.WEEKLY}:{monday.isoformat()}"


def _days(value: float) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.1f} d"


def report_lines(report: Any) -> list[str]:
    """A `podops.reporting` Report in a few lines an owner reads on a phone."""
    if report.empty:
        return [report.headline, *_watched_lines(report)]
    lines = [report.headline]
    quality = report.quality
    for group, row in report.turnaround.iterrows():
        said = (
            f"{group}: placed to shipped {_days(row['placed_shipped_median'])} median, "
            f"{_days(row['placed_shipped_p90'])} p90"
        )
        if not math.isnan(row["within_promise"]):
            said += f", {row['within_promise']:.0%} within promise"
        if group in quality.index:
            q = quality.loc[group]
            said += (
                f"; {int(q['orders'])} orders, {int(q['failed'])} failed, "
                f"{int(q['rejections'])} rejected, {int(q['design_fix'])} needed a design fix"
            )
        lines.append(said)
    for record in report.money.to_dict(orient="records"):
        if record["margin_orders"] == 0:
            margin = "margin unknown"
        else:
            margin = f"margin {record['margin']:,.2f} ({record['basis']})"
        unknown = record["margin_unknown"]
        lines.append(
            f"{record[report.by]} {record['currency']}: revenue {record['revenue']:,.2f}, "
            f"{margin}" + (f", {unknown} orders unknown" if unknown else "")
        )
    lines.extend(_watched_lines(report))
    if report.not_timed:
        lines.append(f"Not timed: {len(report.not_timed)} (counted where they could be)")
    return lines


def _watched_lines(report: Any) -> list[str]:
    lines = []
    for title, found in (("Late now", report.late), ("Stuck at the provider", report.stuck)):
        if found:
            named = ", ".join(w.reference for w in found[:NAMED])
            more = f" and {len(found) - NAMED} more" if len(found) > NAMED else ""
            lines.append(f"{title}: {len(found)} ({named}{more})")
    return lines


def compose_weekly(
    settings: Settings, monday: date, draw: ReportCharts, now: datetime | None = None
) -> dict[str, Any]:
    """The week's post as plain data (run in a child process: it imports pandas)."""
    from podops.reporting.period import local_days
    from podops.reporting.report import build_report

    db = Database(settings.database_url)
    try:
        period = local_days(monday, monday + timedelta(days=6), settings.tz)
        report = build_report(db, settings, period, "provider", now)
    finally:
        db.dispose()
    charts: list[Chart] = draw(report)
    return {
        "title": f"Weekly report {period.label}",
        "lines": report_lines(report),
        "charts": [
            {"filename": c.filename, "title": c.title, "png": base64.b64encode(c.png).decode()}
            for c in charts
        ],
    }


def enqueue_weekly_report(
    db: Database, settings: Settings, draw: ReportCharts, now: datetime | None = None
) -> bool:
    """Queue last week's report once; a repeat (or a second instance) is a no-op."""
    from podops.reporting.apart import run_apart

    monday, _ = last_week(settings, now)
    key = weekly_key(monday)
    with db.unit_of_work() as session:
        if session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedup_key == key)):
            return False
    payload = run_apart(compose_weekly, settings, monday, draw, now)
    with db.unit_of_work() as session:
        return enqueue(session, Outgoing(Topic.WEEKLY, key, payload)) is not None
