"""What `/order` answers is what happened, said once: the status is named once,
a second hold adds its reason (and the card shows it), a cancel without a reason
is answered with the usage before anything is looked up."""

from __future__ import annotations

from sqlalchemy import select

from podops import services
from podops.models import Event
from podops.runtime.root import Runtime
from podops.status import OrderStatus
from tests.bot.conftest import SlackSender, snapshot, wait_for
from tests.bot.test_commands_http import reply_text, status_of
from tests.factories import received_order, submitted_order
from tests.fakes.slack import FakeSlack


def _card_text(fake: FakeSlack, index: int) -> str:
    wait_for(lambda: len(fake.responses) > index)
    return "\n".join(
        str(b.get("text", {}).get("text") or b.get("elements", [{}])[0].get("text", ""))
        for b in fake.responses[index]["blocks"]
    )


def test_holding_a_held_order_adds_the_reason_and_says_the_status_once(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, policy
) -> None:
    number = received_order(runtime.db, policy)
    slack.command(f"hold {number} customer asked to wait")
    assert reply_text(fake_slack) == f"Order {number} is on hold: customer asked to wait."
    slack.command(f"hold {number} address check")
    assert reply_text(fake_slack, 2) == (
        f"Order {number} is on hold: address check; customer asked to wait."
    )
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, number)
        assert order.status == OrderStatus.ON_HOLD
        actions = session.scalars(select(Event.action).where(Event.order_id == order.id)).all()
    assert actions.count("hold") == 1 and actions.count("hold_reason") == 1
    slack.command(f"show {number}")
    card = _card_text(fake_slack, 2)
    assert "held: address check; customer asked to wait" in card
    assert "maria gave another reason to hold order" in card


def test_cancel_says_cancelled_once(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, policy
) -> None:
    number = received_order(runtime.db, policy)
    slack.command(f"cancel {number} duplicate order")
    assert reply_text(fake_slack) == f"Order {number} is cancelled."


def test_cancel_without_a_reason_gets_the_usage_and_changes_nothing(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, policy
) -> None:
    number = received_order(runtime.db, policy)
    before = snapshot(runtime.db)
    answer = slack.command(f"cancel {number}").json()["text"]
    assert f"say why order {number} is cancelled" in answer
    assert "Usage: `/order cancel 1234 REASON`" in answer
    assert snapshot(runtime.db) == before


def test_help_lists_the_reason_a_cancel_needs(slack: SlackSender) -> None:
    text = slack.command("help").json()["blocks"][0]["text"]["text"]
    assert "`/order cancel 1234 REASON`" in text and "`/order hold 1234 [REASON]`" in text


def test_track_warns_when_another_order_has_the_number(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, policy
) -> None:
    first, second = submitted_order(runtime.db, policy), submitted_order(runtime.db, policy)
    slack.command(f"track {first} UPS 1Z999AA10123456784")
    assert reply_text(fake_slack) == f"Order {first} has tracking UPS 1Z999AA10123456784 (shipped)."
    slack.command(f"track {second} UPS 1Z999AA10123456784")
    assert reply_text(fake_slack, 2) == (
        f"Order {second} has tracking UPS 1Z999AA10123456784 (shipped). :warning: tracking "
        f"1Z999AA10123456784 is also on order {first}: one parcel for several orders, or a typo?"
    )
    assert status_of(runtime, second) == OrderStatus.SHIPPED
    slack.command(f"show {second}")  # the card's timeline (and the thread's notice) says it too
    assert f"is also on order {first}: one parcel for several orders" in _card_text(fake_slack, 2)
