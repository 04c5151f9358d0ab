"""Orders routed to Gelato, through the real Submitter and follow-up, against the fake
Gelato: exactly once (Gelato takes a repeated reference, so only the lookup before
a retry stops a double), refusals in Gelato's words, tracking, cancellation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette

from podops import services
from podops.db import Database
from podops.fulfillment.attempt import RetryPlan, place_once
from podops.fulfillment.followup import ProviderFollowUp
from podops.ports.fulfillment import ProviderOrder, RequestItem, SubmitRequest
from podops.routing import ShopPolicy, StorePolicy
from podops.settings import ProviderConfig, RoutingRule, Settings
from podops.status import OrderStatus
from providers.gelato import GelatoProvider
from providers.http import make_client
from sync import provider_webhooks
from tests import factories
from tests.asgi_client import AsgiClient
from tests.fakes.gelato import API_KEY, MUG, TEE, FakeGelato, Fault
from tests.fulfillment.conftest import LINK_SECRET, build_service, give_print_files

WEBHOOK_TOKEN = "gl-hook-7f3a9c"
RULES = [
    RoutingRule(sku="TEE-*", provider="gl", provider_sku=TEE),
    RoutingRule(sku="MUG-*", provider="gl", provider_sku=MUG),
]


@dataclass
class GelatoShop:
    db: Database
    gelato: FakeGelato
    service: Any
    follow_up: ProviderFollowUp

    def order(self) -> str:
        placed = datetime.now(UTC) - timedelta(hours=2)
        policy = ShopPolicy({"main": StorePolicy(1, "gl")}, RULES)
        number = factories.received_order(self.db, policy, placed_at=placed)
        give_print_files(self.db, number)
        return number

    def get(self, number: str) -> Any:
        with self.db.unit_of_work() as session:
            order = services.get_order(session, number)
            _ = [order.shipments, order.items, order.fulfillments]
            return order


@pytest.fixture
def gelato() -> Iterator[FakeGelato]:
    fake = FakeGelato()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def shop(db: Database, db_url: str, tmp_path: Path, gelato: FakeGelato) -> GelatoShop:
    return build(db, db_url, tmp_path, gelato)


def build(db: Database, db_url: str, tmp_path: Path, gelato: FakeGelato) -> GelatoShop:
    """The shop with one Gelato provider (`gl`) wired as the runtime does."""
    settings = Settings(
        data_dir=tmp_path,
        database={"url": db_url},
        stores={"main": {"platform": "sandbox", "default_provider": "gl", "countdown_hours": 1}},
        providers={
            "gl": {
                "kind": "gelato",
                "base_url": gelato.url,
                "api_key": API_KEY,
                "rate_limit_per_s": 100,
                "timeout_s": 0.5,
                "webhook_secret": WEBHOOK_TOKEN,
            }
        },
        routing=[rule.model_dump() for rule in RULES],
        render={"public_base_url": "https://podops.example", "link_secret": LINK_SECRET},
    )  # type: ignore[arg-type]
    service = build_service(settings, db)
    return GelatoShop(db, gelato, service, ProviderFollowUp(db, service.roster))


def test_a_due_order_leaves_once_with_its_lines_and_signed_files(shop: GelatoShop) -> None:
    number = shop.order()
    assert shop.service.tick().submitted == [number]
    sent = shop.gelato.order_for(f"main-{number}")
    order = shop.get(number)
    assert order.status == OrderStatus.SUBMITTED
    assert order.provider_order_id == sent["id"]
    assert [(i["itemReferenceId"], i["productUid"]) for i in sent["items"]] == [
        (f"{number}-01", TEE),
        (f"{number}-02", MUG),
    ]
    url = sent["items"][0]["files"][0]["url"]
    assert url.startswith("https://podops.example/files/") and "sig=" in url
    assert shop.service.tick().submitted == []
    assert shop.gelato.created == {f"main-{number}": 1}


@pytest.mark.parametrize(
    "fault",
    [Fault(status=502, after_create=True), Fault(sleep_after_accept_s=1.5)],
    ids=["5xx-after-creating", "timeout-after-creating"],
)
def test_an_unclear_failure_after_gelato_created_the_order_is_looked_up_not_resent(
    shop: GelatoShop, fault: Fault
) -> None:
    number = shop.order()
    shop.gelato.inject(fault)
    assert shop.service.tick().submitted == [number]
    assert shop.gelato.created == {f"main-{number}": 1}
    assert ("POST", "/v4/orders:search") in shop.gelato.requests
    assert shop.get(number).provider_order_id == shop.gelato.order_for(f"main-{number}")["id"]


def test_a_5xx_before_creating_is_retried_and_still_one_order(shop: GelatoShop) -> None:
    number = shop.order()
    shop.gelato.inject(Fault(status=503), times=2)
    assert shop.service.tick().submitted == [number]
    assert shop.gelato.created == {f"main-{number}": 1}


class _NoLookup:
    """The adapter with its lookup taken away: what a retry without it would do."""

    def __init__(self, inner: GelatoProvider) -> None:
        self.inner = inner
        self.name = inner.name

    def find_by_reference(self, reference: str) -> ProviderOrder | None:
        return None

    def submit(self, request: SubmitRequest) -> ProviderOrder:
        return self.inner.submit(request)


def test_without_the_lookup_the_same_failure_leaves_two_orders_at_gelato(
    gelato: FakeGelato,
) -> None:
    """Why the lookup matters: Gelato accepts the repeated reference."""
    config = ProviderConfig(kind="gelato", api_key=API_KEY, base_url=gelato.url)
    adapter = GelatoProvider("gl", make_client(gelato.url), config)
    request = SubmitRequest(
        "main-9",
        "9",
        "Ana Smith",
        "ana@example.com",
        "",
        {"first_name": "A", "last_name": "S", "address_1": "1 Main St", "city": "X"}
        | {"postcode": "62701", "country": "US"},
        (RequestItem("9-01", "TEE", TEE, "Tee", 1, "https://files.test/9-01.png"),),
    )
    gelato.inject(Fault(status=502, after_create=True))
    blind = place_once(_NoLookup(adapter), request, RetryPlan(2, 0.0), sleep=lambda _: None)  # type: ignore[arg-type]
    assert blind.order is not None and gelato.created == {"main-9": 2}

    gelato.inject(Fault(status=502, after_create=True))
    again = replace(request, reference="main-10")
    guarded = place_once(adapter, again, RetryPlan(2, 0.0), sleep=lambda _: None)
    assert guarded.found_existing and gelato.created["main-10"] == 1


def test_an_unknown_product_is_submit_failed_in_gelatos_words_not_retried(
    shop: GelatoShop,
) -> None:
    number = shop.order()
    del shop.gelato.products[MUG]
    shop.service.tick()
    order = shop.get(number)
    assert order.status == OrderStatus.SUBMIT_FAILED
    assert f"Product with productUid '{MUG}' is not found" in order.last_error
    later = datetime.now(UTC) + timedelta(hours=5)
    shop.service.clock = lambda: later
    assert shop.service.tick().retried == []
    assert shop.gelato.requests.count(("POST", "/v4/orders")) == 1


def test_polling_brings_production_and_tracking_home(shop: GelatoShop) -> None:
    number = shop.order()
    shop.service.tick()
    ref = f"main-{number}"
    shop.gelato.set_status(shop.gelato.order_for(ref)["id"], "in_production")
    assert shop.follow_up.poll_tracking().changed == {ref: ["in production"]}
    shop.gelato.ship(ref, "1Z999AA10123456784")
    shop.follow_up.poll_tracking()
    order = shop.get(number)
    assert order.status == OrderStatus.SHIPPED
    assert [(s.carrier, s.tracking_number) for s in order.shipments] == [
        ("UPS", "1Z999AA10123456784")
    ]


def test_cancel_before_printing_is_done_at_gelato(shop: GelatoShop) -> None:
    number = shop.order()
    shop.service.tick()
    with shop.db.unit_of_work() as session:
        services.cancel(session, number, factories.STAFF, "customer changed their mind")
    shop.follow_up.poll_tracking()
    assert shop.get(number).status == OrderStatus.CANCELLED
    assert shop.gelato.order_for(f"main-{number}")["fulfillmentStatus"] == "canceled"


def _webhooks(shop: GelatoShop) -> AsgiClient:
    runtime = type("WebRuntime", (), {"follow_up": shop.follow_up})()
    return AsgiClient(Starlette(routes=provider_webhooks.routes(runtime)))  # type: ignore[arg-type]


def test_gelatos_webhook_on_its_secret_url_brings_tracking_home_at_once(shop: GelatoShop) -> None:
    number = shop.order()
    shop.service.tick()
    body = shop.gelato.ship(f"main-{number}", "1Z999AA10123456784")
    answer = _webhooks(shop).post(f"/webhooks/providers/gl/{WEBHOOK_TOKEN}", content=body)
    assert answer.status_code == 200
    assert shop.get(number).status == OrderStatus.SHIPPED


def test_a_webhook_is_only_a_hint_what_gelato_says_is_recorded(shop: GelatoShop) -> None:
    """A delivery on the right URL whose body claims a shipment Gelato does not have
    (forged, or replayed from another order) records nothing."""
    number = shop.order()
    shop.service.tick()
    ref = f"main-{number}"
    forged = json.loads(shop.gelato.status_event(shop.gelato.order_for(ref)))
    forged["fulfillmentStatus"] = "shipped"
    forged["items"][0]["fulfillments"] = [{"trackingCode": "FAKE123", "shipmentMethodName": "UPS"}]
    answer = _webhooks(shop).post(
        f"/webhooks/providers/gl/{WEBHOOK_TOKEN}", content=json.dumps(forged).encode()
    )
    assert answer.status_code == 200
    order = shop.get(number)
    assert order.status == OrderStatus.SUBMITTED and order.shipments == []


@pytest.mark.parametrize("path", ["/webhooks/providers/gl/wrong-token", "/webhooks/providers/gl/"])
def test_a_webhook_on_a_wrong_url_is_refused_and_changes_nothing(
    shop: GelatoShop, path: str
) -> None:
    number = shop.order()
    shop.service.tick()
    body = shop.gelato.ship(f"main-{number}", "1Z999AA10123456784")
    answer = _webhooks(shop).post(path, content=body)
    assert answer.status_code in (401, 404)
    assert shop.get(number).status == OrderStatus.SUBMITTED
    unknown = _webhooks(shop).post(f"/webhooks/providers/nobody/{WEBHOOK_TOKEN}", content=body)
    assert unknown.status_code == 404
