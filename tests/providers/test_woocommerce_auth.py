"""How podops reaches a WooCommerce shop, against a fake that authenticates as
WooCommerce does: keys over https only (Basic, or the query string for hosts
that strip the header), a test CA trusted through `ca_bundle`, same-site
redirects followed, other hosts refused, and a firewall's answer named."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest

from podops.errors import StoreError
from providers.woocommerce import WooCommerceStore, build_client
from providers.woocommerce_http import body_snippet, redirected_base, same_site
from tests.fakes.woocommerce import (
    CONSUMER_KEY,
    CONSUMER_SECRET,
    FakeWooCommerce,
    Firewall,
)
from tests.fakes.woocommerce_orders import sample_order
from tests.intake.conftest import FAST_RETRY, store_config


def _store(url: str, **overrides: object) -> WooCommerceStore:
    config = store_config(url, **overrides)
    return WooCommerceStore("main", config, build_client("main", config), retry=FAST_RETRY)


def _refusal(woo: WooCommerceStore) -> StoreError:
    with pytest.raises(StoreError) as caught:
        list(woo.fetch_changes(None))
    assert not caught.value.retryable
    return caught.value


@pytest.fixture
def plain_shop() -> Iterator[FakeWooCommerce]:
    with FakeWooCommerce(tls=False) as fake:
        yield fake


def test_the_fake_refuses_keys_over_plain_http_as_woocommerce_does(
    plain_shop: FakeWooCommerce,
) -> None:
    keys = {"consumer_key": CONSUMER_KEY, "consumer_secret": CONSUMER_SECRET}
    for answer in (
        httpx.get(f"{plain_shop.url}/wp-json/wc/v3/orders", params=keys),
        httpx.get(f"{plain_shop.url}/wp-json/wc/v3/orders", auth=(CONSUMER_KEY, CONSUMER_SECRET)),
    ):
        assert answer.status_code == 401
        assert answer.json()["code"] == "woocommerce_rest_cannot_view"


def test_over_plain_http_podops_sends_no_keys_and_says_why(plain_shop: FakeWooCommerce) -> None:
    plain_shop.add(sample_order(1000))
    error = _refusal(_store(plain_shop.url))
    assert "OAuth 1.0a" in error.message and "https://" in error.message
    assert plain_shop.state.keys_received == 0


def test_the_shop_is_trusted_only_through_its_ca_bundle(shop: FakeWooCommerce) -> None:
    woo = _store(shop.url, ca_bundle="")
    with pytest.raises(
        StoreError, match="certificate is not trusted; a private CA needs ca_bundle"
    ):
        list(woo.fetch_changes(None))
    assert shop.state.requests == [], "no request went out over an unverified connection"


def test_a_host_that_strips_the_authorization_header_gets_the_setting_named(
    shop: FakeWooCommerce,
) -> None:
    shop.add(sample_order(1000))
    shop.state.strip_authorization = True
    error = _refusal(_store(shop.url))
    assert error.message.startswith("store 'main': WooCommerce refused the consumer key (401)")
    assert 'auth = "query" in [stores.main]' in error.message
    orders = [o for p in _store(shop.url, auth="query").fetch_changes(None) for o in p.orders]
    assert [o.number for o in orders] == ["1000"]


def test_an_http_to_https_redirect_is_followed_without_sending_keys_over_http(
    shop: FakeWooCommerce, plain_shop: FakeWooCommerce, caplog: pytest.LogCaptureFixture
) -> None:
    shop.add(sample_order(1000), sample_order(1001))
    plain_shop.state.redirect_to = shop.url
    woo = _store(plain_shop.url)
    with caplog.at_level(logging.WARNING, logger="providers.woocommerce"):
        assert len([o for p in woo.fetch_changes(None) for o in p.orders]) == 2
        assert woo.fetch_order("1001").number == "1001"
    assert plain_shop.state.keys_received == 0
    assert len(plain_shop.state.requests) == 1, "later calls go to the new address directly"
    assert any(shop.url in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("https://evil.example", "another host (evil.example)"),
        ("https://shop.example.com.evil.example", "another host"),
        ("http://127.0.0.1:9", "plain http"),
    ],
)
def test_a_redirect_elsewhere_is_refused_with_the_reason(
    shop: FakeWooCommerce, target: str, reason: str
) -> None:
    shop.state.redirect_to = target
    error = _refusal(_store(shop.url))
    assert reason in error.message
    assert len(shop.state.requests) == 1


def test_same_site_means_the_same_host_with_or_without_www() -> None:
    origin = httpx.URL("https://shop.example.com/wp-json/wc/v3/orders")
    assert same_site(origin, httpx.URL("https://www.shop.example.com/x"))
    assert same_site(httpx.URL("http://www.shop.example.com/"), origin)
    assert not same_site(origin, httpx.URL("https://myshop.example.com/x"))
    assert not same_site(origin, httpx.URL("https://shop.example.com.evil.example/x"))
    assert not same_site(origin, httpx.URL("http://shop.example.com/x"))


def test_a_redirect_to_a_page_that_is_not_the_api_is_refused() -> None:
    base = httpx.URL("https://shop.example.com/")
    request = httpx.Request("GET", "https://shop.example.com/wp-json/wc/v3/orders?page=2")

    def moved(location: str) -> httpx.URL | str:
        answer = httpx.Response(301, headers={"location": location}, request=request)
        return redirected_base(base, answer)

    assert moved("https://www.shop.example.com/wp-json/wc/v3/orders?page=2") == httpx.URL(
        "https://www.shop.example.com/"
    )
    assert moved("/store/wp-json/wc/v3/orders") == httpx.URL("https://shop.example.com/store/")
    assert "not the REST API" in str(moved("https://www.shop.example.com/wp-login.php"))


def test_a_firewall_is_named_and_not_blamed_on_the_key(shop: FakeWooCommerce) -> None:
    shop.state.firewall = Firewall(headers={"Server": "cloudflare", "CF-RAY": "8f1e2d-CDG"})
    error = _refusal(_store(shop.url))
    assert "refused the consumer key" not in error.message
    assert "403" in error.message and "Cloudflare" in error.message
    assert "Sorry, you have been blocked" in error.message
    assert "<" not in error.message, "the page's markup is not repeated"


def test_an_unnamed_firewall_is_described_by_its_answer(shop: FakeWooCommerce) -> None:
    shop.state.firewall = Firewall(status=403, headers={"Server": "nginx"}, body=b"Access denied")
    error = _refusal(_store(shop.url))
    assert "refused the consumer key" not in error.message
    assert "403" in error.message and "'Access denied'" in error.message


def test_a_body_snippet_is_one_short_line_of_text() -> None:
    page = b"<html><script>alert(1)</script><h1>Blocked &amp; logged</h1>\x00\n\n" + b"x" * 500
    snippet = body_snippet(httpx.Response(403, content=page))
    assert snippet.startswith("Blocked & logged x") and "alert" not in snippet
    assert len(snippet) <= 160 and "\n" not in snippet and "\x00" not in snippet
