"""The speed the customer paid for, from the store to the provider: a WooCommerce
Express order reaches CustomCat with CustomCat's express method before the store's
countdown would have let it go; a method no table maps waits for a person."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from podops import services
from podops.db import Database
from podops.errors import IllegalTransition
from podops.routing import ShopPolicy
from podops.runtime.root import Runtime
from podops.settings import RoutingRule, Settings
from podops.shipping_settings import ShippingConfig
from podops.status import OrderStatus
from providers.woocommerce import WooCommerceStore, build_client
from sync.intake import sync_one
from tests.factories import STAFF
from tests.fakes.customcat import API_KEY, FakeCustomCat
from tests.fakes.woocommerce import FakeWooCommerce
from tests.fakes.woocommerce_orders import sample_order
from tests.fulfillment.conftest import LINK_SECRET, build_service, give_print_files
from tests.intake.conftest import FAST_RETRY, store_config

SHIPPING = {
    "methods": {"flat_rate:1": "standard", "Express Shipping": "express"},
    "speeds": {"express": {"countdown_hours": 0}, "overnight": {"countdown_hours": 0}},
    "providers": {"cc": {"standard": "Economy", "express": "Expedited"}},
}


def shipped_as(title: str, method_id: str = "flat_rate", instance: str = "2") -> list[Any]:
    """A WooCommerce `shipping_lines` list with one line."""
    return [
        {"id": 1, "method_title": title, "method_id": method_id, "instance_id": instance,
         "total": "9.90", "total_tax": "0.00", "taxes": [], "meta_data": []}
    ]  # fmt: skip


@pytest.fixture
def woo_shop() -> Iterator[FakeWooCommerce]:
    with FakeWooCommerce() as fake:
        yield fake


@pytest.fixture
def runtime(
    db: Database, tmp_path: Path, woo_shop: FakeWooCommerce, customcat: FakeCustomCat
) -> Iterator[Runtime]:
    """The composition root as `podops run` builds it: a WooCommerce store with a shipping
    table, CustomCat behind the fake, and the countdown job's Submitter."""
    store = store_config(
        woo_shop.url, default_provider="cc", shipping=ShippingConfig.model_validate(SHIPPING)
    )
    settings = Settings(
        data_dir=tmp_path,
        stores={"main": store},
        providers={
            "cc": {"kind": "customcat", "base_url": customcat.base_url, "api_key": API_KEY},
            "manual": {"kind": "manual"},
        },
        routing=[RoutingRule(sku="TEE-*", provider="cc", product_key="tee-front")],
        render={"public_base_url": "https://podops.example", "link_secret": LINK_SECRET},
    )  # type: ignore[arg-type]
    settings.check_references()
    rt = Runtime(settings)
    rt.__dict__["db"] = db
    http = build_client("main", store, timeout=2.0)
    rt._store_clients[1]["main"] = WooCommerceStore("main", store, http, retry=FAST_RETRY)
    sync_one(rt, "main")  # the first pass: later orders are not "placed before podops"
    yield rt
    http.close()


def _receive(rt: Runtime, woo_shop: FakeWooCommerce, **orders: list[Any]) -> None:
    """The store takes these orders (number -> shipping lines); podops syncs them."""
    placed = datetime.now(UTC) - timedelta(minutes=1)
    for number, lines in orders.items():
        order = sample_order(int(number), created=placed)
        order["shipping_lines"] = lines
        woo_shop.add(order)
    sync_one(rt, "main")
    for number in orders:
        give_print_files(rt.db, number)


def _order(rt: Runtime, number: str) -> Any:
    with rt.db.unit_of_work() as session:
        order = services.get_order(session, number)
        session.expunge(order)
        return order


def test_an_express_order_reaches_customcat_with_its_method_before_the_store_countdown(
    runtime: Runtime, woo_shop: FakeWooCommerce, customcat: FakeCustomCat
) -> None:
    _receive(
        runtime,
        woo_shop,
        **{"2001": shipped_as("Express Shipping"), "2002": shipped_as("Flat rate", instance="1")},
    )
    express, standard = _order(runtime, "2001"), _order(runtime, "2002")
    assert (express.shipping_speed, express.rush) == ("express", True)
    assert express.submit_at == express.placed_at, "express waits no countdown"
    assert standard.submit_at == standard.placed_at + timedelta(hours=24)

    report = runtime.submission.tick()

    assert report.submitted == ["2001"]
    sent = customcat.orders["main-2001"]["body"]
    assert sent["shipping_method"] == "Expedited"
    assert "main-2002" not in customcat.orders, "standard still in its countdown"
    assert OrderStatus(_order(runtime, "2002").status) == OrderStatus.PENDING


def test_a_standard_order_gets_the_standard_method_of_the_table(
    runtime: Runtime, woo_shop: FakeWooCommerce, customcat: FakeCustomCat
) -> None:
    _receive(runtime, woo_shop, **{"2003": shipped_as("Flat rate", instance="1")})
    runtime.submission.submit_now("2003", STAFF)
    assert customcat.orders["main-2003"]["body"]["shipping_method"] == "Economy"


def test_a_method_no_table_maps_is_held_with_the_reason_and_never_sent(
    runtime: Runtime, woo_shop: FakeWooCommerce, customcat: FakeCustomCat
) -> None:
    _receive(runtime, woo_shop, **{"2004": shipped_as("Overnight Air", method_id="ups_air")})
    held = _order(runtime, "2004")
    assert OrderStatus(held.status) == OrderStatus.ON_HOLD
    assert "shipping method 'Overnight Air' has no mapping for cc" in held.hold_reason
    assert held.shipping_speed is None
    runtime.submission.tick()
    with pytest.raises(IllegalTransition, match="release it first"):
        runtime.submission.submit_now("2004", STAFF)
    assert customcat.orders == {}


def test_setting_a_speed_answers_the_hold_and_the_order_goes_out_at_that_speed(
    runtime: Runtime, woo_shop: FakeWooCommerce, customcat: FakeCustomCat
) -> None:
    _receive(runtime, woo_shop, **{"2005": shipped_as("Overnight Air", method_id="ups_air")})
    with runtime.db.unit_of_work() as session:
        services.set_shipping_speed(session, "2005", "express", STAFF, runtime.policy)
    order = _order(runtime, "2005")
    assert OrderStatus(order.status) == OrderStatus.PENDING, "the hold's only reason is answered"
    assert order.problems == [] and order.rush
    runtime.submission.tick()
    assert customcat.orders["main-2005"]["body"]["shipping_method"] == "Expedited"


def test_a_speed_its_provider_has_no_method_for_is_held_at_the_countdown(
    runtime: Runtime, woo_shop: FakeWooCommerce, customcat: FakeCustomCat
) -> None:
    """The table changed since the order arrived: the countdown holds it, not Economy."""
    _receive(runtime, woo_shop, **{"2006": shipped_as("Express Shipping")})
    narrower = SHIPPING | {"providers": {"cc": {"standard": "Economy"}}}
    settings = runtime.settings.model_copy(deep=True)
    settings.stores["main"].shipping = ShippingConfig.model_validate(narrower)
    roster = runtime.roster
    roster.policy = ShopPolicy.from_settings(settings)
    report = build_service(settings, runtime.db, roster).tick()
    order = _order(runtime, "2006")
    assert OrderStatus(order.status) == OrderStatus.ON_HOLD
    expected = "shipping method 'Express Shipping' has no mapping for cc"
    assert order.hold_reason.startswith(expected)
    assert report.blocked and report.blocked[0][1].startswith(expected)
    assert customcat.orders == {}
