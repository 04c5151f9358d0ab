"""The real WooCommerce client against the fake shop: paging, increments, auth, retries."""

from __future__ import annotations

import logging
import ssl
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import SecretStr

from podops.errors import ConfigError, StoreError
from podops.ports.store import PushResult, TrackingPush
from providers.woocommerce import WooCommerceStore, build_client
from tests.fakes.woocommerce import CONSUMER_KEY, CONSUMER_SECRET, FakeWooCommerce
from tests.fakes.woocommerce_orders import sample_order
from tests.intake.conftest import FAST_RETRY, store_config

DAY_AGO = datetime.now(UTC) - timedelta(days=1)


def _fill(shop: FakeWooCommerce, count: int) -> None:
    shop.add(
        *(sample_order(1000 + i, created=DAY_AGO + timedelta(seconds=i)) for i in range(count))
    )


def test_all_orders_arrive_over_pages_of_100(shop: FakeWooCommerce, woo: WooCommerceStore) -> None:
    _fill(shop, 250)
    pages = list(woo.fetch_changes(None))
    assert [len(p.orders) for p in pages] == [100, 100, 50]
    numbers = [o.number for p in pages for o in p.orders]
    assert numbers == [str(1000 + i) for i in range(250)]
    assert pages[0].total == 250 and pages[0].total_pages == 3
    # three pages of `status=any`, then one (empty) page of `status=trash`
    assert shop.state.count("GET", "/wc/v3/orders") == 4


def test_the_shop_refuses_pages_over_100(shop: FakeWooCommerce) -> None:
    params = {"consumer_key": CONSUMER_KEY, "consumer_secret": CONSUMER_SECRET, "per_page": 101}
    trusted = ssl.create_default_context(cafile=shop.ca_bundle)
    response = httpx.get(f"{shop.url}/wp-json/wc/v3/orders", params=params, verify=trusted)
    assert response.status_code == 400
    assert response.json()["code"] == "rest_invalid_param"


def test_only_orders_changed_since_the_cursor_are_fetched(
    shop: FakeWooCommerce, woo: WooCommerceStore
) -> None:
    _fill(shop, 30)
    shop.state.touch(1007, status="cancelled")
    since = datetime.now(UTC) - timedelta(minutes=1)
    changed = [o for p in woo.fetch_changes(since) for o in p.orders]
    assert [(o.number, o.store_status) for o in changed] == [("1007", "cancelled")]


def test_the_list_leaves_out_the_trash_unless_asked(shop: FakeWooCommerce) -> None:
    """As WooCommerce: the default `status=any` lists everything but trashed orders."""
    _fill(shop, 3)
    shop.state.trash(1001)
    params = {"consumer_key": CONSUMER_KEY, "consumer_secret": CONSUMER_SECRET}
    url = f"{shop.url}/wp-json/wc/v3/orders"
    with httpx.Client(verify=ssl.create_default_context(cafile=shop.ca_bundle)) as client:
        listed = [o["id"] for o in client.get(url, params=params).json()]
        trashed = [o["id"] for o in client.get(url, params={**params, "status": "trash"}).json()]
        assert sorted(listed) == [1000, 1002] and trashed == [1001]
        assert client.get(url, params={**params, "status": "gone"}).status_code == 400


def test_a_trashed_order_is_fetched_with_the_changes(
    shop: FakeWooCommerce, woo: WooCommerceStore
) -> None:
    _fill(shop, 5)
    shop.state.trash(1003)
    since = datetime.now(UTC) - timedelta(minutes=1)
    changed = [o for p in woo.fetch_changes(since) for o in p.orders]
    assert [(o.number, o.store_status) for o in changed] == [("1003", "trash")]


def test_a_wrong_key_gives_a_clear_permanent_error(shop: FakeWooCommerce) -> None:
    config = store_config(shop.url, consumer_secret=SecretStr("cs_wrong"))
    woo = WooCommerceStore("main", config, build_client("main", config), retry=FAST_RETRY)
    with pytest.raises(StoreError) as caught:
        list(woo.fetch_changes(None))
    assert caught.value.message.startswith(
        "store 'main': WooCommerce refused the consumer key (401)"
    )
    assert not caught.value.retryable
    assert CONSUMER_KEY not in caught.value.message


def test_missing_keys_name_the_environment_variables(shop: FakeWooCommerce) -> None:
    config = store_config(shop.url, consumer_key=None)
    with pytest.raises(ConfigError, match="PODOPS_STORES__MAIN__CONSUMER_KEY"):
        build_client("main", config)


