"""What a provider charges is kept on the fulfillment from its status answers (CustomCat
reports ORDER_TOTAL), and a charge that cannot be true is not stored."""

from __future__ import annotations

from decimal import Decimal

from podops.ports.fulfillment import ProviderOrder, ProviderStatus
from podops.services import record_provider_cost
from tests.fulfillment.conftest import Shop


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
