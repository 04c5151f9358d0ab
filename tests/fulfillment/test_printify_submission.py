"""Orders to the fake Printify through the real countdown (Submitter) and follow-up:
exactly once through 5xx, timeouts and a halfway submit, refusals in Printify's
words, tracking and cancellation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from podops import services
from podops.db import Database
from podops.fulfillment.countdown import Submitter
from podops.fulfillment.followup import ProviderFollowUp
from podops.routing import ShopPolicy, StorePolicy
from podops.settings import RoutingRule, Settings
from podops.status import OrderStatus
from tests import factories
from tests.factories import STAFF
from tests.fakes.printify import SHOP_ID, TOKEN, FakePrintify, Fault
from tests.fulfillment.conftest import LINK_SECRET, build_service, give_print_files
from tests.providers.test_printify import request


@dataclass
class PrintifyShop:
    db: Database
    service: Submitter
    follow_up: ProviderFollowUp
    fake: FakePrintify

    def order(self, tee: str = "6:99:12100") -> str:
        """Given a due order whose two lines (a tee and a mug) go to Printify."""
        rules = [
            RoutingRule(sku="TEE-*", provider="pfy", provider_sku=tee),
            RoutingRule(sku="MUG-*", provider="pfy", provider_sku="68:1:33719"),
        ]
        policy = ShopPolicy({"main": StorePolicy(1, "pfy")}, rules)
        placed = datetime.now(UTC) - timedelta(hours=2)
        number = factories.received_order(self.db, policy, placed_at=placed)
        give_print_files(self.db, number)
        return number

    def get(self, number: str) -> Any:
        with self.db.unit_of_work() as session:
            order = services.get_order(session, number)
            _ = [order.shipments, order.items, order.fulfillments]
            return order


@pytest.fixture
def printify() -> Iterator[FakePrintify]:
    fake = FakePrintify().start()
    yield fake
    fake.stop()


@pytest.fixture
def pshop(db: Database, db_url: str, tmp_path: Path, printify: FakePrintify) -> PrintifyShop:
    return build(db, db_url, tmp_path, printify)


def build(db: Database, db_url: str, tmp_path: Path, printify: FakePrintify) -> PrintifyShop:
    """The shop with one Printify provider (`pfy`) wired as the runtime does."""
    settings = Settings(
        data_dir=tmp_path,
        database={"url": db_url},
        stores={"main": {"platform": "sandbox", "default_provider": "pfy", "countdown_hours": 1}},
        providers={
            "pfy": {
                "kind": "printify",
                "base_url": printify.base_url,
                "api_key": TOKEN,
                "store_id": SHOP_ID,
                "timeout_s": 0.5,
            }
        },
        render={"public_base_url": "https://podops.example", "link_secret": LINK_SECRET},
    )  # type: ignore[arg-type]
    service = build_service(settings, db)
    return PrintifyShop(db, service, ProviderFollowUp(db, service.roster), printify)


def test_a_due_order_is_created_once_and_sent_to_production(pshop: PrintifyShop) -> None:
    number = pshop.order()
    assert pshop.service.tick().submitted == [number]
    (sent,) = pshop.fake.by_reference(f"main-{number}")
    assert sent["status"] == "sending-to-production"
    assert pshop.get(number).provider_order_id == sent["id"]
    tee, mug = sent["print_areas"]
    assert list(mug) == ["front"]
    assert tee["front"].startswith("https://podops.example/files/") and "sig=" in tee["front"]
    assert [i["variant_id"] for i in sent["line_items"]] == [12100, 33719]
    assert pshop.service.tick().submitted == []
    assert pshop.fake.created[f"main-{number}"] == 1


@pytest.mark.parametrize(
    "fault",
    [Fault(status=500, after_create=True), Fault(sleep_after_create_s=1.5)],
    ids=["5xx-after-create", "timeout-after-create"],
)
def test_an_unclear_answer_is_looked_up_and_never_doubled(
    pshop: PrintifyShop, fault: Fault
) -> None:
    number = pshop.order()
    pshop.fake.inject(fault)
    assert pshop.service.tick().submitted == [number]
    assert pshop.fake.created[f"main-{number}"] == 1
    assert pshop.fake.by_reference(f"main-{number}")[0]["status"] == "sending-to-production"
    assert pshop.get(number).status == OrderStatus.SUBMITTED


def test_without_the_lookup_the_fake_would_hold_two(pshop: PrintifyShop) -> None:
    """Printify accepts a repeated external_id: only our lookup keeps it single."""
    number = pshop.order()
    pshop.fake.inject(Fault(status=500, after_create=True))
    adapter = pshop.service.roster.provider("pfy")
    pshop.service.tick()
    assert len(pshop.fake.by_reference(f"main-{number}")) == 1
    adapter.submit(request(f"main-{number}"))  # a blind resend, as a retry without lookup
    assert pshop.fake.created[f"main-{number}"] == 2


def test_a_halfway_submit_is_finished_by_the_next_attempt(pshop: PrintifyShop) -> None:
    """Created, then the send to production refused: kept on hold at Printify,
    submit_failed with the reason; the staff retry looks it up and sends it."""
    number = pshop.order()
    pshop.fake.inject_on_send(Fault(status=402))
    report = pshop.service.tick()
    assert report.failed and "refused to send it to production (402)" in report.failed[0][1]
    assert pshop.get(number).status == OrderStatus.SUBMIT_FAILED
    (held,) = pshop.fake.by_reference(f"main-{number}")
    assert held["status"] == "on-hold"
    pshop.service.retry(number, STAFF)
    assert pshop.service.tick().submitted == [number]
    assert held["status"] == "sending-to-production"
    assert pshop.fake.created[f"main-{number}"] == 1


def test_cancelling_a_halfway_order_cancels_it_on_hold_and_never_sends_it(
    pshop: PrintifyShop,
) -> None:
    """The cancel's lookup finds the order Printify holds; it must not send it to
    production on the way (it would be printed, and the cancel refused)."""
    number = pshop.order()
    pshop.fake.inject_on_send(Fault(status=402))
    pshop.service.tick()
    assert pshop.get(number).status == OrderStatus.SUBMIT_FAILED
    (held,) = pshop.fake.by_reference(f"main-{number}")
    with pshop.db.unit_of_work() as session:
        services.cancel(session, number, STAFF, "customer changed their mind")
    pshop.follow_up.poll_tracking()
    assert pshop.get(number).status == OrderStatus.CANCELLED
    assert held["status"] == "canceled" and not held.get("sent_to_production_at")


def test_a_send_to_production_outage_is_repaired_within_the_attempts(pshop: PrintifyShop) -> None:
    number = pshop.order()
    pshop.fake.inject_on_send(Fault(status=503))
    assert pshop.service.tick().submitted == [number]
    assert pshop.fake.created[f"main-{number}"] == 1
    assert pshop.fake.by_reference(f"main-{number}")[0]["sent_to_production_at"]


def test_an_unknown_variant_fails_in_printifys_words_and_is_not_retried(
    pshop: PrintifyShop,
) -> None:
    number = pshop.order(tee="6:99:99999")
    report = pshop.service.tick()
    assert report.failed and report.failed[0][0] == number
    order = pshop.get(number)
    assert order.status == OrderStatus.SUBMIT_FAILED
    assert "variant 99999 is not available" in order.last_error
    assert pshop.service.tick().failed == []
    assert [m for m, _ in pshop.fake.requests] == ["POST"]


def test_a_code_of_another_form_fails_before_printify_is_asked(pshop: PrintifyShop) -> None:
    number = pshop.order(tee="PF-TEE-BLACK-M")
    pshop.service.tick()
    order = pshop.get(number)
    assert order.status == OrderStatus.SUBMIT_FAILED
    assert "<blueprint_id>:<print_provider_id>:<variant_id>" in order.last_error
    assert pshop.fake.requests == []


def test_tracking_and_a_refused_cancel_come_back_from_printify(pshop: PrintifyShop) -> None:
    number = pshop.order()
    pshop.service.tick()
    order_id = pshop.get(number).provider_order_id
    pshop.fake.advance(order_id, "in-production")
    ref = f"main-{number}"
    assert pshop.follow_up.poll_tracking().changed == {ref: ["in production"]}
    with pshop.db.unit_of_work() as session:
        services.cancel(session, number, STAFF, "too late?")
    pshop.follow_up.poll_tracking()
    refused = pshop.get(number)
    assert refused.status == OrderStatus.IN_PRODUCTION
    assert "in-production and can't be canceled" in refused.last_error
    pshop.fake.ship(order_id, "9400111899223100012345", "usps")
    changed = pshop.follow_up.poll_tracking().changed
    assert changed == {ref: ["shipped USPS 9400111899223100012345"]}
    assert pshop.get(number).status == OrderStatus.SHIPPED


def test_a_cancel_reaches_printify_while_it_allows(pshop: PrintifyShop) -> None:
    number = pshop.order()
    pshop.service.tick()
    order_id = pshop.get(number).provider_order_id
    pshop.fake.advance(order_id, "payment-not-received")
    with pshop.db.unit_of_work() as session:
        services.cancel(session, number, STAFF, "customer changed their mind")
    pshop.follow_up.poll_tracking()
    assert pshop.get(number).status == OrderStatus.CANCELLED
    assert pshop.fake.orders[order_id]["status"] == "canceled"
