"""Holding an order that is already held keeps it held and records the new reason,
instead of refusing: where it was and the time it had left stay as the first
hold kept them, the reasons are listed newest first, staff hear of it, and a
staff reason given over the shop's own hold is not undone by the shop."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from podops import queries, services
from podops.db import Database
from podops.errors import DomainRefusal
from podops.events import EventName
from podops.models import OutboxMessage
from podops.outbox import Topic
from podops.routing import ShopPolicy
from podops.services.store_changes import apply_store_update
from podops.status import OrderStatus
from tests.factories import STAFF, SYSTEM, incoming, received_order


def test_a_second_hold_adds_its_reason_and_keeps_the_first_holds_place(
    db: Database, policy: ShopPolicy
) -> None:
    number = received_order(db, policy)
    with db.unit_of_work() as session:
        services.hold(session, number, STAFF, "address check")
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        first = (order.held_from, order.hold_remaining_s)
        services.hold(session, number, STAFF, " customer  asked to wait ")
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        assert order.status == OrderStatus.ON_HOLD
        assert (order.held_from, order.hold_remaining_s) == first
        assert order.hold_reason == "customer asked to wait; address check"
        timeline = queries.timeline(session, order)
        added = timeline[-1]
        assert (added.action, added.detail, added.from_status) == (
            EventName.HOLD_REASON,
            {"reason": "customer asked to wait"},
            None,
        )
        notices = session.scalars(
            select(OutboxMessage.dedup_key).where(OutboxMessage.topic == Topic.NOTIFY)
        ).all()
        assert f"notify:event:{added.id}" in notices


def test_a_hold_that_adds_nothing_is_refused_and_writes_nothing(
    db: Database, policy: ShopPolicy
) -> None:
    number = received_order(db, policy)
    with db.unit_of_work() as session:
        services.hold(session, number, STAFF, "address check")
    for again in ("address check", "", "  "):
        with (
            db.unit_of_work() as session,
            pytest.raises(DomainRefusal, match=f"order {number} is already on hold: address check"),
        ):
            services.hold(session, number, STAFF, again)
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        assert order.hold_reason == "address check"
        assert [e.action for e in queries.timeline(session, order)][-1] == EventName.HOLD
        services.release(session, number, STAFF)
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        assert (order.status, order.hold_reason) == (OrderStatus.PENDING, None)


def test_a_staff_reason_over_the_shops_hold_is_not_undone_by_the_shop(
    db: Database, policy: ShopPolicy
) -> None:
    number = received_order(db, policy, store_status="processing")
    shop = {"processing"}
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        apply_store_update(session, order, incoming(number, store_status="on-hold"), SYSTEM, shop)
    with db.unit_of_work() as session:
        services.hold(session, number, STAFF, "customer asked to wait")
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        back = incoming(number, store_status="processing")
        apply_store_update(session, order, back, SYSTEM, shop)
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        assert order.status == OrderStatus.ON_HOLD
        assert order.hold_reason is not None
        assert order.hold_reason.startswith("customer asked to wait; the shop set it to")
