"""The Shopify GraphQL client against the fake shop: tokens, pacing, throttles, errors."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from podops.errors import StoreError
from providers.shopify import build_client
from tests.fakes.shopify import CLIENT_ID, CLIENT_SECRET, FakeShopify
from tests.intake.shopify_setup import shopify_config, shopify_store

QUERY = "query Count($q: String) { ordersCount(query: $q) { count } }"
COSTLY = """query Costly { orders(first: 50) { nodes { id
  lineItems(first: 5) { nodes { id customAttributes { key value } } } } } }"""


@pytest.fixture
def shop() -> Iterator[FakeShopify]:
    with FakeShopify() as fake:
        yield fake


def test_a_query_answers_its_data_and_remembers_the_bucket(shop: FakeShopify) -> None:
    shop.state.add_order(1001)
    api = shopify_store(shop).api
    assert api.query(QUERY, name="count") == {"ordersCount": {"count": 1}}
    assert api.bucket is not None and api.bucket.restore_rate == 100.0


def test_the_client_paces_itself_and_is_never_throttled() -> None:
    with FakeShopify(restore_rate=500.0) as shop:
        for number in range(50):
            shop.state.add_order(number, lines=[{"properties": {"Name": "A"}}, {"sku": "MUG-1"}])
        api = shopify_store(shop).api
        started = time.monotonic()
        for _ in range(6):
            api.query(COSTLY, name="costly")  # 652 asked, about 350 charged; bucket 1000
        assert shop.state.throttled == 0
        assert api.throttled == 0
        assert time.monotonic() - started > 1.0  # it waited for the bucket


def test_a_throttled_answer_is_waited_out_and_sent_again(shop: FakeShopify) -> None:
    api = shopify_store(shop).api
    shop.state.available = 0.0  # another app of the shop emptied the bucket
    data = api.query(COSTLY, name="first time")  # no cost known yet: cannot pace
    assert "orders" in data
    assert api.throttled == 1 and shop.state.throttled == 1


def test_graphql_errors_become_a_store_error_with_shopify_message(shop: FakeShopify) -> None:
    api = shopify_store(shop).api
    shop.state.errors_next = [
        {"message": "Access denied for orders field.", "extensions": {"code": "ACCESS_DENIED"}}
    ]
    with pytest.raises(StoreError) as caught:
        api.query(QUERY, name="count")
    assert "Access denied for orders field" in caught.value.message
    assert "read_orders" in caught.value.message and not caught.value.retryable


def test_a_wrong_token_is_refused_in_words(shop: FakeShopify) -> None:
    api = shopify_store(shop, access_token=SecretStr("shpat_wrong")).api
    with pytest.raises(StoreError) as caught:
        api.query(QUERY, name="count")
    assert "access token (401)" in caught.value.message
    assert "shpat_wrong" not in caught.value.message


def test_client_credentials_are_renewed_before_the_token_ends(shop: FakeShopify) -> None:
    now = [1000.0]
    config = shopify_config(shop.url, access_token=None, client_id=CLIENT_ID,
                            client_secret=SecretStr(CLIENT_SECRET))  # fmt: skip
    api = build_client("shop", config, clock=lambda: now[0])
    api.query(QUERY, name="count")
    api.query(QUERY, name="count")
    assert shop.state.grants == 1
    now[0] += 86_400 - 20 * 60  # 20 minutes left: renewed before the next call
    api.query(QUERY, name="count")
    assert shop.state.grants == 2


def test_wrong_client_credentials_say_what_to_check(shop: FakeShopify) -> None:
    config = shopify_config(shop.url, access_token=None, client_id="nope",
                            client_secret=SecretStr(CLIENT_SECRET))  # fmt: skip
    with pytest.raises(StoreError) as caught:
        build_client("shop", config).query(QUERY, name="count")
    assert "client credentials" in caught.value.message and "client_id" in caught.value.message
