"""Items the shop adds to an order podops already received (WooCommerce lets the admin
edit an order's items while it is on hold; Shopify's order editing adds items to a
paid order): podops does not add lines to a received order, so before submission it
holds the order and says what changed, and after submission tells staff once. Before
this, the added item was never made and nobody was told."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from podops import services
from podops.db import Database
from podops.models import Event
from podops.runtime.root import Runtime
from podops.runtime.web import build_asgi_app
from podops.status import OrderStatus
from sync.intake import sync_one
from sync.shopify_webhooks import routes as shopify_routes
from tests.asgi_client import AsgiClient
from tests.factories import SYSTEM
from tests.fakes.shopify import FakeShopify, rest_body, webhook_headers
from tests.fakes.woocommerce import FakeWooCommerce
from tests.fakes.woocommerce_orders import sample_order
from tests.intake.shopify_setup import shopify_runtime

AN_HOUR_AGO = datetime.now(UTC) - timedelta(hours=1)


def _state(runtime: Runtime, number: str) -> tuple[OrderStatus, str, dict[str, int], list[str]]:
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, number)
        actions = list(session.scalars(select(Event.action).where(Event.order_id == order.id)))
        lines = {i.sku: i.quantity for i in order.items}
        return OrderStatus(order.status), order.hold_reason or "", lines, actions


def _add_mug(shop: FakeWooCommerce, order_id: int) -> None:
    items = copy.deepcopy(shop.state.orders[order_id]["line_items"])
    items.append(dict(items[0], id=order_id * 10 + 7, sku="MUG-11OZ", name="Mug", quantity=1))
    shop.state.touch(order_id, line_items=items)


def test_an_item_the_shop_adds_before_submission_holds_the_order(
    shop: FakeWooCommerce, runtime: Runtime
) -> None:
    shop.add(sample_order(1001, created=AN_HOUR_AGO), sample_order(1002, created=AN_HOUR_AGO))
    assert sync_one(runtime, "main").created == 2
    _add_mug(shop, 1001)
    assert sync_one(runtime, "main").error is None
    status, reason, lines, _ = _state(runtime, "1001")
    assert status == OrderStatus.ON_HOLD
    assert "the shop changed its items" in reason and "MUG-11OZ" in reason
    assert lines == {"TEE-BLK-M": 2}
    assert _state(runtime, "1002")[0] == OrderStatus.PENDING
    sync_one(runtime, "main")  # the same change read again: held once, nothing more
    assert _state(runtime, "1001")[3].count("hold") == 1


def test_a_quantity_the_shop_raises_before_submission_holds_the_order(
    shop: FakeWooCommerce, runtime: Runtime
) -> None:
    shop.add(sample_order(1001, created=AN_HOUR_AGO))
    sync_one(runtime, "main")
    items = copy.deepcopy(shop.state.orders[1001]["line_items"])
    items[0]["quantity"] = 5
    shop.state.touch(1001, line_items=items)
    sync_one(runtime, "main")
    status, reason, lines, _ = _state(runtime, "1001")
    assert status == OrderStatus.ON_HOLD and "TEE-BLK-M 2 -> 5" in reason
    assert lines == {"TEE-BLK-M": 2}


def test_an_item_the_shop_adds_after_submission_tells_staff_once(
    shop: FakeWooCommerce, runtime: Runtime
) -> None:
    shop.add(sample_order(1001, created=AN_HOUR_AGO))
    sync_one(runtime, "main")
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, "1001")
        services.begin_submit(session, order, services.plan_fulfillments(session, order), SYSTEM)
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, "1001")
        services.mark_submitted(session, order, order.parts[0], SYSTEM, provider_order_id="P-1")
    _add_mug(shop, 1001)
    sync_one(runtime, "main")
    shop.state.touch(1001)
    sync_one(runtime, "main")
    status, _, _, actions = _state(runtime, "1001")
    assert status == OrderStatus.SUBMITTED
    assert actions.count("store_items_changed") == 1
    with runtime.db.unit_of_work() as session:
        problems = services.get_order(session, "1001").problems
    assert any("the shop changed its items after submission" in p for p in problems)


def test_unchanged_and_refunded_items_hold_nothing(shop: FakeWooCommerce, runtime: Runtime) -> None:
    shop.add(sample_order(1001, created=AN_HOUR_AGO))
    sync_one(runtime, "main")
    shop.state.touch(1001, customer_note="ring twice")
    shop.state.refund(1001, {10011: 1})
    sync_one(runtime, "main")
    status, _, lines, _ = _state(runtime, "1001")
    assert status == OrderStatus.PENDING and lines == {"TEE-BLK-M": 1}


def test_an_item_added_in_shopify_order_editing_holds_the_order(
    db: Database, tmp_path: Path
) -> None:
    with FakeShopify() as shop:
        runtime = shopify_runtime(db, tmp_path, shop)
        web = AsgiClient(build_asgi_app(runtime, [shopify_routes]))
        order = shop.state.add_order(1001)

        def send(topic: str) -> Any:
            raw = json.dumps(rest_body(order)).encode()
            return web.post(
                "/webhooks/shopify/shop", content=raw, headers=webhook_headers(raw, topic)
            )

        assert send("orders/create").json()["result"] == "created"
        added = dict(order["items"][0], id=shop.state.next_id(), sku="MUG-1", name="Mug")
        order["items"].append(added)
        shop.state.touch(order)
        assert send("orders/updated").json()["result"] == "updated"
        status, reason, lines, _ = _state(runtime, "1001")
        assert status == OrderStatus.ON_HOLD and "MUG-1" in reason and lines == {"TEE-1": 1}
