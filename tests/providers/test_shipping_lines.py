"""The shipping line each kind of store hands in: WooCommerce `shipping_lines`, the CSV
`shipping` column, the sandbox store's express orders."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from podops.settings import StoreConfig
from providers.csv_orders import parse_file
from providers.sandbox_store import SandboxStore
from providers.woocommerce_mapping import map_order
from tests.fakes.woocommerce_orders import sample_order

CONFIG = StoreConfig(platform="woocommerce")


def _line(method_id: Any, title: Any, instance: Any = "3") -> dict[str, Any]:
    return {"id": 7, "method_id": method_id, "instance_id": instance, "method_title": title}


def test_woocommerce_reads_the_method_id_with_its_instance_and_the_title() -> None:
    data = sample_order(101)
    data["shipping_lines"] = [_line("flat_rate", "Express")]
    order = map_order(data, "main", CONFIG)
    assert (order.shipping_method_id, order.shipping_method) == ("flat_rate:3", "Express")
    assert order.problems == []
    data["shipping_lines"] = [_line("free_shipping", "Free", instance=0)]
    assert map_order(data, "main", CONFIG).shipping_method_id == "free_shipping"
    data["shipping_lines"] = []
    assert (map_order(data, "main", CONFIG).shipping_method_id, order.problems) == ("", [])


def test_woocommerce_lines_naming_different_methods_are_flagged_not_guessed() -> None:
    data = sample_order(102)
    data["shipping_lines"] = [_line("flat_rate", "Standard"), _line("ups", "Next Day", "9")]
    order = map_order(data, "main", CONFIG)
    assert order.shipping_method == "Standard"
    assert order.problems == [
        "the store sent 2 shipping methods (Standard, Next Day); podops uses the first: "
        "check the shipping speed"
    ]


def test_woocommerce_values_that_are_not_text_are_not_used() -> None:
    data = sample_order(103)
    data["shipping_lines"] = [_line({"x": 1}, "Express")]
    order = map_order(data, "main", CONFIG)
    assert (order.shipping_method_id, order.shipping_method) == ("", "Express")
    assert order.problems == ["shipping method method id \"{'x': 1}\" is not text; not used"]
    data["shipping_lines"] = "express"
    assert "are not a list" in map_order(data, "main", CONFIG).problems[0]


def test_the_csv_shipping_column_and_its_aliases() -> None:
    text = (
        "order_number,sku,quantity,p:name,Shipping Method\n"
        "A-1,TEE-1,1,Ana,Express\n"
        "A-1,MUG-1,1,Ana,\n"
        "B-2,TEE-1,1,Bo,Standard\n"
        "B-2,TEE-1,1,Bo,Express\n"
    )
    parsed = parse_file(text.encode(), tz=UTC, now=datetime.now(UTC), store="outside")
    orders = {o.number: o for o in parsed.orders}
    assert (orders["A-1"].shipping_method, orders["A-1"].problems) == ("Express", [])
    assert orders["B-2"].problems == [
        "rows of this order name different shipping methods (Express, Standard); podops uses "
        "the first: check the shipping speed"
    ]


def test_some_sandbox_orders_paid_for_express() -> None:
    store = SandboxStore("shop", StoreConfig(platform="sandbox", sandbox_every_s=60))
    now = datetime(2025, 1, 2, tzinfo=UTC)
    orders = store.orders_until(now, datetime(2025, 1, 1, tzinfo=UTC))
    titles = [o["shipping_lines"][0]["method_title"] for o in orders]
    assert set(titles) == {"Standard Shipping", "Express Shipping"}
    assert 0.05 < titles.count("Express Shipping") / len(titles) < 0.25
