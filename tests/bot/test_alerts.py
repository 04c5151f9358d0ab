"""Countdown alerts: one message per order, kept up to date, events threaded
under it, paced and retried through the outbox so nothing is lost."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from podops import reports, services
from podops.models import Order, OutboxMessage, utcnow
from podops.runtime.root import Runtime
from sync.console_notifier import ConsoleNotifier, card_text
from sync.notify_job import drain, scan_alerts
from tests.factories import STAFF, SYSTEM, received_order
from tests.fakes.slack import FakeSlack


def submit_at(runtime: Runtime, number: str):  # type: ignore[no-untyped-def]
    with runtime.db.unit_of_work() as session:
        return services.get_order(session, number).submit_at


def alert_ref(runtime: Runtime, number: str) -> str | None:
    with runtime.db.unit_of_work() as session:
        return services.get_order(session, number).alert_ref


def make_due_now(runtime: Runtime) -> None:
    """Let the outbox retry at once instead of after its back-off."""
    with runtime.db.unit_of_work() as session:
        session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))


def test_alert_is_posted_once_then_updated_with_events_in_its_thread(
    runtime: Runtime, fake_slack: FakeSlack, policy
) -> None:
    number = received_order(runtime.db, policy)
    later = received_order(runtime.db, policy, placed_at=utcnow())
    now = submit_at(runtime, number) - timedelta(minutes=30)
    assert scan_alerts(runtime, now) == 1  # the other order is outside the window
    assert drain(runtime).delivered == 1
    posted = fake_slack.calls_to("chat.postMessage")[0].params
    assert posted["channel"] == "#orders" and f"Order {number}" in posted["text"]
    buttons = [e["text"]["text"] for e in posted["blocks"][-1]["elements"]]
    assert buttons == ["Submit now", "Hold", "Edit", "Cancel"]
    channel, ts = str(alert_ref(runtime, number)).split(":")
    assert channel == "C0ORDERS"
    assert scan_alerts(runtime, now) == 0 and alert_ref(runtime, later) is None

    with runtime.db.unit_of_work() as session:
        services.hold(session, number, STAFF, "address check")
    drain(runtime)
    updated = fake_slack.calls_to("chat.update")[-1].params
    assert (updated["channel"], updated["ts"]) == (channel, ts)
    assert "on hold" in updated["text"]
    assert [e["text"]["text"] for e in updated["blocks"][-1]["elements"]] == [
        "Release",
        "Edit",
        "Cancel",
    ]
    reply = fake_slack.calls_to("chat.postMessage")[-1].params
    assert reply["thread_ts"] == ts and "maria put order" in reply["text"]
    assert (
        len([c for c in fake_slack.calls_to("chat.postMessage") if "thread_ts" not in c.params])
        == 1
    )


@pytest.mark.slow
def test_rate_limit_and_outage_delay_but_lose_nothing(
    runtime: Runtime, fake_slack: FakeSlack, policy
) -> None:
    number = received_order(runtime.db, policy)
    now = submit_at(runtime, number)
    scan_alerts(runtime, now)
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=1)
    assert drain(runtime).delivered == 1  # waited Retry-After once, then posted
    assert len(fake_slack.calls_to("chat.postMessage")) == 2

    with runtime.db.unit_of_work() as session:
        services.hold(session, number, STAFF, "")
    fake_slack.fail_next("chat.update", status=503, error="service_unavailable", count=2)
    report = drain(runtime)
    assert (report.delivered, report.retried) == (0, 1)
    make_due_now(runtime)
    assert drain(runtime).retried == 1
    make_due_now(runtime)
    assert drain(runtime).delivered == 1
    with runtime.db.unit_of_work() as session:
        messages = session.scalars(select(OutboxMessage)).all()
        assert all(m.delivered_at is not None for m in messages)


def test_problem_without_alert_is_posted_in_the_channel(
    runtime: Runtime, fake_slack: FakeSlack, policy
) -> None:
    number = received_order(runtime.db, policy)
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, number)
        services.begin_submit(session, order, services.plan_fulfillments(session, order), SYSTEM)
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, number)
        services.mark_submit_failed(
            session, order, order.parts[0], SYSTEM, reason="provider said 422"
        )
    drain(runtime)
    texts = [c.params["text"] for c in fake_slack.calls_to("chat.postMessage")]
    assert texts == [f"sending order {number} to manual failed: provider said 422"]


def test_console_notifier_prints_the_same_alert(runtime: Runtime, policy) -> None:
    stream = io.StringIO()
    runtime.__dict__["notifier"] = ConsoleNotifier(stream)
    number = received_order(runtime.db, policy)
    scan_alerts(runtime, submit_at(runtime, number))
    drain(runtime)
    with runtime.db.unit_of_work() as session:
        services.cancel(session, number, STAFF, "customer changed mind")
    drain(runtime)
    text = stream.getvalue()
    assert f"ALERT Order {number} (main) is pending" in text
    assert f"actions: podops submit {number}, podops hold {number}" in text
    assert f"maria cancelled order {number}: customer changed mind (re console:1)" in text
    with runtime.db.unit_of_work() as session:
        assert session.scalar(select(Order.alert_ref)) == "console:1"


def test_a_deleted_alert_is_posted_again_and_events_keep_flowing(
    runtime: Runtime, fake_slack: FakeSlack, policy
) -> None:
    number = received_order(runtime.db, policy)
    scan_alerts(runtime, submit_at(runtime, number))
    drain(runtime)
    first = str(alert_ref(runtime, number))
    fake_slack.delete_message(first)  # someone tidied the channel

    with runtime.db.unit_of_work() as session:
        services.hold(session, number, STAFF, "address check")
    report = drain(runtime)
    assert (report.delivered, report.retried, report.dead) == (1, 0, 0)
    fresh = str(alert_ref(runtime, number))
    assert fresh != first
    [alert] = [m for m in fake_slack.channel_messages() if m["ts"] == fresh.split(":")[1]]
    assert "on hold" in alert["text"]
    assert ["maria put order" in r["text"] for r in fake_slack.thread_replies(fresh)] == [True]

    with runtime.db.unit_of_work() as session:
        services.release(session, number, STAFF)
    assert drain(runtime).delivered == 1  # later events reach the fresh alert too
    assert len(fake_slack.thread_replies(fresh)) == 2


def test_events_of_a_submitted_order_whose_alert_was_deleted_go_to_the_channel(
    runtime: Runtime, fake_slack: FakeSlack, policy
) -> None:
    number = received_order(runtime.db, policy)
    scan_alerts(runtime, submit_at(runtime, number))
    drain(runtime)
    fake_slack.delete_message(str(alert_ref(runtime, number)))
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, number)
        services.begin_submit(session, order, services.plan_fulfillments(session, order), SYSTEM)
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, number)
        services.mark_submitted(session, order, order.parts[0], SYSTEM, provider_order_id="M-1")
    report = drain(runtime)
    assert report.dead == 0 and report.retried == 0
    assert alert_ref(runtime, number) is None
    texts = [m["text"] for m in fake_slack.channel_messages()]
    assert any(f"order {number} was sent to manual" in t for t in texts)


def test_console_actions_are_commands_that_run(runtime: Runtime, policy) -> None:
    number = received_order(runtime.db, policy)
    with runtime.db.unit_of_work() as session:
        services.flag_design(session, number, STAFF, "photo too small")
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, number)
        card = reports.order_card(session, order)
    text = card_text(card)
    assert f"podops edit {number} --line N FIELD=VALUE" in text
    assert f'podops cancel {number} --reason "..."' in text
