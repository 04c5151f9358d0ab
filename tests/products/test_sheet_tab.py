"""The sheet's Products tab: created by the mirror, read when staff change it (real
gspread against the fake Sheets API, and the .xlsx workbook), a result beside every
row, and its good rows routing while a bad row's SKU goes by the rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from podops.db import Database
from podops.products.live import LiveTable
from podops.sheet.rows import PRODUCTS, PRODUCTS_HEADERS
from sync.sheets.mirror import SheetMirror
from sync.sheets.products_tab import ProductsTab
from tests.products.conftest import CatalogProvider, Shop, settings_for
from tests.sheet.conftest import SheetEnv, env, template_checks

__all__ = ["env"]
RESULT = len(PRODUCTS_HEADERS)


@pytest.fixture
def shop(db: Database, tmp_path: Path) -> Shop:
    catalog = CatalogProvider({"4012", "4013"})
    return Shop(settings_for(tmp_path), db, catalog, LiveTable(db, refresh_s=0))


def mirror(env: SheetEnv, shop: Shop) -> SheetMirror:
    tab = ProductsTab(env.db, lambda: shop.product_checks, shop.product_table.invalidate)
    return SheetMirror(
        env.db,
        env.sheet,
        env.settings,
        clock=lambda: env.now,
        field_checks=template_checks(env.db),
        products=tab,
    )


def type_row(env: SheetEnv, row: int, cells: list[str]) -> None:
    for col, value in enumerate(cells, start=1):
        env.hands.set(PRODUCTS, row, col, value)


def test_rows_typed_in_the_products_tab_route_and_errors_show_beside_them(
    env: SheetEnv, shop: Shop
) -> None:
    # Given the mirror made the Products tab
    first = mirror(env, shop).run_cycle()
    assert not first.problems, first.problems
    assert env.hands.values(PRODUCTS)[0] == list(PRODUCTS_HEADERS)
    # When staff type a good row and two bad ones
    type_row(env, 2, ["MUG-1", "printful", "4012", "mug-11oz"])
    type_row(env, 3, ["MUG-2", "printful", "9999", "mug-11oz"])
    type_row(env, 4, ["TEE-BLUE-L", "printful", "4013", "hoodie", "US"])
    report = mirror(env, shop).run_cycle()
    # Then each row shows its result, and the cycle says what it read
    values = env.hands.values(PRODUCTS)
    assert values[1][RESULT - 1] == "ok"
    assert values[2][RESULT - 1] == "error: printful does not know 9999: variant not found"
    assert values[3][RESULT - 1] == "error: no print template for product 'hoodie'"
    assert report.products_read and (report.products_rows, report.products_errors) == (3, 2)
    # And the good row routes, the bad rows' SKUs go by the rules
    assert shop.policy.route("main", "MUG-1").provider_sku == "4012"
    assert shop.policy.route("main", "TEE-BLUE-L", "US").provider_sku == "CC-TEE"
    # When staff fix a row, it is read again and routes
    env.hands.set(PRODUCTS, 4, 4, "tee-front")
    mirror(env, shop).run_cycle()
    assert env.hands.values(PRODUCTS)[3][RESULT - 1] == "ok"
    assert shop.policy.route("main", "TEE-BLUE-L", "US").provider_sku == "4013"


def test_an_unchanged_tab_is_not_checked_again_and_a_cleared_result_comes_back(
    env: SheetEnv, shop: Shop
) -> None:
    mirror(env, shop).run_cycle()
    type_row(env, 2, ["MUG-1", "printful", "4012", "mug-11oz"])
    mirror(env, shop).run_cycle()
    assert len(shop.catalog.asked) == 1
    env.hands.set(PRODUCTS, 2, RESULT, "")
    report = mirror(env, shop).run_cycle()
    assert not report.products_read and len(shop.catalog.asked) == 1
    assert env.hands.values(PRODUCTS)[1][RESULT - 1] == "ok"


def test_a_changed_header_keeps_the_table(env: SheetEnv, shop: Shop) -> None:
    mirror(env, shop).run_cycle()
    type_row(env, 2, ["MUG-1", "printful", "4012", "mug-11oz"])
    mirror(env, shop).run_cycle()
    env.hands.set(PRODUCTS, 1, 1, "item")
    report = mirror(env, shop).run_cycle()
    assert any("Products tab not read" in text for text in report.problems)
    assert shop.policy.route("main", "MUG-1").provider_sku == "4012"
