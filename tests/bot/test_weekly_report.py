"""The weekly report: Monday at the summary's hour, last week's numbers by provider and
its charts uploaded as images, posted once even when an upload fails."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime

from PIL import Image

from podops.notify import weekly
from podops.runtime.root import Runtime
from sync.notify_job import drain, jobs
from tests.bot.test_alerts import make_due_now
from tests.factories import received_order, shipped_order
from tests.fakes.slack import FakeSlack

MONDAY_EIGHT = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def test_it_is_scheduled_on_mondays_at_the_summary_hour(runtime: Runtime) -> None:
    [spec] = [s for s in jobs(runtime) if s.name == "notify.weekly_report"]
    assert spec.trigger == "cron" and spec.singleton
    assert spec.trigger_args == {"day_of_week": "mon", "hour": 8, "minute": 0, "timezone": "UTC"}
    runtime.settings.reports.weekly = False
    assert not [s for s in jobs(runtime) if s.name == "notify.weekly_report"]


def test_last_weeks_report_is_posted_once_with_its_charts(
    runtime: Runtime, fake_slack: FakeSlack, policy
) -> None:
    assert weekly.last_week(runtime.settings, MONDAY_EIGHT) == (
        date(2026, 11, 23),
        date(2026, 11, 29),
    )
    shipped_order(runtime.db, policy, placed_at=datetime(2026, 11, 24, 9, tzinfo=UTC))
    received_order(runtime.db, policy, placed_at=datetime(2026, 11, 25, 9, tzinfo=UTC))
    received_order(runtime.db, policy, placed_at=datetime(2026, 11, 20, 9, tzinfo=UTC))  # before
    draw = runtime.report_charts
    assert weekly.enqueue_weekly_report(runtime.db, runtime.settings, draw, MONDAY_EIGHT)
    assert not weekly.enqueue_weekly_report(runtime.db, runtime.settings, draw, MONDAY_EIGHT)
    fake_slack.fail_next("files.completeUploadExternal", status=500, error="internal_error")
    assert drain(runtime).retried == 1
    make_due_now(runtime)
    assert drain(runtime).delivered == 1

    [post] = fake_slack.calls_to("chat.postMessage")  # the text once, despite the retry
    text = "\n".join(b["text"]["text"] for b in post.params["blocks"][1:])
    assert post.params["text"] == "Weekly report 2026-11-23 to 2026-11-29"
    assert "2 orders placed 2026-11-23 to 2026-11-29, by provider" in text
    assert "manual: placed to shipped" in text
    uploads = fake_slack.calls_to("files.completeUploadExternal")
    titles = [json.loads(u.params["files"])[0]["title"] for u in uploads]
    # the first upload failed and was retried; then each chart once
    assert titles == ["Orders per day", "Orders per day", "Turnaround", "Problems"]
    assert {u.params["channel_id"] for u in uploads} == {"C0ORDERS"}
    for data in fake_slack.uploads.values():
        image = Image.open(io.BytesIO(data))
        assert image.format == "PNG" and image.size == (900, 420)


def test_an_empty_week_says_so(runtime: Runtime, fake_slack: FakeSlack) -> None:
    draw = runtime.report_charts
    assert weekly.enqueue_weekly_report(runtime.db, runtime.settings, draw, MONDAY_EIGHT)
    assert drain(runtime).delivered == 1
    [post] = fake_slack.calls_to("chat.postMessage")
    assert (
        "No orders were placed 2026-11-23 to 2026-11-29" in post.params["blocks"][1]["text"]["text"]
    )
    assert len(fake_slack.uploads) == 1  # orders per day, empty, and says "No orders"
