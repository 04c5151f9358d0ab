"""The Printify adapter against the fake Printify (real httpx, 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from podops.errors import ConfigError, OrderLocked, ProviderError
from podops.ports.fulfillment import (
    PlacedFile,
    ProviderBusy,
    ProviderStatus,
    RequestItem,
    SubmitRequest,
    WebhookRefused,
)
from podops.settings import ProviderConfig
from providers.http import make_client
from providers.printify import PrintifyProvider
from tests.factories import ADDRESS
from tests.fakes.printify import SHOP_ID, TOKEN, WEBHOOK_SECRET, FakePrintify, Fault

TEE = "6:99:12100"


@pytest.fixture
def fake() -> Iterator[FakePrintify]:
    server = FakePrintify().start()
    yield server
    server.stop()


def printify(fake: FakePrintify, **settings: Any) -> PrintifyProvider:
    values: dict[str, Any] = {
        "kind": "printify",
        "base_url": fake.base_url,
        "api_key": TOKEN,
        "store_id": SHOP_ID,
        "webhook_secret": WEBHOOK_SECRET,
        "timeout_s": 0.5,
        "rate_limit_per_s": 100,
    }
    config = ProviderConfig(**(values | settings))
    client = make_client(config.base_url, timeout=httpx.Timeout(config.timeout_s))
    return PrintifyProvider("pfy", client, config)


def request(reference: str = "main-1001", *items: RequestItem) -> SubmitRequest:
    lines = items or (
        RequestItem(
            "1001-01",
            "TEE-BLK-M",
            TEE,
            "Custom Tee",
            2,
            "https://podops.example/files/1001-01.png?sig=a",
            placements=(
                PlacedFile("front", "https://podops.example/files/1001-01.png?sig=a"),
                PlacedFile("back", "https://podops.example/files/1001-01-back.png?sig=b"),
            ),
        ),
    )
    return SubmitRequest(
        reference,
        reference.split("-")[-1],
        "Ana Smith",
        "ana@example.com",
        "",
        dict(ADDRESS),
        lines,
    )


def line(provider_sku: str) -> RequestItem:
    return RequestItem("1001-01", "TEE-BLK-M", provider_sku, "Tee", 1, "https://x.example/a.png")


def test_submit_creates_an_on_the_fly_order_and_sends_it_to_production(fake: FakePrintify) -> None:
    placed = printify(fake).submit(request())
    (order,) = fake.by_reference("main-1001")
    assert placed.provider_order_id == order["id"] and placed.status == ProviderStatus.ACCEPTED
    assert order["status"] == "sending-to-production" and order["sent_to_production_at"]
    assert order["metadata"]["shop_order_label"] == "1001"
    assert order["print_areas"] == [
        {
            "front": "https://podops.example/files/1001-01.png?sig=a",
            "back": "https://podops.example/files/1001-01-back.png?sig=b",
        }
    ]
    assert order["line_items"][0]["variant_id"] == 12100
    assert [m for m, _ in fake.requests] == ["POST", "POST"]


@pytest.mark.parametrize("code", ["TEE-BLK-M", "6:99", "6:0:12100", "6:99:12100:1", "a:b:c"])
def test_a_code_of_another_form_is_refused_before_any_request(
    fake: FakePrintify, code: str
) -> None:
    with pytest.raises(ProviderError) as refused:
        printify(fake).submit(request("main-1001", line(code)))
    assert not refused.value.retryable
    assert "line 1001-01" in refused.value.message
    assert "<blueprint_id>:<print_provider_id>:<variant_id>" in refused.value.message
    assert fake.requests == []


def test_an_unknown_variant_is_refused_in_printifys_words(fake: FakePrintify) -> None:
    with pytest.raises(ProviderError) as refused:
        printify(fake).submit(request("main-1001", line("6:99:99999")))
    assert not refused.value.retryable
    assert "variant 99999 is not available" in refused.value.message
    assert fake.orders == {}


def test_the_lookup_pages_back_to_our_order_by_shop_order_id(fake: FakePrintify) -> None:
    adapter = printify(fake)
    first = adapter.submit(request("main-1001"))
    for n in range(25):
        adapter.submit(request(f"main-2{n:03d}"))
    found = adapter.find_by_reference("main-1001")
    assert found is not None and found.provider_order_id == first.provider_order_id
    assert found.reference == "main-1001"
    pages = [p for m, p in fake.requests if m == "GET"]
    assert len(pages) == 3  # 26 orders, 10 a page, ours the oldest
    assert adapter.find_by_reference("main-9999") is None


def test_an_order_left_on_hold_by_a_halfway_submit_is_found_unfinished_and_left_on_hold(
    fake: FakePrintify,
) -> None:
    """The lookup only looks (a cancel makes one too); finishing is a separate step."""
    adapter = printify(fake)
    fake.inject_on_send(Fault(status=502))
    with pytest.raises(ProviderError) as halfway:
        adapter.submit(request())
    assert halfway.value.retryable  # uncertain: the worker looks it up before any retry
    (order,) = fake.by_reference("main-1001")
    assert order["status"] == "on-hold"
    found = adapter.find_by_reference("main-1001")
    assert found is not None and found.provider_order_id == order["id"] and found.unfinished
    assert order["status"] == "on-hold"
    finished = adapter.finish_placement(found, request())
    assert order["status"] == "sending-to-production" and not finished.unfinished
    assert fake.created["main-1001"] == 1


def test_a_rate_limit_between_create_and_send_is_not_taken_for_nothing_created(
    fake: FakePrintify,
) -> None:
    fake.inject_on_send(Fault(status=429, retry_after="1"))
    with pytest.raises(ProviderError) as halfway:
        printify(fake).submit(request())
    assert not isinstance(halfway.value, ProviderBusy) and halfway.value.retryable
    assert "created order" in halfway.value.message


def test_more_than_the_per_minute_limit_is_answered_429_as_provider_busy() -> None:
    fake = FakePrintify(per_minute=2).start()
    try:
        adapter = printify(fake)
        adapter.find_by_reference("main-1")
        adapter.find_by_reference("main-2")
        with pytest.raises(ProviderBusy) as busy:
            adapter.find_by_reference("main-3")
        assert busy.value.retry_after_s is not None and busy.value.retry_after_s > 0
    finally:
        fake.stop()


def test_status_words_and_tracking_come_from_the_order(fake: FakePrintify) -> None:
    adapter = printify(fake)
    placed = adapter.submit(request())
    fake.advance(placed.provider_order_id, "in-production")
    assert adapter.get_status(placed.provider_order_id, reference="main-1001").status == (
        ProviderStatus.IN_PRODUCTION
    )
    fake.ship(placed.provider_order_id, "9400111899223100012345")
    shipped = adapter.get_status(placed.provider_order_id, reference="main-1001")
    assert shipped.status == ProviderStatus.SHIPPED
    assert [(s.carrier, s.tracking_number) for s in shipped.shipments] == [
        ("usps", "9400111899223100012345")
    ]
    fake.advance(placed.provider_order_id, "had-issues")
    odd = adapter.get_status(placed.provider_order_id, reference="main-1001")
    assert odd.status == ProviderStatus.UNRECOGNIZED and odd.raw_status == "had-issues"


def test_cancel_while_printify_allows_and_its_refusal_after(fake: FakePrintify) -> None:
    adapter = printify(fake)
    early, late = adapter.submit(request("main-1")), adapter.submit(request("main-2"))
    fake.advance(early.provider_order_id, "payment-not-received")
    assert adapter.cancel(early.provider_order_id, reference="main-1").cancelled
    assert fake.orders[early.provider_order_id]["status"] == "canceled"
    refused = adapter.cancel(late.provider_order_id, reference="main-2")
    assert not refused.cancelled
    assert "sending-to-production and can't be canceled" in refused.message


def test_no_edits_after_sending_say_where_to_turn(fake: FakePrintify) -> None:
    adapter = printify(fake)
    with pytest.raises(OrderLocked, match="ask Printify support"):
        adapter.update_address("abc", request())
    with pytest.raises(OrderLocked, match="no design changes"):
        adapter.update_design("abc", request())


def test_a_signed_shipment_webhook_names_our_reference(fake: FakePrintify) -> None:
    adapter = printify(fake)
    placed = adapter.submit(request())
    headers, body = fake.signed_delivery("order:shipment:created", placed.provider_order_id)
    assert adapter.webhook_references("-", headers, body) == ["main-1001"]
    lowered = {k.lower(): v for k, v in headers.items()}
    assert adapter.webhook_references("-", lowered, body) == ["main-1001"]
    headers, body = fake.signed_delivery("product:deleted", placed.provider_order_id)
    assert adapter.webhook_references("-", headers, body) == []


@pytest.mark.parametrize("case", ["wrong-secret", "missing", "tampered"])
def test_an_unverified_webhook_is_refused(fake: FakePrintify, case: str) -> None:
    secret = "not-the-secret" if case == "wrong-secret" else WEBHOOK_SECRET
    headers, body = fake.signed_delivery("order:updated", "0" * 24, secret=secret)
    if case == "missing":
        headers = {"Content-Type": "application/json"}
    if case == "tampered":
        body = body.replace(b"fulfilled", b"canceled!")
    with pytest.raises(WebhookRefused):
        printify(fake).webhook_references("-", headers, body)
    assert fake.requests == []


def test_without_a_webhook_secret_every_delivery_is_refused(fake: FakePrintify) -> None:
    headers, body = fake.signed_delivery("order:updated", "0" * 24)
    with pytest.raises(WebhookRefused, match="WEBHOOK_SECRET"):
        printify(fake, webhook_secret=None).webhook_references("-", headers, body)


def test_a_missing_shop_id_is_a_clear_config_error(fake: FakePrintify) -> None:
    with pytest.raises(ConfigError, match="store_id must be the Printify shop id"):
        printify(fake, store_id="")


def test_the_catalog_names_codes_printify_does_not_know(fake: FakePrintify) -> None:
    unknown = printify(fake).unknown_codes(
        ["6:99:12100", "6:99:1", "6:7:12100", "TEE", "68:1:33719"]
    )
    assert set(unknown) == {"6:99:1", "6:7:12100", "TEE"}
    assert "offers no variant 1 of blueprint 6" in unknown["6:99:1"]
    assert "print provider 7 does not make blueprint 6" in unknown["6:7:12100"]
    assert "expected <blueprint_id>" in unknown["TEE"]
    assert len([p for _, p in fake.requests if "catalog" in p]) == 3  # one call per pair


def test_the_charge_is_products_shipping_and_tax_in_the_shops_currency(
    fake: FakePrintify,
) -> None:
    adapter = printify(fake)
    placed = adapter.submit(request())  # two tees at 10.50, shipping 4.00
    assert placed.cost is None  # sending to production answers no order JSON
    seen = adapter.get_status(placed.provider_order_id, reference="main-1001")
    assert (seen.cost, seen.cost_currency) == (Decimal("25.00"), "USD")
    fake.orders[placed.provider_order_id]["total_tax"] = 175
    found = printify(fake, currency="GBP").find_by_reference("main-1001")
    assert found is not None and (found.cost, found.cost_currency) == (Decimal("26.75"), "GBP")


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"status": "cost-calculation"}, "costs still being calculated"),
        ({"total_price": 0}, "nothing priced yet"),
        ({"total_tax": None}, "a part missing: a partial sum would flatter the margin"),
        ({"total_shipping": 400.5}, "cents that are not whole"),
        ({"total_price": "2100"}, "a string where cents are due"),
        ({"total_price": -2100}, "negative"),
        ({"total_price": 10**12}, "absurd"),
    ],
)
def test_no_charge_when_printify_has_none_or_an_impossible_one(
    fake: FakePrintify, changes: dict[str, Any], why: str
) -> None:
    adapter = printify(fake)
    placed = adapter.submit(request())
    order = fake.orders[placed.provider_order_id]
    for key, value in changes.items():
        if value is None:
            del order[key]
        else:
            order[key] = value
    fake.ship(placed.provider_order_id, "9400111899223100012345")
    if "status" in changes:
        order["status"] = changes["status"]
    seen = adapter.get_status(placed.provider_order_id, reference="main-1001")
    assert (seen.cost, seen.cost_currency) == (None, None), why
    assert seen.raw_status == order["status"]  # the rest of the answer still read
