"""An old order held at a store's first sync that the shop already fulfilled by hand:
`/order fulfilled` and the alert's "Already fulfilled" button record it as done."""

from __future__ import annotations

from sqlalchemy import select

from podops import reports, services
from podops.models import OutboxMessage
from podops.outbox import Topic
from podops.runtime.root import Runtime
from podops.services.new_orders import UNWATCHED_REASON
from podops.status import OrderStatus
from tests.bot.conftest import SlackSender, wait_for
from tests.factories import SYSTEM, received_order
from tests.fakes.slack import FakeSlack


def _first_sync_hold(runtime: Runtime, policy) -> str:  # type: ignore[no-untyped-def]
    number = received_order(runtime.db, policy)
    with runtime.db.unit_of_work() as session:
        services.hold(session, number, SYSTEM, UNWATCHED_REASON)
    return number


def _state(runtime: Runtime, number: str) -> tuple[OrderStatus, list[str]]:
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, number)
        topics = session.scalars(
            select(OutboxMessage.topic).where(OutboxMessage.order_id == order.id)
        )
        store = [t for t in topics if t in (Topic.STORE_STATUS, Topic.STORE_TRACKING)]
        return OrderStatus(order.status), store


def test_the_alert_of_a_first_sync_hold_offers_already_fulfilled(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, policy
) -> None:
    number = _first_sync_hold(runtime, policy)
    with runtime.db.unit_of_work() as session:
        card = reports.order_card(session, services.get_order(session, number))
    assert "fulfilled" in card.actions
    assert slack.button("fulfilled", f"main:{number}").status_code == 200
    wait_for(lambda: fake_slack.responses)
    assert "fulfilled by the shop; nothing was sent" in fake_slack.responses[0]["text"]
    assert _state(runtime, number) == (OrderStatus.COMPLETED, [])


def test_the_command_with_tracking_pushes_only_the_tracking(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, policy
) -> None:
    number = _first_sync_hold(runtime, policy)
    assert slack.command(f"fulfilled {number} UPS 1Z999AA10123456784").status_code == 200
    wait_for(lambda: fake_slack.responses)
    assert "only its tracking goes to the store" in fake_slack.responses[0]["text"]
    assert _state(runtime, number) == (OrderStatus.COMPLETED, [Topic.STORE_TRACKING])


def test_a_staff_hold_has_no_such_button(runtime: Runtime, policy) -> None:  # type: ignore[no-untyped-def]
    number = received_order(runtime.db, policy)
    with runtime.db.unit_of_work() as session:
        order = services.hold(session, number, SYSTEM, "customer asked to wait")
        assert "fulfilled" not in reports.order_card(session, order).actions