@pytest.mark.slow
def test_rate_limits_and_server_errors_are_retried(
    shop: FakeWooCommerce, woo: WooCommerceStore
) -> None:
    _fill(shop, 5)
    shop.fail_next(1, status=429, retry_after=1)
    shop.fail_next(1, status=502)
    started = datetime.now(UTC)
    orders = [o for p in woo.fetch_changes(None) for o in p.orders]
    assert len(orders) == 5
    assert datetime.now(UTC) - started >= timedelta(seconds=1), "Retry-After was honoured"
    # 429, 502, the page, then the `status=trash` page
    assert shop.state.count("GET", "/wc/v3/orders") == 4


def test_a_slow_shop_times_out_and_is_retried(shop: FakeWooCommerce) -> None:
    _fill(shop, 3)
    config = store_config(shop.url)
    woo = WooCommerceStore(
        "main", config, build_client("main", config, timeout=0.3), retry=FAST_RETRY
    )
    shop.delay_next(1, 0.8)
    assert len([o for p in woo.fetch_changes(None) for o in p.orders]) == 3


def test_a_shop_that_stays_down_is_a_retryable_error(
    shop: FakeWooCommerce, woo: WooCommerceStore
) -> None:
    shop.state.down = True
    with pytest.raises(StoreError) as caught:
        list(woo.fetch_changes(None))
    assert caught.value.retryable
    assert "WooCommerce failed (503)" in caught.value.message
    assert shop.state.count("GET", "/wc/v3/orders") == FAST_RETRY.attempts


def test_a_long_retry_after_is_not_waited_out(shop: FakeWooCommerce, woo: WooCommerceStore) -> None:
    shop.fail_next(5, status=429, retry_after=3600)
    with pytest.raises(StoreError) as caught:
        list(woo.fetch_changes(None))
    assert caught.value.retryable and "429" in caught.value.message
    assert shop.state.count("GET", "/wc/v3/orders") == 1


PARCEL = TrackingPush(
    carrier="UPS",
    number="1Z999AA10123456784",
    url="https://www.ups.com/track?tracknum=1Z999AA10123456784",
    shipped_at=DAY_AGO,
)


@pytest.mark.slow
def test_a_post_that_may_have_arrived_is_not_sent_again(shop: FakeWooCommerce) -> None:
    """A slow shop took the tracking but answered late: one tracking item, never two."""
    _fill(shop, 1)
    config = store_config(shop.url)
    woo = WooCommerceStore(
        "main", config, build_client("main", config, timeout=0.3), retry=FAST_RETRY
    )
    shop.delay_next(1, 0.8, method="POST")
    with pytest.raises(StoreError) as caught:
        woo.push_tracking("1000", PARCEL)
    assert caught.value.retryable, "the outbox tries again later"
    time.sleep(0.8)  # the shop finishes the slow request
    assert woo.push_tracking("1000", PARCEL) == PushResult.ALREADY_THERE
    assert len(shop.state.trackings[1000]) == 1
    assert shop.state.count("POST", "/shipment-trackings") == 1


def test_a_post_refused_with_retry_after_is_retried(
    shop: FakeWooCommerce, woo: WooCommerceStore
) -> None:
    _fill(shop, 1)
    shop.fail_next(1, status=429, retry_after=0, method="POST")
    shop.fail_next(1, status=503, retry_after=0, method="POST")
    assert woo.push_tracking("1000", PARCEL) == PushResult.SENT
    assert len(shop.state.trackings[1000]) == 1


def test_a_post_answered_with_a_plain_server_error_is_not_repeated(
    shop: FakeWooCommerce, woo: WooCommerceStore
) -> None:
    _fill(shop, 1)
    shop.fail_next(1, status=502, method="POST")
    with pytest.raises(StoreError) as caught:
        woo.push_tracking("1000", PARCEL)
    assert caught.value.retryable
    assert shop.state.count("POST", "/shipment-trackings") == 1


def test_without_the_tracking_extension_tracking_becomes_a_note(
    shop: FakeWooCommerce, woo: WooCommerceStore, caplog: pytest.LogCaptureFixture
) -> None:
    """`has_shipment_tracking` is on by default; a shop without the extension answers 404."""
    _fill(shop, 2)
    shop.state.tracking_extension = False
    with caplog.at_level(logging.WARNING, logger="providers.woocommerce"):
        assert woo.push_tracking("1000", PARCEL) == PushResult.SENT
        assert woo.push_tracking("1000", PARCEL) == PushResult.ALREADY_THERE
        assert woo.push_tracking("1001", PARCEL) == PushResult.SENT
    (note,) = shop.state.notes[1000]
    assert note["customer_note"] is True
    assert "UPS" in note["note"] and PARCEL.number in note["note"] and PARCEL.url in note["note"]
    warnings = [r for r in caplog.records if "Shipment Tracking" in r.getMessage()]
    assert len(warnings) == 1, "the missing extension is logged once"
