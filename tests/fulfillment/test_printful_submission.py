"""The countdown, exactly-once submission and the follow-up against the fake Printful:
the real Submitter and ProviderFollowUp, the adapter built by the runtime's wiring."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from podops import services
from podops.db import Database
from podops.fulfillment.attempt import RetryPlan
from podops.fulfillment.countdown import Submitter
from podops.fulfillment.followup import ProviderFollowUp
from podops.fulfillment.limits import LimitedProvider
from podops.fulfillment.roster import ProviderRoster
from podops.routing import ShopPolicy, StorePolicy
from podops.runtime.fulfillment_wiring import build_provider, callback_signer, print_links
from podops.settings import RoutingRule, Settings
from podops.status import OrderStatus
from providers.printful import PrintfulProvider
from tests import factories
from tests.fakes.printful import TOKEN, FakePrintful, Fault
from tests.fulfillment.conftest import LINK_SECRET, give_print_files

SECRET = "pf-webhook-url-token-0123456789"
RULES = [
    RoutingRule(sku="TEE-*", provider="pf", provider_sku="4012"),
    RoutingRule(sku="MUG-*", provider="pf", provider_sku="1403"),
]


class LookupSkipped(PrintfulProvider):
    """A broken adapter that never finds an order: what the duplicate counter must catch."""

    def find_by_reference(self, reference: str) -> None:
        return None


@dataclass
class PrintfulShop:
    db: Database
    fake: FakePrintful
    service: Submitter
    follow_up: ProviderFollowUp
    rules: list[RoutingRule]

    def order(self, **fields: Any) -> str:
        placed = datetime.now(UTC) - timedelta(hours=2)
        policy = ShopPolicy({"main": StorePolicy(1, "pf")}, self.rules)
        number = factories.received_order(
            self.db, policy, placed_at=placed, customer_phone="+1 217 555 0100", **fields
        )
        give_print_files(self.db, number)
        return number

    def get(self, number: str) -> Any:
        with self.db.unit_of_work() as session:
            order = services.get_order(session, number)
            _ = [order.shipments, order.items, order.fulfillments]
            return order

    def webhook(self, body: bytes) -> list[str]:
        """What the webhook route does with a verified delivery: re-read each order."""
        provider = self.follow_up.roster.provider("pf")
        changes = []
        for reference in provider.webhook_references(SECRET, {}, body):  # type: ignore[attr-defined]
            changes += self.follow_up.refresh(reference, provider="pf")
        return changes


def build(
    db: Database, db_url: str, data_dir: Path, fake: FakePrintful, adapter: type | None = None
) -> PrintfulShop:
    settings = Settings(
        data_dir=data_dir,
        database={"url": db_url},
        stores={"main": {"platform": "sandbox", "default_provider": "pf", "countdown_hours": 1}},
        providers={
            "pf": {
                "kind": "printful",
                "base_url": fake.url,
                "api_key": TOKEN,
                "webhook_secret": SECRET,
                "rate_limit_per_s": 100,
                "timeout_s": 0.5,
            }
        },
        render={"public_base_url": "https://podops.example", "link_secret": LINK_SECRET},
    )  # type: ignore[arg-type]
    links = print_links(settings)
    built, client = build_provider("pf", settings.providers["pf"], settings, links)
    if adapter is not None:
        assert client is not None
        built = adapter("pf", client, settings.providers["pf"])
    roster = ProviderRoster(
        {"pf": LimitedProvider(built, per_second=100, concurrency=4)},
        links,
        callback_signer(settings),
    )
    service = Submitter(db, roster, retry=RetryPlan(attempts=3, base_wait_s=0.01))
    return PrintfulShop(db, fake, service, ProviderFollowUp(db, roster), list(RULES))


@pytest.fixture
def printful() -> Iterator[FakePrintful]:
    fake = FakePrintful().start()
    yield fake
    fake.stop()


@pytest.fixture
def shop(db: Database, db_url: str, tmp_path: Path, printful: FakePrintful) -> PrintfulShop:
    return build(db, db_url, tmp_path, printful)


def test_a_due_order_leaves_once_with_variant_ids_and_signed_print_links(
    shop: PrintfulShop,
) -> None:
    number = shop.order()
    assert shop.service.tick().submitted == [number]
    order = shop.get(number)
    sent = shop.fake.order(f"main-{number}")
    assert order.status == OrderStatus.SUBMITTED
    assert order.provider_order_id == str(sent["id"])
    assert [i["variant_id"] for i in sent["items"]] == [4012, 1403]
    assert [i["external_id"] for i in sent["items"]] == [f"{number}-01", f"{number}-02"]
    url = sent["items"][0]["files"][0]["url"]
    assert url.startswith("https://podops.example/files/") and "sig=" in url
    assert shop.service.tick().submitted == []
    assert shop.fake.created[f"main-{number}"] == 1


@pytest.mark.parametrize(
    "fault",
    [Fault(status=500, after_create=True), Fault(sleep_after_accept_s=1.5)],
    ids=["5xx-after-create", "timeout-after-create"],
)
@pytest.mark.parametrize("lookup", ["looked-up", "skipped"])
def test_an_unclear_answer_is_looked_up_never_doubled(
    db: Database, db_url: str, tmp_path: Path, fault: Fault, lookup: str
) -> None:
    """Printful would refuse the second create (OR-13); this fake takes it, so only the
    lookup before the retry keeps the order single, and skipping it shows as two."""
    fake = FakePrintful(reject_duplicates=False).start()
    try:
        shop = build(db, db_url, tmp_path, fake, LookupSkipped if lookup == "skipped" else None)
        number = shop.order()
        fake.inject(fault)
        assert shop.service.tick().submitted == [number]
        created = fake.created[f"main-{number}"]
        if lookup == "looked-up":
            assert created == 1
            assert ("GET", f"/orders/@main-{number}") in fake.requests
        else:
            assert created == 2  # the test above would fail if the lookup went missing
    finally:
        fake.stop()


def test_an_order_already_at_printful_is_refused_or13_and_recorded_not_doubled(
    shop: PrintfulShop,
) -> None:
    """An earlier attempt created it and the answer was lost (a crash before our commit):
    the next create is refused EXTERNAL_ID_IN_USE and the existing order is recorded."""
    number = shop.order()
    earlier = {
        "external_id": f"main-{number}",
        "recipient": {"name": "Ana", "address1": "1 A St", "city": "X", "country_code": "GB"},
        "items": [{"variant_id": 4012, "files": [{"url": "https://x.example/a.png"}]}],
    }
    headers = {"authorization": f"Bearer {TOKEN}"}
    answer = httpx.post(f"{shop.fake.url}/orders", json=earlier, headers=headers, timeout=5)
    assert answer.status_code == 200
    assert shop.service.tick().submitted == [number]
    assert shop.fake.created[f"main-{number}"] == 1
    assert shop.fake.requests.count(("POST", "/orders")) == 2
    assert shop.get(number).provider_order_id == str(answer.json()["result"]["id"])


def test_an_unknown_variant_is_submit_failed_with_printfuls_reason_not_retried(
    shop: PrintfulShop,
) -> None:
    shop.rules[0] = RoutingRule(sku="TEE-*", provider="pf", provider_sku="999999")
    number = shop.order()
    shop.service.tick()
    order = shop.get(number)
    assert order.status == OrderStatus.SUBMIT_FAILED
    assert "Item 0: Variant with ID 999999 not found" in order.last_error
    assert shop.fake.requests.count(("POST", "/orders")) == 1
    assert shop.service.tick().failed == []


def test_a_product_code_that_is_no_variant_id_fails_naming_the_line(shop: PrintfulShop) -> None:
    shop.rules[1] = RoutingRule(sku="MUG-*", provider="pf", provider_sku="MUG-11OZ-WHT")
    number = shop.order()
    shop.service.tick()
    order = shop.get(number)
    assert order.status == OrderStatus.SUBMIT_FAILED
    assert f"line {number}-02" in order.last_error and "'MUG-11OZ-WHT'" in order.last_error
    assert shop.fake.requests == []


def test_tracking_comes_home_from_shipments_per_line(shop: PrintfulShop) -> None:
    number = shop.order()
    shop.service.tick()
    ref = f"main-{number}"
    shop.fake.ship(ref, "1Z999AA10123456784", "UPS", lines={f"{number}-02": 1})
    shop.follow_up.poll_tracking()
    order = shop.get(number)
    assert order.status == OrderStatus.PARTIALLY_SHIPPED
    assert [s.tracking_number for s in order.shipments] == ["1Z999AA10123456784"]
    delivery = shop.fake.ship(ref, "9400111899223197428490", "USPS", lines={f"{number}-01": 2})
    assert shop.webhook(delivery) == ["shipped USPS 9400111899223197428490"]
    assert shop.get(number).status == OrderStatus.SHIPPED


def test_a_draft_after_confirmation_is_confirmed_again_when_the_hold_lifts(
    shop: PrintfulShop,
) -> None:
    number = shop.order()
    shop.service.tick()
    ref = f"main-{number}"
    assert shop.webhook(shop.fake.send_back_to_draft(ref)) == [
        "unknown provider status 'draft, not confirmed: Order costs are still being calculated'"
    ]
    assert any("pf says 'draft, not confirmed" in p for p in shop.get(number).problems)
    shop.webhook(shop.fake.remove_hold(ref))
    assert shop.fake.order(ref)["status"] == "pending"
    assert shop.get(number).problems == []


@pytest.mark.parametrize(
    ("printful_status", "cancelled"), [("pending", True), ("inprocess", False)]
)
def test_cancel_before_production_only(
    shop: PrintfulShop, printful_status: str, cancelled: bool
) -> None:
    number = shop.order()
    shop.service.tick()
    shop.fake.set_status(f"main-{number}", printful_status)
    with shop.db.unit_of_work() as session:
        services.cancel(session, number, factories.STAFF, "customer changed their mind")
    shop.follow_up.poll_tracking()
    order = shop.get(number)
    assert (order.status == OrderStatus.CANCELLED) is cancelled
    expected = "canceled" if cancelled else "inprocess"
    assert shop.fake.order(f"main-{number}")["status"] == expected
