"""Receiving orders: idempotent, flagged rather than dropped, per-store countdown."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from podops import queries, services
from podops.db import Database
from podops.models import Event, LineItem, Order
from podops.routing import ShopPolicy
from podops.status import OrderStatus
from tests.factories import SYSTEM, incoming


def test_new_order_starts_its_countdown(db: Database, policy: ShopPolicy) -> None:
    order_in = incoming("5001")
    with db.unit_of_work() as session:
        services.receive_order(session, order_in, policy, SYSTEM)
    with db.unit_of_work() as session:
        order = services.get_order(session, "#5001")
        assert order.status == OrderStatus.PENDING
        assert order.submit_at == order_in.placed_at + timedelta(hours=24)
        assert [item.reference for item in order.items] == ["5001-01", "5001-02"]
        assert [item.product_key for item in order.items] == ["tee-front", "mug-11oz"]
        assert str(order.total) == "42.50"
        assert order.placed_at.tzinfo is not None
        [event] = queries.timeline(session, order)
        assert (event.action, event.to_status, event.actor) == ("receive", "pending", "test")


def test_receiving_the_same_order_twice_keeps_one(db: Database, policy: ShopPolicy) -> None:
    order_in = incoming("5002")
    for _ in range(3):
        with db.unit_of_work() as session:
            services.receive_orders(session, [order_in, order_in], policy, SYSTEM)
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 1
        assert session.scalar(select(func.count()).select_from(LineItem)) == 2
        assert session.scalar(select(func.count()).select_from(Event)) == 1


def test_each_store_has_its_own_countdown(db: Database, policy: ShopPolicy) -> None:
    first, second = incoming("77"), incoming("77", store="second")
    with db.unit_of_work() as session:
        services.receive_orders(session, [first, second], policy, SYSTEM)
    with db.unit_of_work() as session:
        main_order = services.get_order(session, "main:77")
        second_order = services.get_order(session, "second/77")
        assert main_order.submit_at - main_order.placed_at == timedelta(hours=24)
        assert second_order.submit_at - second_order.placed_at == timedelta(hours=2)


def test_order_without_address_is_kept_on_hold_with_the_reason(
    db: Database, policy: ShopPolicy
) -> None:
    with db.unit_of_work() as session:
        services.receive_order(session, incoming("5003", shipping_address={}), policy, SYSTEM)
    with db.unit_of_work() as session:
        order = services.get_order(session, "5003")
        assert order.status == OrderStatus.ON_HOLD
        assert order.problems == ["no shipping address"]
        assert order.hold_reason == "needs attention: no shipping address"


def test_unknown_sku_holds_its_line_while_the_others_go(db: Database, policy: ShopPolicy) -> None:
    order_in = incoming("5004")
    order_in.items[1].sku = "HAT-RED"
    with db.unit_of_work() as session:
        services.receive_order(session, order_in, policy, SYSTEM)
    with db.unit_of_work() as session:
        order = services.get_order(session, "5004")
        assert order.status == OrderStatus.PENDING  # the routed line's countdown runs
        assert order.items[1].problems == ["no routing rule for SKU HAT-RED"]
        assert order.items[1].provider is None and order.items[0].provider == "manual"
        assert order.problems == []


def test_an_order_no_line_of_which_can_be_routed_waits_for_staff(
    db: Database, policy: ShopPolicy
) -> None:
    order_in = incoming("5005")
    for item in order_in.items:
        item.sku = "HAT-RED"
    with db.unit_of_work() as session:
        services.receive_order(session, order_in, policy, SYSTEM)
    with db.unit_of_work() as session:
        order = services.get_order(session, "5005")
        assert order.status == OrderStatus.ON_HOLD
        assert "line 2: no routing rule for SKU HAT-RED" in order.problems


def test_outside_order_waits_for_design(db: Database, policy: ShopPolicy) -> None:
    with db.unit_of_work() as session:
        services.receive_order(session, incoming("A-1", needs_design=True), policy, SYSTEM)
    with db.unit_of_work() as session:
        assert services.get_order(session, "A-1").status == OrderStatus.NEEDS_DESIGN


def test_cancellation_in_the_store_cancels_an_order_not_yet_submitted(
    db: Database, policy: ShopPolicy
) -> None:
    order_in = incoming("5005")
    with db.unit_of_work() as session:
        services.receive_order(session, order_in, policy, SYSTEM)
    order_in.store_status = "cancelled"
    with db.unit_of_work() as session:
        result = services.receive_orders(session, [order_in], policy, SYSTEM)
        assert len(result.updated) == 1
    with db.unit_of_work() as session:
        order = services.get_order(session, "5005")
        assert order.status == OrderStatus.CANCELLED
        assert order.cancel_reason == "cancelled in the store"


def test_due_query_finds_only_pending_orders_past_their_time(
    db: Database, policy: ShopPolicy
) -> None:
    early, late = incoming("1"), incoming("2")
    late.placed_at = early.placed_at + timedelta(hours=5)
    with db.unit_of_work() as session:
        services.receive_orders(session, [early, late], policy, SYSTEM)
    with db.unit_of_work() as session:
        now = early.placed_at + timedelta(hours=26)
        assert [o.number for o in queries.due_for_submission(session, now)] == ["1"]
        services.hold(session, "1", SYSTEM)
    with db.unit_of_work() as session:
        assert queries.due_for_submission(session, now) == []
