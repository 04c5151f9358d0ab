"""Hold, release, cancel, edit, tracking: what staff see happen, and what is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from podops import queries, services
from podops.db import Database
from podops.errors import (
    ConcurrentModification,
    IllegalTransition,
    InvalidInput,
    OrderLocked,
    OrderNotFound,
)
from podops.models import Order, OutboxMessage
from podops.outbox import Topic
from podops.routing import ShopPolicy
from podops.services import orders as orders_service
from podops.services.shipping import DuplicateTracking, ShipLine
from podops.status import OrderStatus
from tests.factories import STAFF, received_order, shipped_order, submitted_order


def test_hold_and_release_are_audited_with_the_person(db: Database, policy: ShopPolicy) -> None:
    number = received_order(db, policy)
    with db.unit_of_work() as session:
        services.hold(session, number, STAFF, "  customer   emailed ")
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        assert order.status == OrderStatus.ON_HOLD
        assert order.hold_reason == "customer emailed"
        services.release(session, number, STAFF)
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        events = queries.timeline(session, order)
        assert [(e.action, e.actor, e.channel) for e in events[1:]] == [
            ("hold", "slack:U1 (maria)", "slack"),
            ("release", "slack:U1 (maria)", "slack"),
        ]
        assert events[1].detail == {"reason": "customer emailed"}


def test_cancel_needs_a_reason_and_tells_the_store(db: Database, policy: ShopPolicy) -> None:
    number = received_order(db, policy)
    with db.unit_of_work() as session, pytest.raises(InvalidInput, match="say why"):
        services.cancel(session, number, STAFF, "   ")
    with db.unit_of_work() as session:
        services.cancel(session, number, STAFF, "out of stock")
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        assert order.status == OrderStatus.CANCELLED
        topics = set(session.scalars(select(OutboxMessage.topic)))
        assert topics == {Topic.STORE_STATUS, Topic.NOTIFY}


def test_cancel_after_shipping_is_refused_in_words(db: Database, policy: ShopPolicy) -> None:
    number = shipped_order(db, policy)
    with db.unit_of_work() as session, pytest.raises(IllegalTransition) as caught:
        services.cancel(session, number, STAFF, "changed mind")
    assert str(caught.value) == f"order {number} is shipped; it can no longer be cancelled"
    with db.unit_of_work() as session:
        assert services.get_order(session, number).status == OrderStatus.SHIPPED


def test_cancel_after_submission_asks_the_provider(db: Database, policy: ShopPolicy) -> None:
    number = submitted_order(db, policy)
    with db.unit_of_work() as session:
        services.cancel(session, number, STAFF, "wrong size")
    with db.unit_of_work() as session:
        assert services.get_order(session, number).status == OrderStatus.CANCEL_REQUESTED


def test_refused_action_changes_nothing(db: Database, policy: ShopPolicy) -> None:
    number = shipped_order(db, policy)
    with db.unit_of_work() as session:
        before = len(queries.timeline(session, services.get_order(session, number)))
    with pytest.raises(IllegalTransition), db.unit_of_work() as session:
        services.hold(session, number, STAFF, "late")
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        assert len(queries.timeline(session, order)) == before
        assert order.hold_reason is None


def test_edit_personalization_marks_print_file_stale(db: Database, policy: ShopPolicy) -> None:
    number = received_order(db, policy)
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        order.items[0].print_file = "r1.png"
        order.items[0].print_file_current = True
    with db.unit_of_work() as session:
        services.edit_personalization(session, number, 1, {"name": " ANNA "}, STAFF)
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        assert order.items[0].personalization == {"name": "ANNA"}
        assert order.items[0].print_file_current is False
        event = queries.timeline(session, order)[-1]
        assert event.action == "edit_personalization"
        assert event.detail["old"] == {"name": "ANA"}


def test_design_is_locked_after_submission(db: Database, policy: ShopPolicy) -> None:
    number = submitted_order(db, policy)
    with db.unit_of_work() as session, pytest.raises(OrderLocked, match="can no longer be changed"):
        services.edit_personalization(session, number, 1, {"name": "X"}, STAFF)


def test_overlong_personalization_is_refused(db: Database, policy: ShopPolicy) -> None:
    number = received_order(db, policy)
    with db.unit_of_work() as session, pytest.raises(InvalidInput, match="10000 characters"):
        services.edit_personalization(session, number, 1, {"name": "x" * 10_000}, STAFF)


def test_partial_then_full_shipment(db: Database, policy: ShopPolicy) -> None:
    number = submitted_order(db, policy)
    with db.unit_of_work() as session:
        shipment = services.record_tracking(
            session, number, "ups ground", "1z999aa1 0123456784", STAFF, lines=[ShipLine(1, 1)]
        )
        assert shipment.carrier == "UPS"
        assert shipment.tracking_url == "https://www.ups.com/track?tracknum=1Z999AA10123456784"
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        assert order.status == OrderStatus.PARTIALLY_SHIPPED
        assert [i.quantity_shipped for i in order.items] == [1, 0]
        services.record_tracking(session, number, "USPS", "9400111899223817554567", STAFF)
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        assert order.status == OrderStatus.SHIPPED
        assert [i.quantity_open for i in order.items] == [0, 0]
        keys = set(session.scalars(select(OutboxMessage.dedup_key)))
        assert f"store.status:{order.id}:completed" in keys
        services.complete(session, number, STAFF)
    with db.unit_of_work() as session:
        assert services.get_order(session, number).status == OrderStatus.COMPLETED


def test_same_tracking_twice_is_refused(db: Database, policy: ShopPolicy) -> None:
    number = submitted_order(db, policy)
    with db.unit_of_work() as session:
        services.record_tracking(
            session, number, "UPS", "1Z999AA10123456784", STAFF, lines=[ShipLine(1, 1)]
        )
    with db.unit_of_work() as session, pytest.raises(DuplicateTracking, match="already recorded"):
        services.record_tracking(session, number, "UPS", "1Z999AA10123456784", STAFF)


def test_shipping_more_than_ordered_is_refused(db: Database, policy: ShopPolicy) -> None:
    number = submitted_order(db, policy)
    with db.unit_of_work() as session, pytest.raises(InvalidInput, match="2 unit\\(s\\) left"):
        services.record_tracking(
            session, number, "UPS", "1Z999AA10123456784", STAFF, lines=[ShipLine("TEE-BLK-M", 3)]
        )


def test_unknown_order_suggests_a_close_one(db: Database, policy: ShopPolicy) -> None:
    received_order(db, policy, number="12345")
    with db.unit_of_work() as session, pytest.raises(OrderNotFound) as caught:
        services.get_order(session, "12354")
    assert str(caught.value) == "no order 12354 (did you mean 12345?)"


def test_stale_write_is_refused_not_lost(db: Database, policy: ShopPolicy) -> None:
    number = received_order(db, policy)
    with db.unit_of_work() as session:
        stale = services.get_order(session, number)
    with db.unit_of_work() as session:
        services.hold(session, number, STAFF, "first writer")
    with pytest.raises(ConcurrentModification), db.unit_of_work() as session:
        session.add(stale)
        stale.note = "second writer, from an old copy"
    with db.unit_of_work() as session:
        order = session.scalars(select(Order)).one()
        assert (order.status, order.note) == (OrderStatus.ON_HOLD, "")


def test_release_returns_a_needs_design_order_to_design_work(
    db: Database, policy: ShopPolicy
) -> None:
    """Holding and releasing a flagged order must not put the flagged design in the
    countdown (it would be sent to the provider at the next tick)."""
    number = received_order(db, policy)
    with db.unit_of_work() as session:
        services.flag_design(session, number, STAFF, "photo is blurry")
    with db.unit_of_work() as session:
        services.hold(session, number, STAFF, "waiting for the customer")
    with db.unit_of_work() as session:
        services.release(session, number, STAFF)
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        assert order.status == OrderStatus.NEEDS_DESIGN
        far_future = order.placed_at + timedelta(days=30)
        assert order not in queries.due_for_submission(session, far_future)
        assert queries.timeline(session, order)[-1].to_status == "needs_design"


def test_release_keeps_a_line_with_a_refused_print_file_out_of_the_countdown(
    db: Database, policy: ShopPolicy
) -> None:
    number = received_order(db, policy)
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        order.items[0].problems = ["print file: the name is too long for the mug"]
        services.hold(session, number, STAFF, "checking")
    with db.unit_of_work() as session:
        assert services.release(session, number, STAFF).status == OrderStatus.NEEDS_DESIGN


def test_a_held_order_keeps_the_countdown_time_it_had_left(
    db: Database, policy: ShopPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Held with 10 minutes left, released a day later: it leaves 10 minutes after
    the release, not at the next tick."""
    number = received_order(db, policy)
    held_at = datetime.now(UTC)
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        order.submit_at = held_at + timedelta(minutes=10)
    with db.unit_of_work() as session:
        services.hold(session, number, STAFF, "customer emailed")
    released_at = held_at + timedelta(days=1)
    monkeypatch.setattr(orders_service, "utcnow", lambda: released_at)
    with db.unit_of_work() as session:
        services.release(session, number, STAFF)
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        assert order.status == OrderStatus.PENDING
        assert order.submit_at is not None
        left = order.submit_at - released_at
        assert timedelta(minutes=9) < left <= timedelta(minutes=10, seconds=1)
        assert order not in queries.due_for_submission(session, released_at + timedelta(minutes=1))
        assert order.hold_remaining_s is None and order.held_from is None


def test_an_order_held_after_its_countdown_ran_out_leaves_when_released(
    db: Database, policy: ShopPolicy
) -> None:
    number = received_order(db, policy)
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        order.submit_at = datetime.now(UTC) - timedelta(hours=3)
        services.hold(session, number, STAFF, "")
    with db.unit_of_work() as session:
        services.release(session, number, STAFF)
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        assert order in queries.due_for_submission(session, datetime.now(UTC))
        assert order.submit_at is not None
        assert order.submit_at > datetime.now(UTC) - timedelta(minutes=1)
