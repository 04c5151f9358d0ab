"""The Products table from a CSV file: exact SKUs routed before the [[routing]] rules,
re-read when the file changes (no restart), each bad row refused with its reason while
the good rows route and the bad row's SKU goes by the rules."""

from __future__ import annotations

import os

from podops.db import Database
from podops.products.live import LiveTable
from podops.routing import ShopPolicy
from sync.products_csv import import_if_changed
from tests.products.conftest import Shop

HEADER = "sku,provider,provider_sku,product_key,countries\n"


def write(shop: Shop, body: str, *, bump: int = 0) -> None:
    shop.csv.write_text(HEADER + body)
    if bump:  # a second edit within the file system's time resolution
        stat = shop.csv.stat()
        os.utime(shop.csv, ns=(stat.st_atime_ns, stat.st_mtime_ns + bump))


def test_a_table_row_routes_a_sku_no_rule_routes(shop: Shop) -> None:
    # Given a shop whose rules know only TEE-* (and no other SKU routes by default)
    before = shop.policy.route("main", "MUG-11-WHITE", "US")
    assert before.provider == "customcat" and before.provider_sku == "MUG-11-WHITE"
    # When the CSV file names the mug's Printful variant
    write(shop, "MUG-11-WHITE,printful,4012,mug-11oz,\n")
    done = import_if_changed(shop)
    # Then the SKU goes to Printful with its variant id and template
    assert done is not None and not done.errors
    route = shop.policy.route("main", "mug-11-white", "US")
    assert (route.provider, route.provider_sku, route.product_key, route.matched) == (
        "printful",
        "4012",
        "mug-11oz",
        True,
    )
    # And the rules still route what the table does not name
    assert shop.policy.route("main", "TEE-BLACK-M", "US").provider_sku == "CC-TEE"


def test_a_changed_file_is_read_again_without_restart(shop: Shop, db: Database) -> None:
    # Given a second process that already routes by the table
    other = ShopPolicy.from_settings(shop.settings, variants=LiveTable(db, refresh_s=0))
    write(shop, "TEE-WHITE-M,printful,4012,tee-front,\n")
    import_if_changed(shop)
    assert other.route("main", "TEE-WHITE-M").provider_sku == "4012"
    # An unchanged file is not read again
    assert import_if_changed(shop) is None
    # When staff change the file
    write(shop, "TEE-WHITE-M,printful,4013,tee-front,\n", bump=1_000_000)
    assert import_if_changed(shop) is not None
    # Then both processes route by the new row
    assert shop.policy.route("main", "TEE-WHITE-M").provider_sku == "4013"
    assert other.route("main", "TEE-WHITE-M").provider_sku == "4013"


def test_bad_rows_say_why_and_good_rows_still_route(shop: Shop) -> None:
    write(
        shop,
        "MUG-1,printful,4012,mug-11oz,\n"  # good
        "MUG-2,printfull,4012,mug-11oz,\n"  # unknown provider
        "MUG-3,printful,4012,poster,\n"  # unknown template
        "MUG-4,printful,,mug-11oz,\n"  # empty field
        "MUG-5,printful,9999,mug-11oz,\n"  # refused by the catalog
        "TEE-RED-S,printful,4013,tee-front,\n"  # two targets for one SKU
        "TEE-RED-S,printful,4014,tee-front,\n"
        "MUG-6,customcat,CC-MUG,mug-11oz,US CA\n"  # no catalog: kept, noted
        "MUG-7,printful,4012,mug-11oz,XX\n",  # unknown country
    )
    done = import_if_changed(shop)
    assert done is not None
    reasons = {row.row: row.problem for row in done.rows}
    assert reasons[2] == ""
    assert "unknown provider 'printfull' (providers: customcat, printful)" in reasons[3]
    assert "no print template for product 'poster'" in reasons[4]
    assert reasons[5] == "provider_sku is empty"
    assert reasons[6] == "printful does not know 9999: variant not found"
    assert "also on row 8" in reasons[7] and "also on row 7" in reasons[8]
    assert reasons[9] == "" and "not checkable" in done.rows[7].note
    assert "unknown country 'XX'" in reasons[10]
    # The good rows route; each bad row's SKU goes by the rules (TEE-* here)
    assert shop.policy.route("main", "MUG-1").provider_sku == "4012"
    assert shop.policy.route("main", "MUG-6", "CA").provider_sku == "CC-MUG"
    assert shop.policy.route("main", "MUG-5").provider == "customcat"
    assert shop.policy.route("main", "TEE-RED-S").provider_sku == "CC-TEE"
    # The catalog was asked once, for the codes of the rows otherwise good
    assert shop.catalog.asked == [["4012", "9999"]]


def test_a_catalog_outage_keeps_the_row_with_a_note(shop: Shop) -> None:
    from podops.errors import ProviderError

    class Down:
        def unknown_codes(self, codes: object) -> dict[str, str]:
            raise ProviderError("503 Service Unavailable", retryable=True)

    shop.catalogs["printful"] = Down()
    write(shop, "MUG-1,printful,4012,mug-11oz,\n")
    done = import_if_changed(shop)
    assert done is not None and done.rows[0].ok
    assert "catalog did not answer (503 Service Unavailable)" in done.rows[0].note
    assert shop.policy.route("main", "MUG-1").provider_sku == "4012"


def test_a_row_for_some_countries_routes_only_those(shop: Shop) -> None:
    write(shop, "MUG-1,printful,4012,mug-11oz,EU\n")
    import_if_changed(shop)
    assert shop.policy.route("main", "MUG-1", "DE").provider == "printful"
    us = shop.policy.route("main", "MUG-1", "US")
    assert us.provider == "customcat" and not us.matched and us.other_countries
