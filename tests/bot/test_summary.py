"""The daily summary: numbers, chart, delivery (with resume after a failed
upload) and the same figures from `podops summary`."""

from __future__ import annotations

import io
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from podops import reports, services
from podops.cli.main import main
from podops.models import OutboxMessage, utcnow
from podops.notify import summary as daily
from podops.notify.summary import build_summary, enqueue_daily_summary
from podops.runtime.root import Runtime
from render.charts import summary_chart
from sync.notify_job import SUMMARY_CATCH_UP, drain, jobs
from sync.scheduler import build_scheduler
from tests.factories import STAFF, received_order, shipped_order, submitted_order
from tests.fakes.slack import FakeSlack


@pytest.fixture
def busy_day(runtime: Runtime, policy) -> dict[str, str]:
    """Given today: 4 orders placed (1 shipped, 1 submitted, 1 cancelled), one 10 days late."""
    now = utcnow()
    placed = now.replace(hour=0, minute=30, second=0, microsecond=0)
    names = {
        "shipped": shipped_order(runtime.db, policy, placed_at=placed),
        "submitted": submitted_order(runtime.db, policy, placed_at=placed),
        "cancelled": received_order(runtime.db, policy, placed_at=placed),
        "pending": received_order(runtime.db, policy, placed_at=placed),
        "late": received_order(runtime.db, policy, placed_at=now - timedelta(days=10)),
    }
    with runtime.db.unit_of_work() as session:
        services.cancel(session, names["cancelled"], STAFF, "out of stock")
    return names


def test_summary_numbers(runtime: Runtime, busy_day: dict[str, str]) -> None:
    today = utcnow().date()
    summary = build_summary(runtime.db, runtime.settings, today)
    assert (summary.received, summary.submitted, summary.shipped, summary.cancelled) == (4, 2, 1, 1)
    assert [o.number for o in summary.late] == [busy_day["late"]]
    assert summary.pending_by_age["over 7 days"] == 1
    assert summary.per_day[-1] == (today, 4) and len(summary.per_day) == 14


def test_chart_is_a_png_of_fourteen_days(runtime: Runtime, busy_day: dict[str, str]) -> None:
    summary = build_summary(runtime.db, runtime.settings, utcnow().date())
    assert sum(day.get("main", 0) for day in summary.per_store) == 5
    assert sum(summary.late_per_day) == 1  # the one placed 10 days ago
    image = Image.open(io.BytesIO(summary_chart(summary)))
    assert (image.format, image.size) == ("PNG", (900, 420))


def test_summary_is_posted_once_with_its_chart_even_after_a_failed_upload(
    runtime: Runtime, fake_slack: FakeSlack, busy_day: dict[str, str]
) -> None:
    tomorrow = utcnow() + timedelta(days=1)
    assert enqueue_daily_summary(runtime.db, runtime.settings, tomorrow) is True
    assert enqueue_daily_summary(runtime.db, runtime.settings, tomorrow) is False  # one per day
    fake_slack.fail_next("files.completeUploadExternal", status=500, error="internal_error")
    assert drain(runtime).retried == 1
    from tests.bot.test_alerts import make_due_now

    make_due_now(runtime)
    assert drain(runtime).delivered == 1
    posts = fake_slack.calls_to("chat.postMessage")
    assert len(posts) == 1 and "Daily summary" in posts[0].params["blocks"][0]["text"]["text"]
    assert "Received* 4" in posts[0].params["blocks"][1]["text"]["text"]
    complete = fake_slack.calls_to("files.completeUploadExternal")[-1].params
    assert complete["channel_id"] == "C0ORDERS"
    assert all(data.startswith(b"\x89PNG") for data in fake_slack.uploads.values())


def test_cli_summary_prints_the_numbers_and_writes_the_chart(
    runtime: Runtime, busy_day: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "podops.toml"
    config.write_text(f'data_dir = "{tmp_path}"\n[database]\nurl = "{runtime.db.url}"\n')
    chart = tmp_path / "chart.png"
    day = utcnow().astimezone(UTC).date().isoformat()
    assert main(["-c", str(config), "summary", "--day", day, "--chart", str(chart)]) == 0
    out = capsys.readouterr().out
    assert "Daily summary for" in out and busy_day["late"] in out
    assert chart.read_bytes().startswith(b"\x89PNG")
    assert main(["-c", str(config), "summary", "--day", "yesterday-ish"]) == 2


def test_dashboard_lists_problems(runtime: Runtime, busy_day: dict[str, str]) -> None:
    with runtime.db.unit_of_work() as session:
        services.flag_design(session, busy_day["pending"], STAFF, "photo too small")
        board = reports.dashboard(session, due_within=timedelta(days=2))
    assert [p.number for p in board.problems] == [busy_day["pending"]]
    assert board.counts["needs design"] == 1


def test_a_summary_missed_while_the_service_was_down_is_sent_at_start_up(
    runtime: Runtime, fake_slack: FakeSlack
) -> None:
    runtime.settings.summary.at = time(8, 0)
    down_at_eight = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)  # started 1h30 after it was due
    [catch_up] = [s for s in jobs(runtime) if s.name == SUMMARY_CATCH_UP]
    assert catch_up.trigger == "date" and catch_up.singleton  # runs once, at start-up
    assert daily.catch_up(runtime.db, runtime.settings, down_at_eight) is True
    # a restart sends nothing twice
    assert daily.catch_up(runtime.db, runtime.settings, down_at_eight) is False
    assert drain(runtime).delivered == 1
    [posted] = fake_slack.calls_to("chat.postMessage")
    assert posted.params["text"] == "Daily summary for 2026-11-22"
    # The regular job that day finds it sent; before 08:00 the latest due one is older.
    assert enqueue_daily_summary(runtime.db, runtime.settings, down_at_eight) is False
    early = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
    assert daily.catch_up(runtime.db, runtime.settings, early) is True
    with runtime.db.unit_of_work() as session:
        keys = sorted(session.scalars(select(OutboxMessage.dedup_key)))
    assert keys == ["slack.summary:2026-11-22", "slack.summary:2026-11-23"]


def test_a_late_daily_job_still_runs_instead_of_waiting_a_day(runtime: Runtime) -> None:
    scheduler = build_scheduler(jobs(runtime), timezone="UTC")
    summary = scheduler.get_job("notify.daily_summary")
    assert summary.misfire_grace_time >= 6 * 3600 and summary.coalesce
