"""A parcel's tracking reaches a Shopify order of any size and state, or staff are told
why not: never a quiet "nothing to push".

Large orders are read page by page (more than 5 fulfillment orders, more than 50
lines in one, more than 20 fulfillments); a SCHEDULED fulfillment order (prepaid
subscription, fulfil-at date) is opened first; one ON_HOLD keeps the tracking
waiting in the outbox with the holder's name; a line Shopify does not have is an
error, not a success. The fake shop refuses what Shopify refuses (fulfilling a
fulfillment order that is not open, opening one that is not scheduled, a query
over 1,000 points).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from graphql import OperationDefinitionNode, parse
from sqlalchemy import select, update

from podops.db import Database
from podops.errors import StoreError, StoreHoldsOrder
from podops.models import OutboxMessage
from podops.outbox import Topic
from podops.ports.store import PushResult, TrackingPush
from providers import shopify_fulfillment as sf
from providers.shopify_fulfillment import FULFILL_MUTATION, OPEN_MUTATION
from sync import pushback
from sync.intake import sync_one
from tests.fakes.shopify import FakeShopify
from tests.fakes.shopify_schema import SINGLE_QUERY_LIMIT, requested_cost
from tests.intake.shopify_setup import shopify_runtime, shopify_store
from tests.intake.test_pushback import shipped


@pytest.fixture
def shop() -> Iterator[FakeShopify]:
    with FakeShopify(restore_rate=10_000.0) as fake:
        yield fake


def _parcel(number: str, *lines: tuple[str, int]) -> TrackingPush:
    return TrackingPush("UPS", number, "", datetime.now(UTC), tuple(lines))


def _line(order: dict[str, Any], index: int) -> str:
    return str(order["items"][index]["id"])


def _units_left(order: dict[str, Any]) -> int:
    return sum(line["remaining"] for fo in order["fulfillmentOrders"] for line in fo["lines"])


def _tee_lines(count: int) -> list[dict[str, Any]]:
    return [{"sku": "TEE-1", "quantity": 1} for _ in range(count)]


def test_seven_fulfillment_orders_and_sixty_lines_in_one_are_pushed_whole(
    shop: FakeShopify,
) -> None:
    order = shop.state.add_order(1001, lines=_tee_lines(72), groups=[60, 2, 2, 2, 2, 2, 2])
    store = shopify_store(shop)
    # the 60th line of the first fulfillment order and the last line of the 7th
    parcel = _parcel("1ZPAGE1", (_line(order, 59), 1), (_line(order, 71), 1))
    assert store.push_tracking(str(order["id"]), parcel) == PushResult.SENT
    [made] = order["fulfillments"]
    assert sorted(made["lines"]) == sorted([(order["items"][59]["id"], 1),
                                            (order["items"][71]["id"], 1)])  # fmt: skip
    assert "PodopsFulfillmentOrderLines" in shop.state.queries  # lines 41-60 on a page of their own
    assert store.push_tracking(str(order["id"]), _parcel("1ZPAGE2")) == PushResult.SENT
    assert _units_left(order) == 0
    assert {fo["status"] for fo in order["fulfillmentOrders"]} == {"CLOSED"}
    assert sum(q for f in order["fulfillments"] for _, q in f["lines"]) == 72
    assert store.push_tracking(str(order["id"]), _parcel("1ZPAGE2")) == PushResult.ALREADY_THERE


def test_a_tracking_number_past_the_first_twenty_fulfillments_is_already_there(
    shop: FakeShopify,
) -> None:
    order = shop.state.add_order(1001, lines=_tee_lines(30))
    for index in range(25):  # the merchant ships line by line, each with its own number
        shop.state.fulfil_by_hand(order, f"1ZHAND{index:02}", first=index + 1)
    store = shopify_store(shop)
    parcel = _parcel("1ZHAND24", (_line(order, 24), 1))
    assert store.push_tracking(str(order["id"]), parcel) == PushResult.ALREADY_THERE
    assert "PodopsFulfillmentOrderTracking" in shop.state.queries
    assert len(order["fulfillments"]) == 25


def test_a_scheduled_fulfillment_order_is_opened_and_the_tracking_reaches_the_store(
    shop: FakeShopify,
) -> None:
    order = shop.state.add_order(1001, lines=_tee_lines(2))
    [fo] = order["fulfillmentOrders"]
    shop.state.schedule(fo, datetime.now(UTC) + timedelta(days=30))  # a prepaid subscription
    store = shopify_store(shop)
    assert store.push_tracking(str(order["id"]), _parcel("1ZSCHED")) == PushResult.SENT
    writes = [next(iter(m)) for m in shop.state.mutations]
    assert writes == ["fulfillmentOrderOpen", "fulfillmentCreate"]
    assert order["fulfillments"][0]["tracking"][0]["number"] == "1ZSCHED"
    assert fo["status"] == "CLOSED"


def test_the_fake_refuses_what_shopify_refuses_for_a_scheduled_fulfillment_order(
    shop: FakeShopify,
) -> None:
    order = shop.state.add_order(1001)
    [fo] = order["fulfillmentOrders"]
    api = shopify_store(shop).api
    fo_gid = f"gid://shopify/FulfillmentOrder/{fo['id']}"
    refused = api.query(OPEN_MUTATION, {"id": fo_gid}, name="open")  # OPEN: nothing to open
    assert refused["fulfillmentOrderOpen"]["userErrors"]
    shop.state.schedule(fo, datetime.now(UTC) + timedelta(days=3))
    fulfillment = {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo_gid}]}
    data = api.query(FULFILL_MUTATION, {"fulfillment": fulfillment}, name="fulfil")
    assert (
        "unfulfillable status= scheduled" in data["fulfillmentCreate"]["userErrors"][0]["message"]
    )
    assert order["fulfillments"] == []


def test_an_order_held_by_another_app_keeps_its_tracking_and_staff_see_who_holds_it(
    shop: FakeShopify,
) -> None:
    order = shop.state.add_order(1001)
    [fo] = order["fulfillmentOrders"]
    shop.state.hold_by(fo, "Fraud Filter", "HIGH_RISK_OF_FRAUD", notes="score 91", handle="podops")
    store = shopify_store(shop)
    with pytest.raises(StoreHoldsOrder) as caught:
        store.push_tracking(str(order["id"]), _parcel("1ZHELD"))
    said = caught.value.message
    assert caught.value.retryable
    assert "1ZHELD" in said and "order 1001" in said
    assert "Fraud Filter (High risk of fraud: score 91)" in said
    assert "release the hold in Shopify" in said and "podops release" not in said
    assert order["fulfillments"] == []
    store_holds = shopify_store(shop, push_holds=True)
    # its handle is ours, but another app placed it: podops does not release it
    assert store_holds.push_status(str(order["id"]), "released") == PushResult.ALREADY_THERE
    assert fo["status"] == "ON_HOLD"
    fo["holds"], fo["status"] = [], "OPEN"  # the app releases it
    assert store.push_tracking(str(order["id"]), _parcel("1ZHELD")) == PushResult.SENT


def test_a_merchant_hold_and_podops_own_hold_are_named_with_what_to_release(
    shop: FakeShopify,
) -> None:
    merchant = shop.state.add_order(1001)
    shop.state.hold_by(merchant["fulfillmentOrders"][0], None, "INCORRECT_ADDRESS")
    store = shopify_store(shop, push_holds=True)
    with pytest.raises(StoreHoldsOrder, match="a hold by the merchant \\(Incorrect address\\)"):
        store.push_tracking(str(merchant["id"]), _parcel("1ZMERCH"))
    own = shop.state.add_order(1002)
    assert store.push_status(str(own["id"]), "held") == PushResult.SENT
    with pytest.raises(StoreHoldsOrder) as caught:
        store.push_tracking(str(own["id"]), _parcel("1ZOWN"))
    assert "podops' own hold" in caught.value.message
    assert "release the order in podops (`podops release 1002`)" in caught.value.message
    assert "in Shopify (or" not in caught.value.message


def test_a_parcel_split_over_an_open_and_a_held_fulfillment_order_waits_whole(
    shop: FakeShopify,
) -> None:
    order = shop.state.add_order(1001, lines=_tee_lines(2), groups=[1, 1])
    held = order["fulfillmentOrders"][1]
    shop.state.hold_by(held, "Stock Sync", "INVENTORY_OUT_OF_STOCK")
    store = shopify_store(shop)
    with pytest.raises(StoreHoldsOrder):  # half a parcel now would hide the rest for good
        store.push_tracking(str(order["id"]), _parcel("1ZSPLIT"))
    assert order["fulfillments"] == []
    held["holds"], held["status"] = [], "OPEN"
    assert store.push_tracking(str(order["id"]), _parcel("1ZSPLIT")) == PushResult.SENT
    assert _units_left(order) == 0 and len(order["fulfillments"]) == 1


def test_lines_shopify_does_not_have_are_an_error_not_a_success(shop: FakeShopify) -> None:
    order = shop.state.add_order(1001)
    store = shopify_store(shop)
    with pytest.raises(StoreError) as caught:
        store.push_tracking(str(order["id"]), _parcel("1ZLOST", ("999999", 1)))
    assert not caught.value.retryable
    assert "no line 999999" in caught.value.message and "1ZLOST" in caught.value.message
    assert order["fulfillments"] == []


def test_a_held_order_waits_in_the_outbox_while_the_store_s_other_parcels_go(
    shop: FakeShopify, db: Database, tmp_path: Path
) -> None:
    held = shop.state.add_order(1001)
    free = shop.state.add_order(1002)
    shop.state.hold_by(held["fulfillmentOrders"][0], "Fraud Filter", "HIGH_RISK_OF_FRAUD")
    runtime = shopify_runtime(db, tmp_path, shop)
    assert sync_one(runtime, "shop").created == 2
    shipped(runtime, "1001")
    shipped(runtime, "1002")
    pushback.drain(runtime)
    assert [f["tracking"][0]["number"] for f in free["fulfillments"]] == ["1Z999AA10123456784"]
    assert held["fulfillments"] == []
    with runtime.db.unit_of_work() as session:
        [waiting] = session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.topic == Topic.STORE_TRACKING, OutboxMessage.delivered_at.is_(None)
            )
        ).all()
        assert waiting.dead_at is None  # retried, not given up
        assert "Fraud Filter" in (waiting.last_error or "")
    fo = held["fulfillmentOrders"][0]
    fo["holds"], fo["status"] = [], "OPEN"  # released in Shopify
    with runtime.db.unit_of_work() as session:
        session.execute(update(OutboxMessage).values(next_attempt_at=datetime.now(UTC)))
    pushback.drain(runtime)
    assert [f["tracking"][0]["number"] for f in held["fulfillments"]] == ["1Z999AA10123456784"]


def test_a_prepaid_subscription_opens_only_the_delivery_the_parcel_is(
    shop: FakeShopify,
) -> None:
    order = shop.state.add_order(1001)
    shop.state.fulfil_by_hand(order, "1ZFIRST")  # the first delivery went out
    now = datetime.now(UTC)
    march = shop.state.add_delivery(order, now + timedelta(days=60))
    february = shop.state.add_delivery(order, now + timedelta(days=30))
    store = shopify_store(shop)
    parcel = _parcel("1ZSECOND", (_line(order, 0), 1))
    assert store.push_tracking(str(order["id"]), parcel) == PushResult.SENT
    assert (february["status"], march["status"]) == ("CLOSED", "SCHEDULED")


@pytest.mark.parametrize(
    ("query", "sizes"),
    [
        (sf.FULFILLMENT_STATE_QUERY, {"orders": sf.ORDERS_PAGE, "lines": sf.LINES_PAGE,
                                      "fulfillments": sf.FULFILLMENTS_PAGE, "numbers": sf.NUMBERS}),
        (sf.MORE_LINES_QUERY, {"lines": sf.MORE_LINES}),
        (sf.MORE_FULFILLMENTS_QUERY, {"fulfillments": sf.MORE_FULFILLMENTS, "numbers": sf.NUMBERS}),
    ],
)  # fmt: skip
def test_each_page_query_stays_under_shopify_s_single_query_cost(
    query: str, sizes: dict[str, int]
) -> None:
    [operation] = parse(query).definitions
    assert isinstance(operation, OperationDefinitionNode)
    assert requested_cost(operation, {"id": "gid://shopify/Order/1", **sizes}) < SINGLE_QUERY_LIMIT
