"""`/order` over real HTTP: signed requests into the web server, answers through
the fake Slack's response_url, and the database as the judge."""

from __future__ import annotations

import time

from sqlalchemy import select

from podops import services
from podops.models import Event
from podops.runtime.root import Runtime
from podops.status import OrderStatus
from tests.bot.conftest import FakeSubmission, SlackSender, snapshot, wait_for
from tests.factories import received_order, submitted_order
from tests.fakes.slack import FakeSlack


def reply_text(fake: FakeSlack, count: int = 1) -> str:
    wait_for(lambda: len(fake.responses) >= count)
    return str(fake.responses[count - 1]["text"])


def status_of(runtime: Runtime, number: str) -> OrderStatus:
    with runtime.db.unit_of_work() as session:
        return OrderStatus(services.get_order(session, number).status)


def test_hold_is_acknowledged_fast_and_audited_with_the_slack_user(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, policy
) -> None:
    number = received_order(runtime.db, policy)
    started = time.monotonic()
    response = slack.command(f"hold #{number} customer asked to wait")
    assert response.status_code == 200
    assert time.monotonic() - started < 3
    assert "on hold" in reply_text(fake_slack)
    assert fake_slack.responses[0]["response_type"] == "ephemeral"
    assert status_of(runtime, number) == OrderStatus.ON_HOLD
    with runtime.db.unit_of_work() as session:
        event = session.scalars(select(Event).where(Event.action == "hold")).one()
        assert (event.actor, event.channel) == ("slack:U1 (maria)", "slack")
        assert event.detail["reason"] == "customer asked to wait"


def test_forged_and_stale_requests_are_refused_and_change_nothing(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, policy
) -> None:
    number = received_order(runtime.db, policy)
    before = snapshot(runtime.db)
    forged = slack.command(f"cancel {number} fraud", secret="not-the-secret")
    stale = slack.command(f"cancel {number} fraud", timestamp=int(time.time()) - 6 * 60)
    assert (forged.status_code, stale.status_code) == (401, 401)
    time.sleep(0.3)
    assert fake_slack.responses == []
    assert snapshot(runtime.db) == before


def test_a_retried_command_is_applied_once(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, policy
) -> None:
    number = received_order(runtime.db, policy)
    first = slack.command(f"hold {number}", trigger="trig.same")
    again = slack.command(f"hold {number}", trigger="trig.same", retry=1)
    assert (first.status_code, again.status_code) == (200, 200)
    reply_text(fake_slack)
    time.sleep(0.4)
    assert len(fake_slack.responses) == 1
    with runtime.db.unit_of_work() as session:
        holds = session.scalars(select(Event).where(Event.action == "hold")).all()
    assert len(holds) == 1


def test_unknown_order_gets_a_private_reason_and_nothing_changes(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, policy
) -> None:
    received_order(runtime.db, policy, number="10001")
    before = snapshot(runtime.db)
    slack.command("cancel 10002 out of stock")
    text = reply_text(fake_slack)
    assert "no order 10002" in text and "10001" in text  # with the suggestion
    assert snapshot(runtime.db) == before


def test_malformed_arguments_are_answered_in_the_ack_with_usage(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, policy
) -> None:
    number = received_order(runtime.db, policy)
    before = snapshot(runtime.db)
    for text in (f"track {number} UPS", f"track {number} UPS 1Z9 TEE x", "hold", "show 12 34"):
        answer = slack.command(text)
        assert answer.status_code == 200
        assert "Usage: `/order" in answer.json()["text"], text
    assert snapshot(runtime.db) == before


def test_unknown_subcommand_shows_help(slack: SlackSender) -> None:
    answer = slack.command("frobnicate 12").json()
    text = answer["blocks"][0]["text"]["text"]
    assert "I don't know `frobnicate`" in text and "/order submit 1234" in text


def test_a_command_mentioning_payload_is_still_a_command(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, policy
) -> None:
    """Bolt read any form body containing "payload" as an empty interaction (404)."""
    number = received_order(runtime.db, policy)
    answer = slack.command(f"hold {number} payload missing from the file")
    assert answer.status_code == 200
    assert "is on hold" in reply_text(fake_slack)
    assert status_of(runtime, number) == OrderStatus.ON_HOLD


def test_user_without_permission_is_refused_privately(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, policy
) -> None:
    number = received_order(runtime.db, policy)
    before = snapshot(runtime.db)
    fake_slack.groups["S0MANAGERS"] = ["U7"]
    refused = slack.command(f"cancel {number} nope", user="U9", name="eve").json()
    assert "not allowed" in refused["text"]
    assert snapshot(runtime.db) == before
    slack.command(f"cancel {number} duplicate order", user="U7", name="sam")
    assert "is cancelled" in reply_text(fake_slack)
    assert status_of(runtime, number) == OrderStatus.CANCELLED
    assert len(fake_slack.calls_to("usergroups.users.list")) == 1


def test_show_and_find(runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, policy) -> None:
    number = submitted_order(runtime.db, policy)
    slack.command(f"track {number} UPS 1Z999AA10123456784 TEE-BLK-M 1")
    assert "has tracking UPS 1Z999AA10123456784" in reply_text(fake_slack)
    assert status_of(runtime, number) == OrderStatus.PARTIALLY_SHIPPED
    slack.command(f"show #{number}")
    wait_for(lambda: len(fake_slack.responses) >= 2)
    card = "\n".join(
        str(b.get("text", {}).get("text") or b.get("elements", [{}])[0].get("text", ""))
        for b in fake_slack.responses[1]["blocks"]
    )
    assert f"*Order {number}*" in card and "partially shipped" in card
    assert "https://www.ups.com/track?tracknum=1Z999AA10123456784" in card
    assert "ANA" in card  # personalization of the items
    slack.command("find smith")
    wait_for(lambda: len(fake_slack.responses) >= 3)
    assert f"*{number}*" in fake_slack.responses[2]["blocks"][0]["text"]["text"]


def test_submit_goes_through_the_submission_service(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, policy
) -> None:
    number = received_order(runtime.db, policy)
    fake = FakeSubmission(runtime.db)
    runtime.__dict__["submission"] = fake
    slack.command(f"submit {number}")
    assert "was sent to manual" in reply_text(fake_slack)
    assert fake.calls == [number]
    assert status_of(runtime, number) == OrderStatus.SUBMITTED
    slack.command(f"submit {number}")
    assert "submitted" in reply_text(fake_slack, 2)  # a second submit is refused in words


def test_summary_and_help(slack: SlackSender, fake_slack: FakeSlack) -> None:
    assert "/order find smith" in str(slack.command("help").json())
    slack.command("summary")
    wait_for(lambda: fake_slack.responses)
    assert "Daily summary" in fake_slack.responses[0]["blocks"][0]["text"]["text"]
