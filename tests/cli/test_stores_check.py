"""`podops stores check` reads a shop's latest orders (the fake, over TLS) and shows
each line-item key, the field it fills, and what is not mapped or ambiguous."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from podops.cli.main import main
from tests.fakes.shopify import ACCESS_TOKEN as SHOPIFY_TOKEN
from tests.fakes.shopify import FakeShopify
from tests.fakes.woocommerce import CONSUMER_KEY, CONSUMER_SECRET, FakeWooCommerce
from tests.fakes.woocommerce_orders import sample_order


def _meta(key: str, value: str, display_key: str | None = None) -> dict[str, Any]:
    shown = key if display_key is None else display_key
    return {"id": 1, "key": key, "value": value, "display_key": shown, "display_value": value}


@pytest.fixture
def config(
    tmp_path: Path, db_url: str, shop: FakeWooCommerce, monkeypatch: pytest.MonkeyPatch
) -> Path:
    monkeypatch.setenv("PODOPS_STORES__MAIN__CONSUMER_KEY", CONSUMER_KEY)
    monkeypatch.setenv("PODOPS_STORES__MAIN__CONSUMER_SECRET", CONSUMER_SECRET)
    from podops.cli import main as cli

    monkeypatch.setattr(cli.out, "width", 200)  # the console exists before this test
    path = tmp_path / "podops.toml"
    path.write_text(
        f'data_dir = "."\n[database]\nurl = "{db_url}"\n'
        f'[stores.main]\nurl = "{shop.url}"\nca_bundle = "{shop.ca_bundle}"\n'
        "[stores.main.personalization]\n"
        'fields = { "Engraving" = "line1", "Name" = "name", "name:" = "recipient", '
        '"Gift message" = "message" }\n',
        encoding="utf-8",
    )
    return path


def test_stores_check_shows_mapped_unmapped_and_ambiguous_keys(
    config: Path, shop: FakeWooCommerce, capsys: pytest.CaptureFixture[str]
) -> None:
    shop.add(
        sample_order(1001, meta=[_meta("Engraving ($5.00)", "Ana"), _meta("_reduced_stock", "1")]),
        sample_order(1002, meta=[_meta("Engraving ($5.00)", "Bo"), _meta("NAME", "Cy")]),
        sample_order(1003, meta=[_meta("[bold]Colour[/bold]", "red"), _meta("Engraving", "Di")]),
    )
    assert main(["-c", str(config), "stores", "check"]) == 0
    output = capsys.readouterr().out
    lines = [" ".join(line.split()) for line in output.splitlines()]

    def row(key: str) -> str:
        (found,) = [line for line in lines if line.startswith(f"{key} │")]
        return found

    assert row("Engraving ($5.00)").endswith("│ 2 │ TEE-BLK-M │ field line1 (matches 'Engraving')")
    assert row("Engraving").endswith("field line1 (exact)")
    assert row("_reduced_stock").endswith("not mapped")
    assert row("NAME").endswith("ambiguous: could be 'Name', 'name:'; not used")
    assert "[bold]Colour[/bold]" in output, "outside text is shown, never read as markup"
    flat = " ".join(output.split())
    assert "Configured but in none of these orders: Gift message, Name, name:" in flat
    assert "read alike but fill different fields: 'Name', 'name:'" in flat
    assert "3 order(s) read from main: 5 key(s), 3 not filling any field." in flat


def test_stores_check_needs_a_woocommerce_store(
    tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "podops.toml"
    path.write_text(
        f'data_dir = "."\n[database]\nurl = "{db_url}"\n[stores.demo]\nplatform = "sandbox"\n',
        encoding="utf-8",
    )
    assert main(["-c", str(path), "stores", "check", "--store", "demo"]) == 2
    assert "only WooCommerce and Shopify stores are read" in capsys.readouterr().err


def test_stores_check_shows_the_shipping_methods_and_the_table_s_gaps(
    config: Path, shop: FakeWooCommerce, capsys: pytest.CaptureFixture[str]
) -> None:
    with config.open("a", encoding="utf-8") as handle:
        handle.write(
            '[stores.main.shipping]\nmethods = { "flat_rate:2" = "express" }\n'
            "speeds = { express = { countdown_hours = 1 } }\n"
            '[providers.cc]\nkind = "customcat"\n[providers.manual]\nkind = "manual"\n'
            '[[routing]]\nsku = "*"\nprovider = "cc"\n'
        )
    for number, (method, title) in enumerate(
        [("flat_rate", "Express"), ("flat_rate", "Express"), ("ups", "[red]Air[/red]")], 1001
    ):
        order = sample_order(number)
        order["shipping_lines"] = [{"method_id": method, "instance_id": "2", "method_title": title}]
        shop.add(order)
    assert main(["-c", str(config), "stores", "check"]) == 0
    lines = [" ".join(line.split()) for line in capsys.readouterr().out.splitlines()]
    assert "shipping: stores.main.shipping.providers.cc: no method for express; such orders" in (
        " ".join(lines)
    )
    assert "flat_rate:2 │ Express │ 2 │ express (rush)" in lines
    assert "ups:2 │ [red]Air[/red] │ 1 │ not mapped: such orders are held" in lines


def test_stores_check_warns_that_a_printify_shop_needs_manual_approval(
    config: Path,
    shop: FakeWooCommerce,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PODOPS_PROVIDERS__PFY__API_KEY", "pfy-token")
    with config.open("a", encoding="utf-8") as toml:
        toml.write(
            '[providers.pfy]\nkind = "printify"\nstore_id = "4242"\n'
            '[providers.manual]\nkind = "manual"\n'
        )
    shop.add(sample_order(1001))
    assert main(["-c", str(config), "stores", "check"]) == 0
    output = " ".join(capsys.readouterr().out.split())
    assert "provider pfy (Printify shop 4242): set the shop's order approval to manual" in output


def test_stores_check_reads_a_shopify_stores_latest_orders(
    tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Shopify line's custom attributes are its keys, matched by the same rules."""
    with FakeShopify() as fake:
        fake.state.add_order(1001, lines=[{"sku": "TEE-1", "properties": {"Engraving": "Ana"}}])
        fake.state.add_order(1002, lines=[{"sku": "MUG-1", "properties": {"Colour": "red"}}])
        monkeypatch.setenv("PODOPS_STORES__SHOP__ACCESS_TOKEN", SHOPIFY_TOKEN)
        from podops.cli import main as cli

        monkeypatch.setattr(cli.out, "width", 200)
        path = tmp_path / "podops.toml"
        path.write_text(
            f'data_dir = "."\n[database]\nurl = "{db_url}"\n'
            f'[stores.shop]\nplatform = "shopify"\nshop = "podops-test.myshopify.com"\n'
            f'url = "{fake.url}"\n'
            '[stores.shop.personalization]\nfields = { "Engraving" = "line1" }\n',
            encoding="utf-8",
        )
        assert main(["-c", str(path), "stores", "check"]) == 0
    flat = " ".join(capsys.readouterr().out.split())
    assert "Engraving │ │ 1 │ TEE-1 │ field line1 (exact)" in flat
    assert "Colour │ │ 1 │ MUG-1 │ not mapped" in flat
    assert "STD │ Standard │ 2" in flat
    assert "2 order(s) read from shop: 2 key(s), 1 not filling any field." in flat
