"""What a provider charges is kept on the fulfillment at submission and from its status
answers (CustomCat's ORDER_TOTAL, Printful's costs.total, Printify's totals), the
report's margin is figured with it, and a charge that cannot be true is not stored.
Gelato reports none: its orders' margin stays unknown, never the full price."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from podops.db import Database
from podops.ports.fulfillment import ProviderOrder, ProviderStatus
from podops.reporting.period import last_days
from podops.reporting.report import build_report
from podops.services import record_provider_cost
from tests.fakes.gelato import FakeGelato
from tests.fakes.printful import FakePrintful
from tests.fakes.printify import FakePrintify
from tests.fulfillment import test_gelato_submission as gelato_shop
from tests.fulfillment import test_printful_submission as printful_shop
from tests.fulfillment import test_printify_submission as printify_shop
from tests.fulfillment.conftest import Shop
from tests.reporting.conftest import report_settings

REVENUE = 42.50  # the factory order's total, in USD
FEE = REVENUE * 0.03 + 0.30  # report_settings' store fees


def margin_row(db: Database, db_url: str, provider: str) -> dict[str, object]:
    """The report's money row for `provider` over the last two days, in USD."""
    report = build_report(
        db, report_settings(db_url), last_days(2, UTC, datetime.now(UTC)), "provider"
    )
    return dict(report.money.set_index(["provider", "currency"]).loc[(provider, "USD")])


@pytest.fixture
def pf_fake() -> Iterator[FakePrintful]:
    fake = FakePrintful().start()
    yield fake
    fake.stop()


@pytest.fixture
def pfy_fake() -> Iterator[FakePrintify]:
    fake = FakePrintify().start()
    yield fake
    fake.stop()


@pytest.fixture
def gl_fake() -> Iterator[FakeGelato]:
    fake = FakeGelato()
    fake.start()
    yield fake
    fake.stop()


def test_customcat_status_answers_bring_the_charge_home(shop: Shop) -> None:
    number = shop.order()
    shop.service.tick()
    ref = f"main-{number}"
    [part] = shop.get(number).fulfillments
    assert part.cost is None  # CustomCat's creation reply carries no charge
    shop.customcat.set_status(ref, "In Production")
    shop.follow_up.poll_tracking()
    [part] = shop.get(number).fulfillments
    assert (part.cost, part.cost_currency) == (Decimal("21.50"), "USD")
    shop.customcat.orders[ref]["total"] = "not a number"
    shop.customcat.ship(ref, "9400111899223100012345", "USPS", items=3)
    shop.follow_up.poll_tracking()
    [part] = shop.get(number).fulfillments
    assert part.cost == Decimal("21.50")  # an unreadable total keeps what was reported


def test_impossible_charges_are_not_stored(shop: Shop) -> None:
    number = shop.order()
    shop.service.tick()
    with shop.db.unit_of_work() as session:
        from podops import services

        [part] = services.get_order(session, number).fulfillments
        for cost, currency in [
            (Decimal("-1"), "USD"),
            (Decimal("NaN"), "USD"),
            (Decimal("5000000"), "USD"),
            (Decimal("9.99"), "dollars"),
            (Decimal("9.99"), None),
        ]:
            answer = ProviderOrder(
                "1", "r", ProviderStatus.ACCEPTED, cost=cost, cost_currency=currency
            )
            assert record_provider_cost(part, answer) is False
        good = ProviderOrder(
            "1", "r", ProviderStatus.ACCEPTED, cost=Decimal("9.999"), cost_currency="eur"
        )
        assert record_provider_cost(part, good) is True
        assert (part.cost, part.cost_currency) == (Decimal("10.00"), "EUR")


def test_printfuls_charge_comes_with_the_submission_and_the_margin_uses_it(
    db: Database, db_url: str, tmp_path: Path, pf_fake: FakePrintful
) -> None:
    shop = printful_shop.build(db, db_url, tmp_path, pf_fake)
    number = shop.order()
    shop.service.tick()
    [part] = shop.get(number).fulfillments
    assert (part.cost, part.cost_currency) == (Decimal("17.94"), "USD")  # costs.total
    pf_fake.send_back_to_draft(f"main-{number}")  # recalculating: every amount 0.00
    pf_fake.remove_hold(f"main-{number}")
    pf_fake.order(f"main-{number}")["costs"].update(total="0.00")
    shop.follow_up.poll_tracking()
    [part] = shop.get(number).fulfillments
    assert part.cost == Decimal("17.94")  # a zero is no charge: the reported one stays
    row = margin_row(db, db_url, "pf")
    assert row["margin_unknown"] == 0 and row["provider_charges"] == pytest.approx(17.94)
    assert row["margin"] == pytest.approx(REVENUE - 17.94 - FEE)


def test_printifys_totals_come_home_from_the_status_poll_and_the_margin_uses_them(
    db: Database, db_url: str, tmp_path: Path, pfy_fake: FakePrintify
) -> None:
    shop = printify_shop.build(db, db_url, tmp_path, pfy_fake)
    number = shop.order()
    shop.service.tick()
    [part] = shop.get(number).fulfillments
    assert part.cost is None  # sending to production answers no totals
    assert math.isnan(margin_row(db, db_url, "pfy")["margin"])  # unknown, not 42.50
    (sent,) = pfy_fake.by_reference(f"main-{number}")
    sent["total_tax"] = 120
    charge = Decimal(sent["total_price"] + sent["total_shipping"] + 120) / 100
    shop.follow_up.poll_tracking()
    [part] = shop.get(number).fulfillments
    assert (part.cost, part.cost_currency) == (charge, "USD")
    row = margin_row(db, db_url, "pfy")
    assert row["margin_unknown"] == 0
    assert row["margin"] == pytest.approx(REVENUE - float(charge) - FEE)


def test_gelato_reports_no_charge_so_the_margin_is_unknown_never_the_full_price(
    db: Database, db_url: str, tmp_path: Path, gl_fake: FakeGelato
) -> None:
    shop = gelato_shop.build(db, db_url, tmp_path, gl_fake)
    number = shop.order()
    shop.service.tick()
    shop.follow_up.poll_tracking()
    [part] = shop.get(number).fulfillments
    assert (part.cost, part.cost_currency) == (None, None)
    row = margin_row(db, db_url, "gl")
    assert row["margin_unknown"] == 1 and row["margin_orders"] == 0
    assert math.isnan(row["margin"])
