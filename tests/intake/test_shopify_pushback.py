"""Tracking and holds back to a Shopify shop through its fulfillment orders."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from podops import services
from podops.db import Database
from podops.errors import StoreError
from podops.models import Event
from podops.ports.store import PushResult, TrackingPush
from providers.shopify_graphql import check_user_errors
from sync import pushback
from sync.intake import sync_one
from tests.factories import STAFF
from tests.fakes.shopify import FakeShopify
from tests.intake.shopify_setup import shopify_runtime, shopify_store

RELEASE = """mutation R($id: ID!) {
  fulfillmentOrderReleaseHold(id: $id) { userErrors { field message } }
}"""


@pytest.fixture
def shop() -> Iterator[FakeShopify]:
    with FakeShopify() as fake:
        yield fake


def _parcel(number: str, lines: tuple[tuple[str, int], ...] = ()) -> TrackingPush:
    return TrackingPush("DHL", number, "https://t.example/" + number, datetime.now(UTC), lines)


def test_a_parcel_of_some_lines_fulfils_just_those_with_shopify_carrier_name(
    shop: FakeShopify,
) -> None:
    order = shop.state.add_order(1001, lines=[{"quantity": 2}, {"sku": "MUG-1", "quantity": 1}])
    first = str(order["items"][0]["id"])
    store = shopify_store(shop, notify_customer=True)
    assert store.push_tracking(str(order["id"]), _parcel("JD1", ((first, 1),))) == PushResult.SENT
    [made] = order["fulfillments"]
    assert made["lines"] == [(order["items"][0]["id"], 1)]
    assert made["tracking"][0]["company"] == "DHL Express" and made["notify"] is True
    assert store.push_tracking(str(order["id"]), _parcel("JD2")) == PushResult.SENT
    assert sorted(made2[1] for made2 in order["fulfillments"][1]["lines"]) == [1, 1]
    assert order["fulfillmentOrders"][0]["status"] == "CLOSED"


def test_a_retry_after_a_lost_answer_never_records_the_parcel_twice(shop: FakeShopify) -> None:
    order = shop.state.add_order(1001)
    store = shopify_store(shop)
    shop.state.lose_answer.add("fulfillmentCreate")
    with pytest.raises(StoreError) as caught:
        store.push_tracking(str(order["id"]), _parcel("JD1"))
    assert caught.value.retryable
    assert store.push_tracking(str(order["id"]), _parcel("JD1")) == PushResult.ALREADY_THERE
    assert len(order["fulfillments"]) == 1


def test_a_line_fulfilled_in_shopify_by_hand_is_nothing_to_push(shop: FakeShopify) -> None:
    order = shop.state.add_order(1001)
    order["fulfillmentOrders"][0]["lines"][0]["remaining"] = 0
    store = shopify_store(shop)
    assert store.push_tracking(str(order["id"]), _parcel("JD1")) == PushResult.NOTHING_TO_PUSH


def test_user_errors_reach_staff_as_shopify_words(shop: FakeShopify) -> None:
    store = shopify_store(shop)
    data = store.api.query(RELEASE, {"id": "gid://shopify/FulfillmentOrder/1"}, name="release")
    with pytest.raises(StoreError) as caught:
        check_user_errors(data["fulfillmentOrderReleaseHold"], "the release", "shop")
    assert "Shopify refused the release: id: Fulfillment order does not exist." in str(
        caught.value.message
    )
    assert not caught.value.retryable


def test_holds_go_to_the_fulfillment_orders_when_the_store_takes_them(shop: FakeShopify) -> None:
    order = shop.state.add_order(1001)
    external = str(order["id"])
    assert shopify_store(shop).push_status(external, "held") == PushResult.NOTHING_TO_PUSH
    store = shopify_store(shop, push_holds=True)
    assert store.push_status(external, "held") == PushResult.SENT
    assert store.push_status(external, "held") == PushResult.ALREADY_THERE
    assert order["fulfillmentOrders"][0]["status"] == "ON_HOLD"
    with pytest.raises(StoreError) as caught:
        store.push_tracking(external, _parcel("JD1"))
    assert "on hold in Shopify" in caught.value.message
    assert store.push_status(external, "released") == PushResult.SENT
    assert order["fulfillmentOrders"][0]["status"] == "OPEN"


def test_a_staff_hold_and_release_in_podops_reach_shopify_when_the_store_takes_holds(
    shop: FakeShopify, db: Database, tmp_path: Path
) -> None:
    order = shop.state.add_order(1001)
    runtime = shopify_runtime(db, tmp_path, shop, push_holds=True)
    assert sync_one(runtime, "shop").created == 1
    for step in ("hold", "release", "hold"):
        with runtime.db.unit_of_work() as session:
            if step == "hold":
                services.hold(session, "1001", STAFF, "customer asked to wait")
            else:
                services.release(session, "1001", STAFF)
        assert pushback.drain(runtime).delivered == 1
        expected = "ON_HOLD" if step == "hold" else "OPEN"
        assert order["fulfillmentOrders"][0]["status"] == expected


def test_a_staff_hold_leaves_a_shop_that_takes_no_holds_as_it_is(
    shop: FakeShopify, db: Database, tmp_path: Path
) -> None:
    order = shop.state.add_order(1001)
    runtime = shopify_runtime(db, tmp_path, shop)  # push_holds off
    sync_one(runtime, "shop")
    with runtime.db.unit_of_work() as session:
        services.hold(session, "1001", STAFF, "customer asked to wait")
    pushback.drain(runtime)
    assert order["fulfillmentOrders"][0]["status"] == "OPEN"
    with runtime.db.unit_of_work() as session:
        pushed = session.scalars(select(Event.action).where(Event.action == "store_push")).all()
    assert pushed == []  # nothing told, nothing written in the order's timeline
