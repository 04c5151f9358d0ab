"""Slack delivery is effectively once: when Slack took a post and the worker
died before recording it, the restarted worker finds the post by our own key
(message metadata) and reuses it instead of posting it again.

The crash is reproduced without a process: the outbox message is claimed (that
commit happens), the real handler posts to the fake Slack (committing its
progress as it goes), the outcome is never recorded (the commit that never
happened), and a second Runtime, like a restarted worker, drains the outbox again.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from slack_sdk import WebClient
from sqlalchemy import select, update

from podops import services
from podops.models import OutboxMessage, utcnow
from podops.notify.alerts import queue_previews
from podops.notify.handlers import NotifyHandlers
from podops.notify.summary import enqueue_daily_summary
from podops.outbox import OutboxDispatcher, Topic
from podops.runtime.root import Runtime
from render.charts import summary_chart
from sync.notify_job import drain, scan_alerts
from tests.bot.conftest import slack_settings
from tests.factories import STAFF, received_order
from tests.fakes.slack import FakeSlack


def deliver_then_die(runtime: Runtime) -> int:
    """Claim every due message, let Slack take each post, then never record the outcome."""
    dispatcher = OutboxDispatcher(
        runtime.db, NotifyHandlers(runtime.notifier, summary_chart).as_dict()
    )
    claims = dispatcher.claim(50)
    for claim in claims:
        attempt = dispatcher.send(claim)  # the worker dies before `dispatcher.record(attempt)`
        assert attempt is not None and attempt.error is None
    with runtime.db.unit_of_work() as session:  # the dead worker's lease runs out
        session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
    return len(claims)


@pytest.fixture
def restarted(db_url: str, fake_slack: FakeSlack) -> Iterator[Runtime]:
    """A fresh worker process: same database and Slack, nothing remembered in memory."""
    rt = Runtime(slack_settings(db_url, fake_slack))
    yield rt
    rt.close()


def alert_in_window(runtime: Runtime, policy) -> str:  # type: ignore[no-untyped-def]
    number = received_order(runtime.db, policy)
    with runtime.db.unit_of_work() as session:
        due = services.get_order(session, number).submit_at
    assert due is not None and scan_alerts(runtime, due - timedelta(minutes=30)) == 1
    return number


def alert_ref(runtime: Runtime, number: str) -> str | None:
    with runtime.db.unit_of_work() as session:
        return services.get_order(session, number).alert_ref


def undelivered(runtime: Runtime) -> int:
    with runtime.db.unit_of_work() as session:
        query = select(OutboxMessage.id).where(OutboxMessage.delivered_at.is_(None))
        return len(list(session.scalars(query)))


def test_alert_slack_took_before_the_crash_is_posted_once_and_remembered(
    runtime: Runtime, restarted: Runtime, fake_slack: FakeSlack, policy
) -> None:
    number = alert_in_window(runtime, policy)
    assert deliver_then_die(runtime) == 1
    assert len(fake_slack.channel_messages()) == 1 and alert_ref(runtime, number) is None

    assert drain(restarted).delivered == 1

    [alert] = fake_slack.channel_messages()
    assert f"Order {number}" in alert["text"]
    assert alert["metadata"]["event_payload"]["key"] == dedup_key(runtime, Topic.ALERT)
    assert alert_ref(restarted, number) == f"C0ORDERS:{alert['ts']}"
    # The restarted worker knew only "#orders": it looked the id up, then read the history.
    assert fake_slack.calls_to("conversations.list")
    assert fake_slack.calls_to("conversations.history")[-1].params["channel"] == "C0ORDERS"
    # Staff see that one message change when the order does.
    with restarted.db.unit_of_work() as session:
        services.hold(session, number, STAFF, "address check")
    drain(restarted)
    update_call = fake_slack.calls_to("chat.update")[-1].params
    assert update_call["ts"] == alert["ts"] and "on hold" in update_call["text"]
    assert len(fake_slack.channel_messages()) == 1


def dedup_key(runtime: Runtime, topic: str) -> str:
    with runtime.db.unit_of_work() as session:
        query = select(OutboxMessage.dedup_key).where(OutboxMessage.topic == topic)
        return str(session.scalar(query))


def test_thread_reply_slack_took_before_the_crash_is_posted_once(
    runtime: Runtime, restarted: Runtime, fake_slack: FakeSlack, policy
) -> None:
    number = alert_in_window(runtime, policy)
    assert drain(runtime).delivered == 1
    ref = str(alert_ref(runtime, number))
    with runtime.db.unit_of_work() as session:
        services.hold(session, number, STAFF, "address check")

    deliver_then_die(runtime)
    assert len(fake_slack.thread_replies(ref)) == 1
    assert drain(restarted).delivered == 1 and undelivered(restarted) == 0

    [reply] = fake_slack.thread_replies(ref)
    assert "address check" in reply["text"] or "hold" in reply["text"]
    assert len(fake_slack.channel_messages()) == 1  # still just the alert
    assert fake_slack.calls_to("conversations.replies")[-1].params["ts"] == ref.split(":")[1]


def test_daily_summary_and_chart_slack_took_before_the_crash_are_posted_once(
    runtime: Runtime, restarted: Runtime, fake_slack: FakeSlack, policy
) -> None:
    received_order(runtime.db, policy)
    assert enqueue_daily_summary(runtime.db, runtime.settings)

    deliver_then_die(runtime)
    assert drain(restarted).delivered == 1

    texts = [m["text"] for m in fake_slack.channel_messages()]
    charts = [m for m in fake_slack.channel_messages() if m.get("files")]
    assert sum("Daily summary" in t for t in texts) == 1
    assert len(charts) == 1 and charts[0]["files"][0]["name"].startswith("orders-")
    assert len(fake_slack.calls_to("files.completeUploadExternal")) == 1


def test_previews_shared_before_the_crash_are_not_shared_again(
    runtime: Runtime, restarted: Runtime, fake_slack: FakeSlack, policy, tmp_path: Path
) -> None:
    number = alert_in_window(runtime, policy)
    drain(runtime)
    ref = str(alert_ref(runtime, number))
    files = []
    for index in (1, 2):
        files.append(tmp_path / f"line-{index}-r001-abc-preview.jpg")
        Image.new("RGB", (20, 20), "navy").save(files[-1])
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, number)
        queue_previews(session, order, "maria edited the order; new preview:", files, key="v1")

    deliver_then_die(runtime)
    assert drain(restarted).delivered == 1

    replies = fake_slack.thread_replies(ref)
    shared = [f["name"] for m in replies for f in m.get("files") or []]
    assert sorted(shared) == [f.name for f in files]
    assert sum("new preview" in (m.get("text") or "") for m in replies) == 1


def test_first_attempt_posts_without_reading_history(
    runtime: Runtime, fake_slack: FakeSlack, policy
) -> None:
    alert_in_window(runtime, policy)
    assert drain(runtime).delivered == 1
    assert fake_slack.calls_to("conversations.history") == []
    assert fake_slack.calls_to("chat.postMessage")[0].params["metadata"]["event_type"] == (
        "podops_message"
    )


def test_fake_history_returns_metadata_only_when_asked(fake_slack: FakeSlack) -> None:
    client = WebClient(token="xoxb-test", base_url=fake_slack.api_url)
    meta = {"event_type": "podops_message", "event_payload": {"key": "k1"}}
    posted = client.chat_postMessage(channel="#orders", text="hello", metadata=meta)
    client.chat_postMessage(channel="#orders", text="reply", thread_ts=posted["ts"])

    plain = client.conversations_history(channel="C0ORDERS")
    full = client.conversations_history(channel="C0ORDERS", include_all_metadata=True)
    thread = client.conversations_replies(channel="C0ORDERS", ts=posted["ts"])

    assert [m["text"] for m in plain["messages"]] == ["hello"]  # replies stay in the thread
    assert "metadata" not in plain["messages"][0]
    assert full["messages"][0]["metadata"] == meta
    assert [m["text"] for m in thread["messages"]] == ["hello", "reply"]
    for call, error in [
        (lambda: client.conversations_history(channel="#orders"), "channel_not_found"),
        (lambda: client.conversations_replies(channel="C0ORDERS", ts="1.0"), "thread_not_found"),
        (
            lambda: WebClient(
                token="xoxb-wrong", base_url=fake_slack.api_url
            ).conversations_history(channel="C0ORDERS"),
            "invalid_auth",
        ),
    ]:
        with pytest.raises(Exception) as refused:
            call()
        assert refused.value.response["error"] == error  # type: ignore[attr-defined]


def test_fake_history_pages_with_a_cursor(fake_slack: FakeSlack) -> None:
    client = WebClient(token="xoxb-test", base_url=fake_slack.api_url)
    for index in range(5):
        client.chat_postMessage(channel="C0ORDERS", text=f"m{index}")
    first = client.conversations_history(channel="C0ORDERS", limit=2)
    cursor = first["response_metadata"]["next_cursor"]
    rest = client.conversations_history(channel="C0ORDERS", limit=10, cursor=cursor)
    assert first["has_more"] and [m["text"] for m in first["messages"]] == ["m4", "m3"]
    assert [m["text"] for m in rest["messages"]] == ["m2", "m1", "m0"] and not rest["has_more"]
