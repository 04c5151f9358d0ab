"""An order without a phone number (optional at WooCommerce's block checkout) is
not refused for it: each provider gets what its API needs."""

from __future__ import annotations

from podops.status import OrderStatus
from providers.customcat import NO_PHONE
from tests.fulfillment.conftest import Shop, build_service


def test_an_order_without_a_phone_reaches_customcat_with_a_placeholder(shop: Shop) -> None:
    """Public CustomCat clients treat shipping_phone as required (the fake refuses a
    blank one, as they expect), so podops sends a placeholder."""
    number = shop.order("cc", customer_phone="")
    assert shop.service.tick().submitted == [number]
    sent = shop.customcat.orders[f"main-{number}"]["body"]
    assert sent["shipping_phone"] == NO_PHONE
    assert shop.get(number).status == OrderStatus.SUBMITTED


def test_an_order_without_a_phone_reaches_shineon_without_one(shop: Shop) -> None:
    """ShineOn's shipping_address.phone is optional: it is left out, not sent blank."""
    number = shop.order("so", customer_phone="")
    assert shop.service.tick().submitted == [number]
    stored = shop.shineon.by_source(f"main-{number}")
    assert "phone" not in stored["shipping_address"]
    assert stored["shipping_address"]["address1"]


def test_a_phone_the_customer_gave_is_sent_as_given(shop: Shop) -> None:
    cc, so = shop.order("cc"), shop.order("so")
    assert sorted(shop.service.tick().submitted) == sorted([cc, so])
    assert shop.customcat.orders[f"main-{cc}"]["body"]["shipping_phone"] == "+1 217 555 0100"
    assert shop.shineon.by_source(f"main-{so}")["shipping_address"]["phone"] == "+1 217 555 0100"


def test_customcat_refusal_reasons_reach_staff_in_customcat_words(shop: Shop) -> None:
    """The fake answers as CustomCat does (reason in X-FAIL-MESSAGE, empty body)."""
    number = shop.order("cc")
    shop.customcat.rejected_zips.add("62701")
    shop.service.tick()
    order = shop.get(number)
    assert order.status == OrderStatus.SUBMIT_FAILED
    assert order.last_error == (
        "CustomCat (cc) refused the order (400): "
        "Shipping address could not be verified: check the ZIP code"
    )


def test_an_order_without_an_email_reaches_customcat_with_the_shops(shop: Shop) -> None:
    """A Shopify phone-only checkout or a phone order carries no e-mail; CustomCat
    needs one (the fake refuses a blank one): the shop's `contact_email` goes instead."""
    settings = shop.settings.model_copy(deep=True)
    settings.providers["cc"].contact_email = "orders@shop.example"
    number = shop.order("cc", customer_email="")
    assert build_service(settings, shop.db).tick().submitted == [number]
    sent = shop.customcat.orders[f"main-{number}"]["body"]
    assert sent["shipping_email"] == "orders@shop.example"


def test_without_an_email_or_a_contact_email_staff_are_told_which_setting(shop: Shop) -> None:
    number = shop.order("cc", customer_email="")
    shop.service.tick()
    order = shop.get(number)
    assert order.status == OrderStatus.SUBMIT_FAILED
    assert "has none: set contact_email in [providers.cc]" in (order.last_error or "")
    assert f"main-{number}" not in shop.customcat.orders
