"""Address verification before submission (a store's `verify_addresses`), against the
fake EasyPost API and the fake CustomCat: a deliverable address goes out; one the
carrier cannot deliver to waits for staff with the carrier's reason (fixed, or
released to go as it is); an outage delays the order, tells staff once, and never
loses or blocks it for good."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from podops import services
from podops.db import Database
from podops.errors import InvalidInput
from podops.fulfillment.address_change import AddressDesk
from podops.fulfillment.address_check import AddressChecks
from podops.fulfillment.countdown import Submitter
from podops.models import Event, OutboxMessage
from podops.outbox import Topic
from podops.settings import EasyPostConfig
from podops.status import OrderStatus
from providers.easypost_verify import EasyPostVerifier
from tests.factories import STAFF
from tests.fakes.easypost import TEST_KEY, Failure, FakeEasyPost
from tests.fulfillment.conftest import Shop, build_service


class Clock:
    """The real time, moved forward by what a test skips (`ahead`)."""

    def __init__(self) -> None:
        self.ahead = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.ahead


@pytest.fixture
def easypost() -> Iterator[FakeEasyPost]:
    fake = FakeEasyPost().start()
    yield fake
    fake.stop()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def checking(
    shop: Shop, db: Database, easypost: FakeEasyPost, clock: Clock, stores: set[str] | None = None
) -> Submitter:
    config = EasyPostConfig(base_url=easypost.api_base, api_key=TEST_KEY, timeout_s=2)  # type: ignore[arg-type]
    checks = AddressChecks(db, EasyPostVerifier(config), stores or {"main"}, clock=clock)
    return build_service(shop.settings, db, shop.service.roster, address_checks=checks, clock=clock)


def actions(db: Database, number: str) -> list[str]:
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        found = session.query(Event).filter_by(order_id=order.id).order_by(Event.id)
        return [event.action for event in found]


def test_a_deliverable_address_is_verified_then_sent(
    shop: Shop, db: Database, easypost: FakeEasyPost, clock: Clock
) -> None:
    submitter = checking(shop, db, easypost, clock)
    number = shop.order("cc")
    report = submitter.tick()
    assert report.submitted == [number]
    assert easypost.verified[-1]["street1"] == "12 Main St"
    assert easypost.verified[-1]["zip"] == "62701"
    assert "address_verified" in actions(db, number)
    assert shop.customcat.orders[f"main-{number}"]["body"]["shipping_address1"] == "12 Main St"


def test_an_undeliverable_address_waits_for_staff_with_the_carriers_reason(
    shop: Shop, db: Database, easypost: FakeEasyPost, clock: Clock
) -> None:
    submitter = checking(shop, db, easypost, clock)
    easypost.unknown_zips.add("62701")
    number = shop.order("cc")
    report = submitter.tick()
    assert report.submitted == []
    assert report.blocked == [(number, "address did not verify: Address not found")]
    order = shop.get(number)
    assert order.status == OrderStatus.ON_HOLD
    assert order.held_by == "address check (EasyPost)"
    assert order.hold_reason.startswith("address check: Address not found (EasyPost)")
    assert order.problems == ["address check: EasyPost cannot verify it: Address not found"]
    assert f"main-{number}" not in shop.customcat.orders
    with db.unit_of_work() as session:
        failed = session.query(Event).filter_by(action="address_check_failed").one()
        notices = session.query(OutboxMessage).filter_by(topic=Topic.NOTIFY.value).all()
        assert any(n.payload["event_id"] == failed.id for n in notices)

    # Staff fix the address: the address-check hold ends, the new address is checked.
    desk = AddressDesk(db, submitter.roster)
    desk.change(number, {"postcode": "62702", "line1": "13 Main St"}, STAFF)
    assert shop.get(number).status == OrderStatus.PENDING
    assert submitter.tick().submitted == [number]
    assert easypost.verified[-1]["zip"] == "62702"
    sent = shop.customcat.orders[f"main-{number}"]["body"]
    assert (sent["shipping_address1"], sent["shipping_zip"]) == ("13 Main St", "62702")


def test_released_by_a_person_the_address_goes_as_it_is(
    shop: Shop, db: Database, easypost: FakeEasyPost, clock: Clock
) -> None:
    submitter = checking(shop, db, easypost, clock)
    easypost.unknown_zips.add("62701")
    number = shop.order("cc")
    submitter.tick()
    asked = len(easypost.verified)
    with db.unit_of_work() as session:
        services.release(session, number, STAFF)
    assert submitter.tick().submitted == [number]
    assert len(easypost.verified) == asked  # not asked again: the person decided
    accepted = [e for e in actions(db, number) if e == "address_accepted"]
    assert accepted == ["address_accepted"]
    with db.unit_of_work() as session:
        event = session.query(Event).filter_by(action="address_accepted").one()
        assert event.actor == STAFF.name


def test_an_outage_delays_the_order_tells_staff_once_and_loses_nothing(
    shop: Shop, db: Database, easypost: FakeEasyPost, clock: Clock
) -> None:
    submitter = checking(shop, db, easypost, clock)
    number = shop.order("cc")
    easypost.fail_next(Failure(503, "SERVICE.UNAVAILABLE", "Service unavailable"), times=3)
    for attempt in range(3):
        report = submitter.tick()
        assert report.submitted == []
        assert report.blocked[0][0] == number
        order = shop.get(number)
        assert order.status == OrderStatus.PENDING
        assert order.problems[0].startswith("address check: waiting for EasyPost")
        assert order.address_check["tries"] == attempt + 1
        assert submitter.tick().blocked == []  # not asked again before its pause
        clock.ahead += timedelta(minutes=2**attempt)
    told = [a for a in actions(db, number) if a == "address_check_delayed"]
    assert told == ["address_check_delayed"]  # once, after the third try
    assert submitter.tick().submitted == [number]  # EasyPost answers again
    assert shop.get(number).problems == []


def test_a_person_can_send_an_order_unchecked_while_the_service_is_down(
    shop: Shop, db: Database, easypost: FakeEasyPost, clock: Clock
) -> None:
    submitter = checking(shop, db, easypost, clock)
    number = shop.order("cc", due=False)
    easypost.fail_next(Failure(502, html=True))
    order = submitter.submit_now(number, STAFF)
    assert order.status == OrderStatus.SUBMITTED
    with db.unit_of_work() as session:
        accepted = session.query(Event).filter_by(action="address_accepted").one()
        assert accepted.actor == STAFF.name
        assert "sent unchecked: EasyPost did not answer" in accepted.detail["reason"]


def test_submitting_by_hand_an_undeliverable_address_is_refused_with_the_reason(
    shop: Shop, db: Database, easypost: FakeEasyPost, clock: Clock
) -> None:
    submitter = checking(shop, db, easypost, clock)
    number = shop.order("cc", due=False, shipping_address={"address_1": "Main Street",
                                                              "city": "Springfield",
                                                              "postcode": "62701",
                                                              "country": "US",
                                                              "first_name": "Ana"})  # fmt: skip
    with pytest.raises(InvalidInput) as refused:
        submitter.submit_now(number, STAFF)
    assert "House number is missing" in refused.value.message
    assert shop.get(number).status == OrderStatus.ON_HOLD
    assert f"main-{number}" not in shop.customcat.orders


def test_other_stores_are_not_checked(
    shop: Shop, db: Database, easypost: FakeEasyPost, clock: Clock
) -> None:
    submitter = checking(shop, db, easypost, clock, stores={"elsewhere"})
    number = shop.order("cc")
    assert submitter.tick().submitted == [number]
    assert easypost.verified == []
