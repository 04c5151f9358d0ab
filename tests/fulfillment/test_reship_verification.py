"""A reship (remake) is a submission: for a store that verifies addresses before every
submission, the address the customer corrected is checked with EasyPost (the fake)
before the remake leaves for CustomCat (the fake), and one that does not verify waits
for staff with the carrier's reason, as a first submission does. Staff fix it, or send
it as it is with `podops submit`; an address verified already goes at once."""

from __future__ import annotations

from podops import services
from podops.db import Database
from podops.errors import InvalidInput
from podops.fulfillment.address_change import AddressDesk
from podops.fulfillment.countdown import Submitter
from podops.models import Event, OutboxMessage
from podops.outbox import Topic
from podops.status import OrderStatus
from podops.wording import describe_event
from tests.factories import STAFF
from tests.fakes.easypost import FakeEasyPost
from tests.fulfillment.conftest import Shop
from tests.fulfillment.test_address_verification import Clock, checking, clock, easypost

__all__ = ["clock", "easypost"]

TRACKING = "1Z999AA10123456784"


def shipped_and_lost(shop: Shop, submitter: Submitter) -> str:
    """Given an order verified, sent to CustomCat and shipped, then lost: a remake waits."""
    number = shop.order("cc")
    assert submitter.tick().submitted == [number]
    shop.customcat.ship(f"main-{number}", TRACKING, vendor="UPS", items=3)
    shop.follow_up.poll_tracking()
    assert shop.get(number).status == OrderStatus.SHIPPED
    with shop.db.unit_of_work() as session:
        services.remake(session, number, STAFF, reason="lost", paid_by="carrier", lines=())
    return number


def remake_sent(shop: Shop, number: str) -> dict[str, str] | None:
    found = shop.customcat.orders.get(f"main--{number}_P2")
    return found["body"] if found else None


def test_a_reship_to_the_verified_address_goes_at_once(
    shop: Shop, db: Database, easypost: FakeEasyPost, clock: Clock
) -> None:
    submitter = checking(shop, db, easypost, clock)
    number = shipped_and_lost(shop, submitter)
    asked = len(easypost.verified)
    submitter.tick()
    assert remake_sent(shop, number) is not None
    assert len(easypost.verified) == asked  # that very address was verified already


def test_a_corrected_address_the_carrier_cannot_deliver_to_holds_the_reship_for_staff(
    shop: Shop, db: Database, easypost: FakeEasyPost, clock: Clock
) -> None:
    submitter = checking(shop, db, easypost, clock)
    number = shipped_and_lost(shop, submitter)
    desk = AddressDesk(db, submitter.roster)
    easypost.unknown_zips.add("62799")
    desk.change(number, {"line1": "99 Nowhere Rd", "postcode": "62799"}, STAFF)

    report = submitter.tick()

    assert remake_sent(shop, number) is None
    assert (number, "address did not verify: Address not found") in report.blocked
    assert easypost.verified[-1]["zip"] == "62799"
    order = shop.get(number)
    assert order.status == OrderStatus.SHIPPED  # the order itself stays as the store knows it
    assert "address check: EasyPost cannot verify it: Address not found" in order.problems
    with db.unit_of_work() as session:
        failed = session.query(Event).filter_by(action="address_check_failed").one()
        assert describe_event(failed, number) == (
            f"the shipping address of order {number} did not verify (EasyPost: Address not "
            f"found); remake part 2 waits for it; fix it with podops edit {number} "
            "address.FIELD=VALUE (or the Slack form, or the sheet), or send it as it is with "
            f"podops submit {number}"
        )
        notices = session.query(OutboxMessage).filter_by(topic=Topic.NOTIFY.value).all()
        assert any(n.payload["event_id"] == failed.id for n in notices)

    asked = len(easypost.verified)
    submitter.tick()  # it waits for a person: not asked again, not sent
    assert len(easypost.verified) == asked and remake_sent(shop, number) is None

    desk.change(number, {"line1": "13 Main St", "postcode": "62702"}, STAFF)
    submitter.tick()
    assert easypost.verified[-1]["zip"] == "62702"
    sent = remake_sent(shop, number)
    assert sent is not None
    assert (sent["shipping_address1"], sent["shipping_zip"]) == ("13 Main St", "62702")
    assert "address check" not in " ".join(shop.get(number).problems)


def test_a_person_sends_the_reship_as_it_is_after_reading_the_carriers_reason(
    shop: Shop, db: Database, easypost: FakeEasyPost, clock: Clock
) -> None:
    submitter = checking(shop, db, easypost, clock)
    number = shipped_and_lost(shop, submitter)
    easypost.unknown_zips.add("62799")
    AddressDesk(db, submitter.roster).change(number, {"postcode": "62799"}, STAFF)

    # sent by hand before the countdown checked it: checked now, refused with the reason
    try:
        submitter.submit_now(number, STAFF)
    except InvalidInput as refused:
        assert "its address did not verify: Address not found (EasyPost)" in refused.message
        assert f"podops submit {number} again to send it as it is" in refused.message
    else:
        raise AssertionError("an undeliverable reship was sent unasked")
    assert remake_sent(shop, number) is None

    submitter.submit_now(number, STAFF)  # the person decided: it goes as it is
    sent = remake_sent(shop, number)
    assert sent is not None and sent["shipping_zip"] == "62799"
    with db.unit_of_work() as session:
        accepted = session.query(Event).filter_by(action="address_accepted").one()
        assert accepted.actor == STAFF.name
        assert (
            "sent as it is after it did not verify (Address not found)"
            in (accepted.detail["reason"])
        )
