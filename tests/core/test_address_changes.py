"""Address changes and holds (`services.address`): the hold intake made for "no shipping
address" ends once the address is complete and nothing else holds the order; a
person's hold stays; orders that are (or may be) at a provider are refused here."""

from __future__ import annotations

import pytest

from podops import services
from podops.db import Database
from podops.errors import ConcurrentModification, OrderLocked
from podops.events import Actor, Channel
from podops.incoming import IncomingLineItem
from podops.routing import ShopPolicy
from podops.status import OrderStatus
from tests.factories import STAFF, SYSTEM, received_order

FULL = {"name": "Ana Smith", "line1": "12 Main St", "city": "Springfield", "state": "IL",
        "postcode": "62701", "country": "US"}  # fmt: skip


def state(db: Database, number: str) -> tuple[OrderStatus, str | None, list[str]]:
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        return OrderStatus(order.status), order.hold_reason, list(order.problems)


def change(db: Database, number: str, typed: dict[str, str]) -> None:
    with db.unit_of_work() as session:
        services.change_address(session, number, typed, STAFF)


def test_a_persons_hold_stays_and_only_the_fixed_problem_leaves_its_reason(
    db: Database, policy: ShopPolicy
) -> None:
    number = received_order(db, policy, shipping_address={})
    with db.unit_of_work() as session:
        services.hold(session, number, STAFF, "customer will call back")
    change(db, number, FULL)
    status, reason, problems = state(db, number)
    assert status == OrderStatus.ON_HOLD and problems == []
    assert reason == "customer will call back"


def test_intakes_hold_stays_for_the_problems_the_address_does_not_fix(
    db: Database, policy: ShopPolicy
) -> None:
    odd = [IncomingLineItem("x-1", "HAT-RED", "Hat", 1)]
    number = received_order(db, policy, shipping_address={}, items=odd)
    assert state(db, number)[1] == (
        "needs attention: no shipping address; line 1: no routing rule for SKU HAT-RED"
    )
    change(db, number, FULL)
    status, reason, problems = state(db, number)
    assert status == OrderStatus.ON_HOLD
    assert reason == "needs attention: line 1: no routing rule for SKU HAT-RED"
    assert problems == ["line 1: no routing rule for SKU HAT-RED"]


def test_orders_at_or_on_their_way_to_a_provider_are_refused_here(
    db: Database, policy: ShopPolicy
) -> None:
    number = received_order(db, policy)
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        for item in order.items:
            item.provider = "cc"  # setup: the order goes to CustomCat
        services.begin_submit(session, order, services.plan_fulfillments(session, order), SYSTEM)
    with pytest.raises(ConcurrentModification, match="being sent to cc right now"):
        change(db, number, {"line2": "Apt 4"})
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        part = order.parts[0]
        services.mark_submit_failed(session, order, part, SYSTEM, reason="timeout", retryable=True)
    with pytest.raises(OrderLocked, match="may already be at cc"):
        change(db, number, {"line2": "Apt 4"})
    assert state(db, number)[0] == OrderStatus.SUBMIT_FAILED


def test_the_shops_old_address_is_kept_aside_once_staff_change_ours(
    db: Database, policy: ShopPolicy
) -> None:
    number = received_order(db, policy)
    change(db, number, {"line2": "Apt 4", "phone": "+1 217 555 0199"})
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        assert order.store_address is not None and order.store_address["address_2"] == ""
        assert order.shipping_address["address_2"] == "Apt 4"
        assert order.customer_phone == "+1 217 555 0199"  # what providers are sent
    sheet = Actor("sheet", Channel.SHEET)
    with db.unit_of_work() as session:
        assert services.change_address(session, number, {"line2": "Apt 4"}, sheet).empty
