"""Shopify webhooks through the real Starlette app: signed, forged, replayed, and
both of Shopify's order shapes mapped alike."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from podops.db import Database
from podops.models import Order
from podops.runtime.root import Runtime
from podops.runtime.web import build_asgi_app
from providers.shopify_mapping import map_order, rest_from_graphql
from sync.shopify_webhooks import routes
from tests.asgi_client import AsgiClient
from tests.fakes.shopify import FakeShopify, deliver, rest_body, webhook_headers
from tests.intake.shopify_setup import shopify_config, shopify_runtime, shopify_store

URL = "/webhooks/shopify/shop"
PROPERTIES = {"Name": "Grace", "Photo": "https://img.example.com/p.jpg", "_hidden": "x"}


@pytest.fixture
def shop() -> Iterator[FakeShopify]:
    with FakeShopify() as fake:
        yield fake


@pytest.fixture
def runtime(db: Database, tmp_path: Path, shop: FakeShopify) -> Runtime:
    return shopify_runtime(db, tmp_path, shop)


@pytest.fixture
def web(runtime: Runtime) -> AsgiClient:
    return AsgiClient(build_asgi_app(runtime, [routes]))


def _count(db: Database) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(Order)) or 0


def test_a_signed_delivery_creates_the_order(
    web: AsgiClient, db: Database, shop: FakeShopify
) -> None:
    order = shop.state.add_order(1001, lines=[{"properties": PROPERTIES}])
    response = deliver(web, URL, order, "orders/create")
    assert response.status_code == 200 and response.json()["result"] == "created"
    assert _count(db) == 1


def test_a_forged_delivery_gets_401_and_stores_nothing(
    web: AsgiClient, db: Database, shop: FakeShopify
) -> None:
    order = shop.state.add_order(1001)
    response = deliver(web, URL, order, "orders/create", secret="not-the-secret")
    assert response.status_code == 401 and _count(db) == 0


def test_a_replayed_delivery_changes_nothing(
    web: AsgiClient, db: Database, shop: FakeShopify
) -> None:
    order = shop.state.add_order(1001)
    raw = json.dumps(rest_body(order)).encode()
    first = web.post(
        URL, content=raw, headers=webhook_headers(raw, "orders/create", webhook_id="wh-1")
    )
    assert first.json()["result"] == "created"
    again = web.post(
        URL, content=raw, headers=webhook_headers(raw, "orders/create", webhook_id="wh-1")
    )
    assert again.json()["result"] == "duplicate delivery"


def test_another_body_under_a_webhook_id_already_seen_is_applied(
    web: AsgiClient, db: Database, shop: FakeShopify
) -> None:
    """The webhook id names the delivery, not its content: a cancellation sent under an
    id already seen is applied (dropping it would send a cancelled order to print)."""
    order = shop.state.add_order(1001)
    deliver(web, URL, order, "orders/create", webhook_id="wh-1")
    shop.state.cancel(order)
    again = deliver(web, URL, order, "orders/cancelled", webhook_id="wh-1")
    assert again.json()["result"] == "updated"
    with db.reading() as session:
        assert session.scalar(select(Order.status)) == "cancelled"


def test_a_cancellation_webhook_cancels(web: AsgiClient, db: Database, shop: FakeShopify) -> None:
    order = shop.state.add_order(1001)
    deliver(web, URL, order, "orders/create")
    shop.state.cancel(order)
    assert deliver(web, URL, order, "orders/cancelled").json()["result"] == "updated"
    with db.reading() as session:
        assert session.scalar(select(Order.status)) == "cancelled"


def test_a_body_that_is_not_an_order_is_refused(web: AsgiClient) -> None:
    raw = json.dumps({"hello": 1}).encode()
    response = web.post(URL, content=raw, headers=webhook_headers(raw, "orders/create"))
    assert response.status_code == 400


def test_the_graphql_and_rest_shapes_of_one_order_give_the_same_incoming_order(
    shop: FakeShopify,
) -> None:
    order = shop.state.add_order(1001, lines=[
        {"sku": "TEE-1", "quantity": 3, "current": 2, "properties": PROPERTIES},
        {"sku": "MUG-1", "quantity": 1, "properties": {"Message": "Hi"}},
    ])  # fmt: skip
    client = shopify_store(shop)
    query = client.fetch_order(str(order["id"]))
    config = shopify_config(shop.url)
    webhook = map_order(json.loads(json.dumps(rest_body(order))), "shop", config)
    assert query == webhook
    assert query.number == "1001" and query.items[0].refunded_quantity == 1
    assert query.items[0].image_urls == {"photo": PROPERTIES["Photo"]}
    assert rest_from_graphql({"id": "gid://shopify/Order/7"})["id"] == "7"
