"""A mixed cart end to end, as a shop lives it: the order comes from the (fake)
WooCommerce shop, its tee goes to the fake CustomCat and its mug to the fake ShineOn
through the runtime's own countdown, each provider's tracking reaches the shop as it
comes, and the order completes there once both parts shipped."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from podops import services
from podops.db import Database
from podops.runtime.root import Runtime
from podops.settings import RoutingRule, Settings
from podops.status import OrderStatus
from providers.woocommerce import WooCommerceStore, build_client
from sync.intake import sync_one
from sync.pushback import drain
from tests.fakes.customcat import API_KEY, FakeCustomCat
from tests.fakes.shineon import TOKEN, FakeShineOn
from tests.fakes.woocommerce import FakeWooCommerce
from tests.fakes.woocommerce_orders import sample_order
from tests.fulfillment.conftest import LINK_SECRET, give_print_files
from tests.intake.conftest import FAST_RETRY, store_config


@pytest.fixture
def woo() -> Iterator[FakeWooCommerce]:
    with FakeWooCommerce() as fake:
        yield fake


@pytest.fixture
def runtime(
    db: Database,
    tmp_path: Path,
    woo: FakeWooCommerce,
    customcat: FakeCustomCat,
    shineon: FakeShineOn,
) -> Iterator[Runtime]:
    provider = {"rate_limit_per_s": 100, "timeout_s": 2}
    settings = Settings(
        data_dir=tmp_path,
        stores={"main": store_config(woo.url, countdown_hours=0, default_provider="cc")},
        routing=[
            RoutingRule(sku="TEE-*", provider="cc", provider_sku="CC-TEE", product_key="tee"),
            RoutingRule(sku="MUG-*", provider="so", provider_sku="SO-MUG", product_key="mug"),
        ],
        providers={
            "cc": {"kind": "customcat", "base_url": customcat.base_url, "api_key": API_KEY}
            | provider,
            "so": {"kind": "shineon", "base_url": shineon.url, "api_key": TOKEN} | provider,
        },
        render={"public_base_url": "https://podops.example", "link_secret": LINK_SECRET},
    )  # type: ignore[arg-type]
    rt = Runtime(settings)
    rt.__dict__["db"] = db
    _, clients = rt._store_clients
    config = settings.stores["main"]
    clients["main"] = WooCommerceStore(
        "main", config, build_client("main", config, timeout=2.0), retry=FAST_RETRY
    )
    yield rt
    for client in rt._store_clients[1].values():
        client.close()


def mixed_cart(order_id: int) -> dict[str, Any]:
    """A WooCommerce order with two tees and a mug."""
    order = sample_order(order_id, created=datetime.now(UTC))
    mug = copy.deepcopy(order["line_items"][0])
    mug.update(id=order_id * 10 + 2, name="Photo Mug", sku="MUG-11OZ", quantity=1)
    order["line_items"].append(mug)
    return order


def test_a_mixed_cart_goes_to_both_providers_and_completes_in_the_shop(
    runtime: Runtime, woo: FakeWooCommerce, customcat: FakeCustomCat, shineon: FakeShineOn
) -> None:
    sync_one(runtime, "main")  # podops watches the shop from now on
    woo.add(mixed_cart(1001))
    sync_one(runtime, "main")
    give_print_files(runtime.db, "1001")
    assert runtime.submission.tick().submitted == ["1001"]
    assert customcat.created == {"main-1001": 1}
    assert shineon.created == {"main--1001_P2": 1}
    assert [i["catalog_sku"] for i in customcat.orders["main-1001"]["body"]["items"]] == ["CC-TEE"]
    assert [i["sku"] for i in shineon.by_source("main--1001_P2")["line_items"]] == ["SO-MUG"]

    customcat.ship("main-1001", "1Z999AA10123456784", vendor="UPS", items=2)
    runtime.follow_up.poll_tracking()
    drain(runtime)
    assert [t["tracking_number"] for t in woo.state.trackings[1001]] == ["1Z999AA10123456784"]
    assert woo.state.orders[1001]["status"] == "processing"  # half of it is on its way
    with runtime.db.unit_of_work() as session:
        assert services.get_order(session, "1001").status == OrderStatus.PARTIALLY_SHIPPED

    shineon.ship("main--1001_P2", "USPS", "9400111899223197428490")
    runtime.follow_up.poll_tracking()
    drain(runtime)
    assert [t["tracking_number"] for t in woo.state.trackings[1001]] == [
        "1Z999AA10123456784",
        "9400111899223197428490",
    ]
    assert woo.state.orders[1001]["status"] == "completed"
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, "1001")
        assert order.status == OrderStatus.COMPLETED
        assert [f.status.value for f in order.fulfillments] == ["shipped", "shipped"]
    assert customcat.created == {"main-1001": 1} and shineon.created == {"main--1001_P2": 1}
