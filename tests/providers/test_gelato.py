"""The Gelato adapter against the fake Gelato (a real httpx client on 127.0.0.1)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from podops.errors import ConfigError, OrderLocked, ProviderError
from podops.fulfillment.attempt import RetryPlan
from podops.ports.fulfillment import (
    PlacedFile,
    ProviderBusy,
    ProviderStatus,
    RequestItem,
    SubmitRequest,
    WebhookRefused,
)
from podops.settings import ProviderConfig
from providers.gelato import GelatoProvider
from providers.http import make_client
from tests.fakes.gelato import API_KEY, MUG, TEE, FakeGelato

SECRET = "gelato-webhook-token-0123456789"


def request(reference: str = "main-1", **changes: Any) -> SubmitRequest:
    fields: dict[str, Any] = {
        "reference": reference,
        "order_number": reference.split("-")[-1],
        "customer_name": "Ana Smith",
        "email": "Ana@Example.com",
        "phone": "+1 217 555 0100",
        "address": {
            "first_name": "Ana",
            "last_name": "Smith",
            "address_1": "1 Main St",
            "city": "Springfield",
            "state": "IL",
            "postcode": "62701",
            "country": "US",
        },
        "items": (
            RequestItem("1-01", "TEE-BLK-M", TEE, "Tee", 2, "https://files.test/1-01.png"),
            RequestItem("1-02", "MUG-11OZ", MUG, "Mug", 1, "https://files.test/1-02.png"),
        ),
    }
    return SubmitRequest(**(fields | changes))


@pytest.fixture
def gelato() -> Iterator[FakeGelato]:
    fake = FakeGelato()
    fake.start()
    yield fake
    fake.stop()


def adapter(fake: FakeGelato, **config: Any) -> GelatoProvider:
    settings = {"kind": "gelato", "api_key": API_KEY, "base_url": fake.url, "timeout_s": 1.0}
    settings["webhook_secret"] = SECRET
    settings |= config
    return GelatoProvider(
        "gl", make_client(fake.url, timeout=httpx.Timeout(1.0)), ProviderConfig(**settings)
    )


def test_an_order_goes_out_with_our_references_files_and_address(gelato: FakeGelato) -> None:
    placed = adapter(gelato).submit(request(shipping_method="express"))
    assert placed.status == ProviderStatus.ACCEPTED and placed.raw_status == "created"
    sent = gelato.orders[placed.provider_order_id]
    assert sent["orderType"] == "order"
    assert sent["orderReferenceId"] == placed.reference == "main-1"
    assert sent["customerReferenceId"] == "ana@example.com"
    assert sent["currency"] == "USD"
    assert sent["shipmentMethodUid"] == "express"
    tee = sent["items"][0]
    assert (tee["itemReferenceId"], tee["productUid"], tee["quantity"]) == ("1-01", TEE, 2)
    assert tee["files"] == [{"type": "default", "url": "https://files.test/1-01.png"}]
    assert sent["shippingAddress"]["postCode"] == "62701"
    assert placed.print_files == {
        "1-01": "https://files.test/1-01.png",
        "1-02": "https://files.test/1-02.png",
    }


def test_front_and_back_go_as_default_and_back(gelato: FakeGelato) -> None:
    both = (PlacedFile("front", "https://files.test/f.png"), PlacedFile("back", "https://b.png"))
    item = RequestItem("1-01", "TEE", TEE, "Tee", 1, "https://files.test/f.png", placements=both)
    placed = adapter(gelato).submit(request(items=(item,)))
    files = gelato.orders[placed.provider_order_id]["items"][0]["files"]
    assert files == [
        {"type": "default", "url": "https://files.test/f.png"},
        {"type": "back", "url": "https://b.png"},
    ]


def test_without_a_method_gelato_picks_and_test_mode_makes_drafts(gelato: FakeGelato) -> None:
    placed = adapter(gelato, test_mode=True, currency="EUR").submit(request())
    sent = gelato.orders[placed.provider_order_id]
    assert sent["shipmentMethodUid"] == "normal"  # the fake's cheapest: nothing was sent
    assert (sent["orderType"], sent["currency"], placed.status) == (
        "draft",
        "EUR",
        ProviderStatus.ACCEPTED,
    )


def test_an_unknown_product_is_refused_in_gelatos_words(gelato: FakeGelato) -> None:
    item = RequestItem("1-01", "TEE", "no_such_product", "Tee", 1, "https://files.test/a.png")
    with pytest.raises(ProviderError) as refused:
        adapter(gelato).submit(request(items=(item,)))
    assert refused.value.retryable is False
    assert "Product with productUid 'no_such_product' is not found" in refused.value.message
    assert gelato.orders == {}


def test_lookup_finds_nothing_then_the_order_and_the_oldest_of_a_double(
    gelato: FakeGelato, caplog: pytest.LogCaptureFixture
) -> None:
    gl = adapter(gelato)
    assert gl.find_by_reference("main-1") is None
    first = gl.submit(request())
    gl.submit(request("main-2"))
    assert gl.find_by_reference("main-1") == gl.get_status(first.provider_order_id, reference="")
    gl.submit(request())  # Gelato takes a second order with the same reference
    with caplog.at_level(logging.WARNING, logger="providers.gelato"):
        found = gl.find_by_reference("main-1")
    assert found is not None and found.provider_order_id == first.provider_order_id
    assert "holds 2 orders for main-1" in caplog.text


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("passed", ProviderStatus.ACCEPTED),
        ("in_production", ProviderStatus.IN_PRODUCTION),
        ("printed", ProviderStatus.IN_PRODUCTION),
        ("delivered", ProviderStatus.SHIPPED),
        ("canceled", ProviderStatus.CANCELLED),
        ("failed", ProviderStatus.UNRECOGNIZED),
        ("pending_approval", ProviderStatus.UNRECOGNIZED),
        ("artwork_rejected", ProviderStatus.UNRECOGNIZED),
    ],
)
def test_status_words_map_to_what_podops_acts_on(
    gelato: FakeGelato, word: str, status: ProviderStatus
) -> None:
    gl = adapter(gelato)
    placed = gl.submit(request())
    gelato.set_status(placed.provider_order_id, word)
    seen = gl.get_status(placed.provider_order_id, reference="main-1")
    assert (seen.status, seen.raw_status) == (status, word)


def test_tracking_comes_from_the_items_fulfillments_by_line(gelato: FakeGelato) -> None:
    gl = adapter(gelato)
    placed = gl.submit(request())
    gelato.ship("main-1", "1Z999AA10123456784", item_refs=["1-01"])
    partly = gl.get_status(placed.provider_order_id, reference="main-1")
    assert partly.status == ProviderStatus.IN_PRODUCTION
    assert [(s.carrier, s.tracking_number, s.lines) for s in partly.shipments] == [
        ("UPS Standard", "1Z999AA10123456784", {"1-01": 2})
    ]
    gelato.ship("main-1", "9400111899223100012345", "USPS Ground Advantage")
    done = gl.get_status(placed.provider_order_id, reference="main-1")
    assert done.status == ProviderStatus.SHIPPED
    assert {s.tracking_number: s.lines for s in done.shipments} == {
        "1Z999AA10123456784": {"1-01": 1},  # the tee's two units, counted over its parcels
        "9400111899223100012345": {"1-01": 1, "1-02": 1},
    }


def test_tracking_falls_back_to_shipment_packages(gelato: FakeGelato) -> None:
    gl = adapter(gelato)
    placed = gl.submit(request())
    order = gelato.orders[placed.provider_order_id]
    order["fulfillmentStatus"] = "shipped"
    order["shipment"] = {
        "shipmentMethodName": "DHL Parcel",
        "packages": [
            {"id": "p1", "orderItemIds": [order["items"][1]["id"]], "trackingCode": "JJD0001"}
        ],
    }
    seen = gl.get_status(placed.provider_order_id, reference="main-1")
    assert [(s.carrier, s.tracking_number, s.lines) for s in seen.shipments] == [
        ("DHL Parcel", "JJD0001", {"1-02": 1})
    ]


def test_cancel_is_taken_before_printing_and_refused_after(gelato: FakeGelato) -> None:
    gl = adapter(gelato)
    early, late = gl.submit(request()), gl.submit(request("main-2"))
    assert gl.cancel(early.provider_order_id, reference="main-1").cancelled
    assert gelato.orders[early.provider_order_id]["fulfillmentStatus"] == "canceled"
    gelato.set_status(late.provider_order_id, "printed")
    refused = gl.cancel(late.provider_order_id, reference="main-2")
    assert not refused.cancelled
    assert refused.message == "Gelato (gl) refused: Order cannot be canceled: it is printed"


def test_a_placed_order_keeps_its_design_and_address_with_where_to_change_them(
    gelato: FakeGelato,
) -> None:
    gl = adapter(gelato)
    with pytest.raises(OrderLocked, match="cancel it while it is not printed"):
        gl.update_design("abc", request())
    with pytest.raises(OrderLocked, match=r"change the address there .*Gelato dashboard"):
        gl.update_address("abc", request())


def test_product_codes_are_checked_against_the_catalog(gelato: FakeGelato) -> None:
    unknown = adapter(gelato).unknown_codes([TEE, "apparel_typo", MUG, "apparel_typo"])
    assert unknown == {
        "apparel_typo": "Gelato has no product 'apparel_typo': "
        "Product with productUid 'apparel_typo' is not found"
    }


def test_over_the_limit_is_busy_without_retry_after_so_back_off_grows() -> None:
    fake = FakeGelato(limit_per_min=2).start()
    try:
        gl = adapter(fake)
        gl.find_by_reference("main-1")
        gl.find_by_reference("main-1")
        with pytest.raises(ProviderBusy) as busy:
            gl.submit(request())
    finally:
        fake.stop()
    assert busy.value.retry_after_s is None and fake.orders == {}
    plan = RetryPlan(attempts=4, base_wait_s=1.0)
    assert plan.wait(1, None) < plan.wait(3, None)


def test_a_wrong_api_key_is_a_permanent_refusal(gelato: FakeGelato) -> None:
    with pytest.raises(ProviderError, match="refused our API key \\(401\\)") as refused:
        adapter(gelato, api_key="wrong").submit(request())
    assert refused.value.retryable is False


def test_a_missing_api_key_names_the_variable_to_set(gelato: FakeGelato) -> None:
    with pytest.raises(ConfigError, match="PODOPS_PROVIDERS__GL__API_KEY"):
        adapter(gelato, api_key=None)


def test_webhooks_name_our_reference_only_on_the_secret_token(gelato: FakeGelato) -> None:
    gl = adapter(gelato)
    gl.submit(request())
    body = gelato.ship("main-1", "1Z999AA10123456784")
    headers = {"content-type": "application/json"}
    assert gl.webhook_references(SECRET, headers, body) == ["main-1"]
    for token in ("wrong", "", SECRET[:-1]):
        with pytest.raises(WebhookRefused):
            gl.webhook_references(token, headers, body)
    with pytest.raises(WebhookRefused):
        adapter(gelato, webhook_secret=None).webhook_references("", headers, body)


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"object": "orderStatus", "orderReferenceId": "main-7"}, ["main-7"]),
        ({"event": "order_item_tracking_code_updated", "orderReferenceId": "main-7"}, ["main-7"]),
        ({"event": "order_delivery_estimate_updated", "orderReferenceId": "main-7"}, []),
        ({"event": "order_status_updated"}, []),
        (["not", "an", "event"], []),
    ],
)
def test_other_deliveries_are_ignored(gelato: FakeGelato, event: Any, expected: list[str]) -> None:
    body = json.dumps(event).encode()
    assert adapter(gelato).webhook_references(SECRET, {}, body) == expected
    assert adapter(gelato).webhook_references(SECRET, {}, b"not json") == []


def test_no_charge_is_reported_because_gelatos_order_answer_names_no_price(
    gelato: FakeGelato,
) -> None:
    gl = adapter(gelato, currency="EUR")
    placed = gl.submit(request())
    seen = gl.get_status(placed.provider_order_id, reference="main-1")
    assert gelato.orders[placed.provider_order_id]["currency"] == "EUR"  # a currency, no price
    for answer in (placed, seen):
        assert (answer.cost, answer.cost_currency) == (None, None)  # unknown, never 0


def test_an_order_without_an_email_goes_with_the_shops_contact_email(gelato: FakeGelato) -> None:
    """Gelato requires the address's e-mail (the fake refuses a blank one)."""
    placed = adapter(gelato, contact_email="orders@shop.example").submit(request(email=""))
    sent = gelato.orders[placed.provider_order_id]
    assert sent["shippingAddress"]["email"] == "orders@shop.example"


def test_an_order_without_any_email_is_refused_before_sending(gelato: FakeGelato) -> None:
    with pytest.raises(ProviderError) as refused:
        adapter(gelato).submit(request(email=""))
    assert "set contact_email in [providers.gl]" in refused.value.message
    assert refused.value.retryable is False and gelato.orders == {}
