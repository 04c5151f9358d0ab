"""Buying shipping labels for the manual provider's orders through the official
EasyPost client against the fake: the parcel is recorded as `podops track` records
one, refusals leave the order as it was, and a label is bought once."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest

from podops.db import Database
from podops.errors import DomainRefusal, InvalidInput
from podops.labels.desk import LabelDesk
from podops.models import utcnow
from podops.routing import ShopPolicy, StorePolicy
from podops.settings import Settings
from podops.tracking.parcels import ShipLine
from tests import factories
from tests.factories import STAFF
from tests.fakes.easypost import Failure
from tests.fakes.easypost_labels import FakeEasyPostLabels
from tests.shipping.conftest import label_settings, make_desk, order_state, submitted


def test_a_label_is_bought_stored_and_recorded_as_the_orders_parcel(
    db: Database, policy: ShopPolicy, desk: LabelDesk, easypost: FakeEasyPostLabels
) -> None:
    number = submitted(db, policy)
    bought = desk.buy(number, STAFF)
    assert (bought.carrier, bought.service) == ("USPS", "GroundAdvantage")  # the cheapest
    assert easypost.labels_bought == 1
    sent = next(iter(easypost.shipments.values()))
    assert sent["from_address"]["street1"] == "1 Print Way"
    assert sent["parcel"]["weight"] == 2 * 6 + 16  # two tees and a mug
    assert sent["options"] == {"label_format": "PDF", "label_size": "4x6"}
    state = order_state(db, number)
    assert state["status"] == "shipped"
    assert state["parcels"] == [("USPS", bought.tracking_number)]
    assert state["store_messages"] == ["store.status", "store.tracking"]  # push + completion
    assert bought.tracking_url.startswith("https://track.easypost.com/")
    assert Path(bought.files["pdf"]).read_bytes().startswith(b"%PDF")
    assert Path(bought.files["png"]).read_bytes().startswith(b"\x89PNG")
    assert Path(bought.files["pdf"]).parent.name == "print-files"


def test_some_lines_and_units_get_their_own_label(
    db: Database, policy: ShopPolicy, desk: LabelDesk, easypost: FakeEasyPostLabels
) -> None:
    number = submitted(db, policy)
    desk.buy(number, STAFF, lines=[ShipLine(1, 1)])
    assert order_state(db, number)["shipped"] == {1: 1, 2: 0}
    assert order_state(db, number)["status"] == "partially_shipped"
    desk.buy(number, STAFF)  # the rest
    assert order_state(db, number)["shipped"] == {1: 2, 2: 1}
    assert order_state(db, number)["status"] == "shipped"
    weights = sorted(s["parcel"]["weight"] for s in easypost.shipments.values())
    assert weights == [6, 6 + 16]


def test_the_rate_follows_the_store_rule_or_what_staff_typed(
    tmp_path: Path, db_url: str, db: Database, policy: ShopPolicy, easypost: FakeEasyPostLabels
) -> None:
    fastest_under = label_settings(
        tmp_path, db_url, easypost.api_base, rate="fastest", max_price=20
    )
    desk = make_desk(fastest_under, db)
    assert desk.buy(submitted(db, policy), STAFF).service == "Priority"  # NextDayAir is dearer
    ups_only = label_settings(tmp_path, db_url, easypost.api_base, carriers=["UPS"])
    desk = make_desk(ups_only, db)
    assert desk.buy(submitted(db, policy), STAFF).service == "Ground"
    assert desk.buy(submitted(db, policy), STAFF, rate="UPS:NextDayAir").service == "NextDayAir"


def test_a_mistyped_rate_is_refused_before_anything(
    db: Database, policy: ShopPolicy, desk: LabelDesk, easypost: FakeEasyPostLabels
) -> None:
    number = submitted(db, policy)
    with pytest.raises(InvalidInput, match="CARRIER:SERVICE"):
        desk.buy(number, STAFF, rate="overnight please")
    assert easypost.requests == []


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("address", "does not verify (EasyPost: Address not found; House number is missing)"),
        ("no rate", "no rate for this parcel: No rates for this route"),
        ("402", "refused the payment"),
        ("429", "rate limiting"),
        ("422", "Invalid rate"),
    ],
)
def test_bad_input_leaves_the_order_as_it_was_with_the_reason(
    db: Database, policy: ShopPolicy, desk: LabelDesk, easypost: FakeEasyPostLabels,
    fault: str, reason: str,
) -> None:  # fmt: skip
    address = dict(factories.ADDRESS)
    if fault == "address":
        address["address_1"] = "Main Street"
    number = submitted(db, policy, shipping_address=address)
    before = order_state(db, number)
    if fault == "no rate":
        easypost.no_rates_zips.add("62701")
    elif fault == "402":
        easypost.fail_next(Failure(402, "PAYMENT.REQUIRED", "Insufficient funds.", path="/buy"))
    elif fault == "429":
        easypost.fail_next(Failure(429, "RATE_LIMITED", "Too many requests.", path="/buy"))
    elif fault == "422":
        easypost.fail_next(Failure(422, "SHIPMENT.RATE.INVALID", "Invalid rate.", path="/buy"))
    with pytest.raises(DomainRefusal, match="no label for order") as refused:
        desk.buy(number, STAFF)
    assert reason in refused.value.message
    assert easypost.labels_bought == 0
    after = order_state(db, number)
    assert {**after, "labels": []} == {**before, "labels": []}
    assert after["labels"] == [("failed", "")]
    easypost.no_rates_zips.clear()
    if fault != "address":  # the slot is free again: the next try buys
        desk.buy(number, STAFF)
        assert easypost.labels_bought == 1


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("another provider", r"is not made by the shop \(provider: cc\)"),
        ("cancelled", "is cancelled: no label"),
        ("fully labelled", "is shipped: every item already has its parcel"),
        ("pending", "is pending: submit it first"),
    ],
)
def test_orders_that_cannot_have_a_label_are_refused_with_the_reason(
    db: Database, desk: LabelDesk, easypost: FakeEasyPostLabels, policy: ShopPolicy,
    given: str, reason: str,
) -> None:  # fmt: skip
    if given == "another provider":
        number = submitted(db, ShopPolicy({"main": StorePolicy(24, "cc")}, []))
    elif given == "cancelled":
        number = factories.received_order(db, policy)
        from podops import services

        with db.unit_of_work() as session:
            services.cancel(session, number, STAFF, "customer changed their mind")
    elif given == "fully labelled":
        number = submitted(db, policy)
        desk.buy(number, STAFF)
    else:
        number = factories.received_order(db, policy)
    bought = easypost.labels_bought
    with pytest.raises(DomainRefusal, match=reason):
        desk.buy(number, STAFF)
    assert easypost.labels_bought == bought


def test_two_staff_pressing_buy_at_once_get_one_label(
    db: Database, policy: ShopPolicy, settings: Settings, easypost: FakeEasyPostLabels
) -> None:
    number = submitted(db, policy)
    easypost.latency_s = 0.3
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def press() -> None:
        desk = make_desk(settings, db)
        start.wait()
        try:
            desk.buy(number, STAFF)
            outcomes.append("bought")
        except DomainRefusal as exc:
            outcomes.append(exc.message)

    presses = [threading.Thread(target=press) for _ in range(2)]
    for thread in presses:
        thread.start()
    for thread in presses:
        thread.join()
    assert easypost.labels_bought == 1
    assert easypost.doubles() == 0
    assert "bought" in outcomes
    assert len(order_state(db, number)["parcels"]) == 1
    assert any("being bought right now" in o or "fully labelled" in o or "shipped" in o
               for o in outcomes if o != "bought")  # fmt: skip


def test_a_buy_whose_answer_is_lost_is_looked_up_not_bought_again(
    db: Database, policy: ShopPolicy, desk: LabelDesk, easypost: FakeEasyPostLabels
) -> None:
    number = submitted(db, policy)
    easypost.timeout_after_buy = 1  # bought, the answer past the client's 1 s timeout
    bought = desk.buy(number, STAFF)
    assert easypost.labels_bought == 1
    assert easypost.doubles() == 0
    retrieved = [p for m, p in easypost.requests if m == "GET" and p.startswith("/v2/shipments/")]
    assert retrieved  # looked up after the lost answer
    assert order_state(db, number)["parcels"] == [("USPS", bought.tracking_number)]


def test_a_5xx_on_buy_is_looked_up_then_bought_once(
    db: Database, policy: ShopPolicy, desk: LabelDesk, easypost: FakeEasyPostLabels
) -> None:
    number = submitted(db, policy)
    easypost.fail_next(Failure(503, "SERVICE_UNAVAILABLE", "Try again.", path="/buy"))
    desk.buy(number, STAFF)
    assert easypost.labels_bought == 1
    assert order_state(db, number)["status"] == "shipped"


def test_a_label_left_in_flight_is_resumed_by_looking_it_up(
    db: Database, policy: ShopPolicy, settings: Settings, easypost: FakeEasyPostLabels
) -> None:
    """The buy reached EasyPost, its answer was lost and so was the lookup: the label
    stays in flight (nobody can buy another); once stale, the next request looks the
    stored shipment up, finds its postage label and records it. One label."""
    number = submitted(db, policy)
    settings.labels.buy_attempts = 1
    easypost.timeout_after_buy = 1
    easypost.fail_next(Failure(500, path="/v2/shipments/shp_", method="GET"))
    with pytest.raises(DomainRefusal, match="looks it up before buying"):
        make_desk(settings, db).buy(number, STAFF)
    assert order_state(db, number)["labels"] == [("buying", "")]
    with pytest.raises(DomainRefusal, match="being bought right now"):
        make_desk(settings, db).buy(number, STAFF)
    later = make_desk(settings, db)
    later.clock = lambda: utcnow() + timedelta(minutes=3)
    bought = later.buy(number, STAFF)
    assert easypost.labels_bought == 1
    assert easypost.doubles() == 0
    assert order_state(db, number)["parcels"] == [("USPS", bought.tracking_number)]
