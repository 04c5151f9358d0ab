"""The Printful adapter against the fake Printful v1 API (real httpx, 127.0.0.1)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from podops.errors import OrderLocked, ProviderError
from podops.ports.fulfillment import (
    CancelOutcome,
    DuplicateReference,
    PlacedFile,
    ProviderBusy,
    ProviderStatus,
    RequestItem,
    SubmitRequest,
    VariantUnavailable,
    WebhookRefused,
)
from podops.refs import FulfillmentRef, OrderRef
from podops.settings import ProviderConfig
from providers.http import make_client
from providers.printful import PrintfulProvider
from tests.fakes.printful import STORE_ID, TOKEN, FakePrintful, Fault

SECRET = "pf-webhook-url-token-0123456789"
FILE = "https://podops.example/files/main-1001-1.png?exp=1&sig=abc"


@pytest.fixture
def printful() -> Iterator[FakePrintful]:
    fake = FakePrintful().start()
    yield fake
    fake.stop()


def adapter(fake: FakePrintful, **settings: Any) -> PrintfulProvider:
    settings = {
        "kind": "printful",
        "api_key": TOKEN,
        "webhook_secret": SECRET,
        "rate_limit_per_s": 100,
        **settings,
    }
    client = make_client(fake.url, timeout=2.0)
    return PrintfulProvider("pf", client, ProviderConfig(**settings))


def request(reference: str = "main-1001", *codes: str, **fields: Any) -> SubmitRequest:
    items = tuple(
        RequestItem(
            line_reference=f"1001-{n:02d}",
            sku="TEE-WHT-M",
            provider_sku=code,
            name="Custom Tee",
            quantity=n,
            print_file_url=FILE,
        )
        for n, code in enumerate(codes or ("4012",), start=1)
    )
    address = {
        "first_name": "Ana",
        "last_name": "Smith",
        "address_1": "12 Main St",
        "city": "Springfield",
        "state": "IL",
        "postcode": "62701",
        "country": "US",
    }
    values: dict[str, Any] = {
        "reference": reference,
        "order_number": "1001",
        "customer_name": "Ana Smith",
        "email": "ana@example.com",
        "phone": "",
        "address": address,
        "items": items,
        **fields,
    }
    return SubmitRequest(**values)


def test_an_order_goes_confirmed_with_our_reference_variants_and_placed_files(
    printful: FakePrintful,
) -> None:
    front_and_back = RequestItem(
        "1001-01",
        "TEE",
        "4011",
        "Tee",
        1,
        FILE,
        placements=(PlacedFile("front", FILE), PlacedFile("back", FILE + "&b")),
    )
    placed = adapter(printful).submit(request(items=(front_and_back,)))
    sent = printful.order("main-1001")
    assert placed.provider_order_id == str(sent["id"])
    assert (placed.status, placed.raw_status) == (ProviderStatus.ACCEPTED, "pending")
    assert sent["recipient"]["name"] == "Ana Smith" and sent["recipient"]["state_code"] == "IL"
    (item,) = sent["items"]
    assert (item["variant_id"], item["external_id"]) == (4011, "1001-01")
    assert [(f["type"], f["url"]) for f in item["files"]] == [
        ("default", FILE),
        ("back", FILE + "&b"),
    ]
    assert printful.requests == [("POST", "/orders")]


def test_draft_mode_creates_a_draft_then_confirms_it(printful: FakePrintful) -> None:
    placed = adapter(printful, confirm_orders=False).submit(request())
    assert placed.raw_status == "pending"
    assert printful.requests == [
        ("POST", "/orders"),
        ("POST", f"/orders/{placed.provider_order_id}/confirm"),
    ]


def test_a_repeated_reference_is_a_duplicate_found_by_lookup(printful: FakePrintful) -> None:
    pf = adapter(printful)
    first = pf.submit(request())
    with pytest.raises(DuplicateReference):
        pf.submit(request())
    assert printful.created["main-1001"] == 1
    assert pf.find_by_reference("main-1001") == first
    assert pf.find_by_reference("main-9999") is None


@pytest.mark.parametrize(
    "reference",
    [
        "main-12.5",
        "main--2024_2F5001",
        "main--1234_P2",
        "amazon_marketplace--112-1234567-1234567_P3",
        FulfillmentRef(OrderRef("etsy", "Bestellung Ä/2024/" + "9" * 40), 1).provider,
    ],
)
def test_odd_and_long_references_fit_printful_and_are_found_again(
    printful: FakePrintful, reference: str
) -> None:
    pf = adapter(printful)
    placed = pf.submit(request(reference))
    external = printful.orders[int(placed.provider_order_id)]["external_id"]
    assert len(external) <= 32
    found = pf.find_by_reference(reference)
    assert found is not None and found.provider_order_id == placed.provider_order_id
    delivery = printful.ship(external, "9400111899223197428490")
    readable = FulfillmentRef.parse_restricted(external) is not None
    assert pf.webhook_references(SECRET, {}, delivery) == ([reference] if readable else [])


def test_a_product_code_that_is_not_a_variant_id_is_refused_naming_the_line(
    printful: FakePrintful,
) -> None:
    with pytest.raises(ProviderError) as refused:
        adapter(printful).submit(request("main-1001", "4012", "TEE-WHT-M"))
    assert refused.value.retryable is False
    assert "line 1001-02" in refused.value.message and "'TEE-WHT-M'" in refused.value.message
    assert printful.requests == []


def test_an_unknown_variant_is_refused_in_printfuls_words(printful: FakePrintful) -> None:
    with pytest.raises(ProviderError) as refused:
        adapter(printful).submit(request("main-1001", "999999"))
    assert refused.value.retryable is False
    assert refused.value.message == (
        "Printful (pf) refused the order (400): Item 0: Variant with ID 999999 not found"
    )


def test_an_out_of_stock_variant_can_go_elsewhere(printful: FakePrintful) -> None:
    printful.out_of_stock.add(4013)
    with pytest.raises(VariantUnavailable) as refused:
        adapter(printful).submit(request("main-1001", "4012", "4013"))
    assert refused.value.skus == ("4013",)


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("pending", ProviderStatus.ACCEPTED),
        ("inprocess", ProviderStatus.IN_PRODUCTION),
        ("partial", ProviderStatus.IN_PRODUCTION),
        ("fulfilled", ProviderStatus.SHIPPED),
        ("canceled", ProviderStatus.CANCELLED),
        ("failed", ProviderStatus.UNRECOGNIZED),
        ("onhold", ProviderStatus.UNRECOGNIZED),
        ("archived", ProviderStatus.UNRECOGNIZED),
        ("beamed_up", ProviderStatus.UNRECOGNIZED),
    ],
)
def test_status_words(printful: FakePrintful, word: str, status: ProviderStatus) -> None:
    pf = adapter(printful)
    placed = pf.submit(request())
    printful.set_status("main-1001", word)
    seen = pf.get_status(placed.provider_order_id, reference="main-1001")
    assert (seen.status, seen.raw_status) == (status, word)


def test_tracking_comes_from_shipments_per_line(printful: FakePrintful) -> None:
    pf = adapter(printful)
    placed = pf.submit(request("main-1001", "4012", "4013"))
    printful.ship("main-1001", "1Z999AA10123456784", "UPS", lines={"1001-02": 1})
    seen = pf.get_status(placed.provider_order_id, reference="main-1001")
    assert seen.raw_status == "partial"
    (parcel,) = seen.shipments
    assert (parcel.carrier, parcel.tracking_number) == ("UPS", "1Z999AA10123456784")
    assert parcel.lines == {"1001-02": 1} and parcel.shipped_at is not None
    printful.ship("main-1001", "9400111899223197428490", "USPS", lines={"1001-01": 1, "1001-02": 1})
    seen = pf.get_status(placed.provider_order_id, reference="main-1001")
    assert seen.status == ProviderStatus.SHIPPED
    assert seen.shipments[1].lines == {"1001-01": 1, "1001-02": 1}
    assert seen.print_files == {"1001-01": FILE, "1001-02": FILE}


def test_a_confirmed_order_sent_back_to_draft_is_confirmed_again_when_the_hold_lifts(
    printful: FakePrintful,
) -> None:
    pf = adapter(printful)
    placed = pf.submit(request())
    printful.send_back_to_draft("main-1001")
    held = pf.get_status(placed.provider_order_id, reference="main-1001")
    assert held.status == ProviderStatus.UNRECOGNIZED
    assert held.raw_status == "draft, not confirmed: Order costs are still being calculated"
    lifted = printful.remove_hold("main-1001")
    assert pf.webhook_references(SECRET, {}, lifted) == ["main-1001"]
    again = pf.get_status(placed.provider_order_id, reference="main-1001")
    assert (again.status, again.raw_status) == (ProviderStatus.ACCEPTED, "pending")
    assert printful.order("main-1001")["status"] == "pending"


def test_cancel_only_before_production(printful: FakePrintful) -> None:
    pf = adapter(printful)
    first = pf.submit(request("main-1001"))
    second = pf.submit(request("main-1002"))
    assert pf.cancel(first.provider_order_id, reference="main-1001") == CancelOutcome(
        True, "cancelled at Printful (pf)"
    )
    assert printful.order("main-1001")["status"] == "canceled"
    printful.set_status("main-1002", "inprocess")
    refused = pf.cancel(second.provider_order_id, reference="main-1002")
    assert refused == CancelOutcome(
        False, "Printful (pf) refused: Order with status inprocess cannot be canceled"
    )


@pytest.mark.parametrize("change", ["update_design", "update_address"])
def test_changes_only_while_draft_or_failed(printful: FakePrintful, change: str) -> None:
    pf = adapter(printful)
    placed = pf.submit(request())
    with pytest.raises(OrderLocked, match="is pending at Printful"):
        getattr(pf, change)(placed.provider_order_id, request())
    printful.set_status("main-1001", "failed")
    moved = request(address={**request().address, "address_1": "99 Oak Ave"})
    updated = getattr(pf, change)(placed.provider_order_id, moved)
    assert updated.raw_status == "pending"  # fixed, then confirmed again
    assert printful.order("main-1001")["recipient"]["address1"] == "99 Oak Ave"


def test_slow_down_answers_are_provider_busy(printful: FakePrintful) -> None:
    pf = adapter(printful)
    printful.inject(Fault(status=429, retry_after="7"))
    with pytest.raises(ProviderBusy) as busy:
        pf.submit(request())
    assert busy.value.retry_after_s == 7
    printful.inject(Fault(status=419))
    with pytest.raises(ProviderBusy) as warned:
        pf.submit(request())
    assert warned.value.retry_after_s == 60
    assert printful.created == {}


def test_the_fakes_rate_limit_answers_429_with_retry_after() -> None:
    fake = FakePrintful(per_minute=3).start()
    try:
        pf = adapter(fake)
        for _ in range(3):
            assert pf.find_by_reference("main-1") is None
        with pytest.raises(ProviderBusy) as busy:
            pf.find_by_reference("main-1")
        assert busy.value.retry_after_s is not None and 0 < busy.value.retry_after_s <= 60
    finally:
        fake.stop()


def test_an_account_token_sends_the_store_id() -> None:
    fake = FakePrintful(account_token=True).start()
    try:
        with pytest.raises(ProviderError, match="store_id"):
            adapter(fake).find_by_reference("main-1")
        assert adapter(fake, store_id=STORE_ID).find_by_reference("main-1") is None
    finally:
        fake.stop()


def test_webhooks_count_only_on_the_secret_url(printful: FakePrintful) -> None:
    pf = adapter(printful)
    pf.submit(request())
    shipped = printful.ship("main-1001", "9400111899223197428490")
    with pytest.raises(WebhookRefused, match="token is wrong"):
        pf.webhook_references("guess", {}, shipped)
    with pytest.raises(WebhookRefused, match="PODOPS_PROVIDERS__PF__WEBHOOK_SECRET"):
        adapter(printful, webhook_secret=None).webhook_references(SECRET, {}, shipped)
    with pytest.raises(WebhookRefused, match="not JSON"):
        pf.webhook_references(SECRET, {}, b"<html>")
    assert pf.webhook_references(SECRET, {}, shipped) == ["main-1001"]
    order = printful.order("main-1001")
    assert pf.webhook_references(SECRET, {}, printful.delivery("stock_updated", order)) == []
    other_store = adapter(printful, store_id="8888")
    assert other_store.webhook_references(SECRET, {}, shipped) == []


def test_the_catalog_names_unknown_variants_in_printfuls_words(printful: FakePrintful) -> None:
    unknown = adapter(printful).unknown_codes(["4011", "999999", "TEE-M", "4011"])
    assert unknown == {
        "999999": "Variant not found",
        "TEE-M": "not a Printful catalog variant id (a whole number)",
    }
    assert printful.requests.count(("GET", "/products/variant/4011")) == 1


def test_the_charge_is_costs_total_in_its_currency_from_submission_on(
    printful: FakePrintful,
) -> None:
    pf = adapter(printful)
    placed = pf.submit(request())
    assert (placed.cost, placed.cost_currency) == (Decimal("17.94"), "USD")
    printful.order("main-1001")["costs"].update(currency="EUR", total="21.30")
    seen = pf.get_status(placed.provider_order_id, reference="main-1001")
    assert (seen.cost, seen.cost_currency) == (Decimal("21.30"), "EUR")


def test_while_costs_are_calculated_no_charge_is_reported_never_zero(
    printful: FakePrintful,
) -> None:
    pf = adapter(printful)
    placed = pf.submit(request())
    printful.send_back_to_draft("main-1001")  # every amount "0.00" meanwhile
    held = pf.get_status(placed.provider_order_id, reference="main-1001")
    assert (held.cost, held.cost_currency) == (None, None)
    del printful.order("main-1001")["costs"]
    assert pf.get_status(placed.provider_order_id, reference="main-1001").cost is None
    printful.order("main-1001")["costs"] = {"currency": "USD", "total": "18.20"}
    printful.remove_hold("main-1001")  # calculated: the documented costs again
    again = pf.get_status(placed.provider_order_id, reference="main-1001")
    assert (again.cost, again.cost_currency) == (Decimal("17.94"), "USD")


@pytest.mark.parametrize(
    ("total", "currency"),
    [
        ("-4.00", "USD"),
        ("NaN", "USD"),
        ("1e9", "USD"),
        ("99999999", "USD"),
        ("12,50", "USD"),
        (True, "USD"),
        ({"amount": "3"}, "USD"),
        ("17.94", "dollars"),
        ("17.94", None),
    ],
)
def test_an_impossible_charge_is_none_with_a_log_line_and_the_answer_still_read(
    printful: FakePrintful, caplog: pytest.LogCaptureFixture, total: object, currency: object
) -> None:
    pf = adapter(printful)
    placed = pf.submit(request())
    printful.order("main-1001")["costs"].update(total=total, currency=currency)
    printful.ship("main-1001", "9400111899223100012345")
    with caplog.at_level(logging.WARNING, logger="providers.charges"):
        seen = pf.get_status(placed.provider_order_id, reference="main-1001")
    assert (seen.cost, seen.cost_currency) == (None, None)
    assert seen.status == ProviderStatus.SHIPPED and seen.shipments  # nothing else lost
    if currency is not None:
        assert "no charge kept" in caplog.text
