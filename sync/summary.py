"""The daily summary job: yesterday's numbers (from `podops.reports`) and a
14-day bar chart drawn with Pillow, delivered through the outbox so a Slack
outage only delays it. The CLI's `podops summary` uses the same functions."""

from __future__ import annotations

import io
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select

from podops import reports
from podops.models import OutboxMessage, utcnow
from podops.outbox import enqueue
from podops.ports.notify import DailySummary, NamedOrder

if TYPE_CHECKING:
    from podops.runtime.root import Runtime

TOPIC = "slack.summary"
CHART_SIZE = (760, 320)
MARGIN = 40
BAR_COLOR = (46, 125, 200)
TEXT_COLOR = (40, 40, 40)


def yesterday(runtime: Runtime, now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(runtime.settings.tz).date() - timedelta(days=1)


def build_summary(runtime: Runtime, day: date, now: datetime | None = None) -> DailySummary:
    with runtime.db.unit_of_work() as session:
        return reports.daily_summary(
            session,
            day,
            runtime.settings.tz,
            late_after_days=runtime.settings.summary.late_after_days,
            now=now,
        )


def render_chart(per_day: list[tuple[date, int]]) -> bytes:
    """Orders per day as a PNG bar chart (pure: same input, same bytes)."""
    width, height = CHART_SIZE
    image = Image.new("RGB", CHART_SIZE, "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    draw.text((MARGIN, 10), "Orders per day", fill=TEXT_COLOR, font=font)
    top = max([count for _, count in per_day] + [1])
    plot_h = height - 2 * MARGIN - 10
    slot = (width - 2 * MARGIN) / max(len(per_day), 1)
    base_y = height - MARGIN
    draw.line([(MARGIN, base_y), (width - MARGIN, base_y)], fill=TEXT_COLOR)
    for index, (day, count) in enumerate(per_day):
        left = MARGIN + index * slot + slot * 0.15
        right = MARGIN + (index + 1) * slot - slot * 0.15
        bar_top = base_y - plot_h * count / top
        if count:
            draw.rectangle([left, bar_top, right, base_y - 1], fill=BAR_COLOR)
        draw.text((left, bar_top - 14), str(count), fill=TEXT_COLOR, font=font)
        draw.text((left, base_y + 6), day.strftime("%d/%m"), fill=TEXT_COLOR, font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def summary_to_payload(summary: DailySummary) -> dict[str, Any]:
    data = asdict(summary)
    data["day"] = summary.day.isoformat()
    data["per_day"] = [[d.isoformat(), n] for d, n in summary.per_day]
    return data


def summary_from_payload(data: dict[str, Any]) -> DailySummary:
    return DailySummary(
        day=date.fromisoformat(data["day"]),
        received=data["received"],
        submitted=data["submitted"],
        shipped=data["shipped"],
        cancelled=data["cancelled"],
        submit_failures=data["submit_failures"],
        pending_by_age=dict(data["pending_by_age"]),
        late=[NamedOrder(**o) for o in data["late"]],
        failed=[NamedOrder(**o) for o in data["failed"]],
        per_day=[(date.fromisoformat(d), int(n)) for d, n in data["per_day"]],
    )


def dedup_key(day: date) -> str:
    return f"{TOPIC}:{day.isoformat()}"


def enqueue_daily_summary(
    runtime: Runtime, now: datetime | None = None, *, day: date | None = None
) -> bool:
    """Schedule the summary of `day` (default: yesterday) once; a repeat is a no-op."""
    day = day or yesterday(runtime, now)
    with runtime.db.unit_of_work() as session:
        known = select(OutboxMessage.id).where(OutboxMessage.dedup_key == dedup_key(day))
        if session.scalar(known) is not None:
            return False  # already queued or sent: do not even build it
    summary = build_summary(runtime, day, now)
    with runtime.db.unit_of_work() as session:
        message = enqueue(session, TOPIC, dedup_key(day), {"summary": summary_to_payload(summary)})
    return message is not None


def latest_due(runtime: Runtime, now: datetime | None = None) -> datetime:
    """When the most recent daily summary was due (`summary.at`, local time)."""
    tz = runtime.settings.tz
    local = (now or utcnow()).astimezone(tz)
    due = datetime.combine(local.date(), runtime.settings.summary.at, tzinfo=tz)
    return due if due <= local else due - timedelta(days=1)


def catch_up(runtime: Runtime, now: datetime | None = None) -> bool:
    """At start-up: queue the latest due summary if it never left (the service was down
    at `summary.at`); its day's key makes this a no-op when it was sent."""
    day = yesterday(runtime, latest_due(runtime, now))
    return enqueue_daily_summary(runtime, now, day=day)
