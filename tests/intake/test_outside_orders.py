"""`podops orders import FILE.csv` and `podops orders show`: outside orders, per-row
reasons, idempotent re-import, and flagged orders showing why."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from podops.cli.main import main
from podops.db import Database
from podops.models import Order
from providers.csv_orders import parse_file, parse_personalization
from tests.fakes.woocommerce import FakeWooCommerce
from tests.fakes.woocommerce_orders import sample_order

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

GOOD = (
    "order_number,placed_at,customer_name,email,phone,address1,address2,city,state,postcode,"
    "country,sku,product_name,quantity,unit_price,currency,personalization,p:name\n"
    "AMZ-1,2026-11-19 10:00,José Álvarez,j@example.com,,12 Main St,,Springfield,IL,62701,US,"
    "TEE-BLK-M,Tee,2,19.50,USD,message=Happy birthday,JOSE\n"
    "AMZ-1,,,,,,,,,,,MUG-11OZ,Mug,1,14.50,USD,,\n"
    "ETSY-7,2026-11-19,Ana Smith,a@example.com,,1 Rd,,Leeds,,LS1 1AA,GB,TEE-WHT-L,Tee,1,19,GBP,"
    "name=Ana; message=Hi,\n"
)


def _config(tmp_path: Path, db_url: str, extra: str = "") -> Path:
    path = tmp_path / "podops.toml"
    path.write_text(
        f'data_dir = "."\n[database]\nurl = "{db_url}"\n'
        '[[routing]]\nsku = "TEE-*"\nprovider = "manual"\n'
        '[[routing]]\nsku = "MUG-*"\nprovider = "manual"\n' + extra,
        encoding="utf-8",
    )
    return path


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_an_excel_style_file_is_read(tmp_path: Path) -> None:
    text = GOOD.replace(",", ";").replace("\n", "\r\n")
    text = text.replace("19.50", "19,50")
    parsed = parse_file(("\ufeff" + text).encode(), tz=UTC, now=NOW, store="outside")
    assert not parsed.errors
    first = parsed.orders[0]
    assert (first.number, len(first.items), first.items[0].unit_price) == ("AMZ-1", 2, 19.5)
    assert first.items[0].personalization == {"message": "Happy birthday", "name": "JOSE"}
    assert first.needs_design, "the mug line has no personalization yet"
    assert not parsed.orders[1].needs_design
    assert parsed.rows == {"AMZ-1": [2, 3], "ETSY-7": [4]}


def test_bad_rows_are_reported_and_the_rest_imported() -> None:
    text = (
        " Order Number , SKU , Quantity , Placed At , Personalization\n"
        "A1,TEE-1,0,,\n"
        "A1,TEE-2,1,,\n"
        "A2,TEE-1,1,20/11/2026,\n"
        ",TEE-1,1,,\n"
        "A3,TEE-1,1,,name\n"
        "A4,TEE-1,1,,name=Bo\n"
    )
    parsed = parse_file(text.encode(), tz=UTC, now=NOW, store="outside")
    assert [o.number for o in parsed.orders] == ["A2", "A3", "A4"]
    assert parsed.errors == {
        2: ("A1", "quantity '0' is not a whole number of at least 1"),
        3: ("A1", "not imported: row 2 of this order has an error"),
        5: ("", "order_number is blank"),
    }
    a2, a3 = parsed.orders[0], parsed.orders[1]
    assert a2.placed_at == NOW and a2.problems == [
        "placed_at '20/11/2026' is not a date like 2026-11-20 or 2026-11-20 15:04; "
        "the import time is used"
    ]
    assert a3.items[0].problems == ["personalization 'name' is not field=value"]


def test_personalization_pairs() -> None:
    assert parse_personalization(" Name = Zoë ;message=Je t'aime; ") == {
        "name": "Zoë",
        "message": "Je t'aime",
    }


def test_import_twice_changes_nothing(
    tmp_path: Path, db: Database, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, db_url)
    orders_csv = tmp_path / "orders.csv"
    orders_csv.write_text(GOOD + "BAD-1,,,,,,,,,,,,Hat,2,,,,\n", encoding="utf-8")
    code, output = _run(capsys, "--config", str(config), "orders", "import", str(orders_csv))
    assert code == 1
    assert "2 new order(s)" in output and "sku is blank" in output
    code, output = _run(capsys, "--config", str(config), "orders", "import", str(orders_csv))
    assert "0 new order(s), 2 already imported" in output
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 2
    code, output = _run(capsys, "--config", str(config), "orders", "show", "AMZ-1")
    assert code == 0 and "needs design" in output and "csv:orders.csv" in output


def test_flagged_shop_orders_show_their_reason(
    tmp_path: Path,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
    shop: FakeWooCommerce,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    blank = {k: "" for k in ("first_name", "last_name", "address_1", "country")}
    weird = [{"id": 1, "key": "Name", "value": ["a", "list"]}]
    shop.add(sample_order(1001, shipping=blank), sample_order(1002, sku="HAT-1", meta=weird))
    config = _config(
        tmp_path,
        db_url,
        f'[stores.main]\nurl = "{shop.url}"\nca_bundle = "{shop.ca_bundle}"\n'
        '[stores.main.personalization]\nfields = { "Name" = "name" }\n',
    )
    monkeypatch.setenv("PODOPS_STORES__MAIN__CONSUMER_KEY", "ck_test_0123456789")
    monkeypatch.setenv("PODOPS_STORES__MAIN__CONSUMER_SECRET", "cs_test_abcdef")
    code, output = _run(capsys, "--config", str(config), "sync", "once")
    assert code == 0, output
    _, shown = _run(capsys, "--config", str(config), "orders", "show", "1001")
    assert "no shipping address" in shown
    _, shown = _run(capsys, "--config", str(config), "orders", "show", "1002")
    assert "meta 'Name' is not text" in shown and "no routing rule for SKU HAT-1" in shown


def test_sync_once_reports_a_refused_key(
    tmp_path: Path,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
    shop: FakeWooCommerce,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = _config(
        tmp_path, db_url, f'[stores.main]\nurl = "{shop.url}"\nca_bundle = "{shop.ca_bundle}"\n'
    )
    monkeypatch.setenv("PODOPS_STORES__MAIN__CONSUMER_KEY", "ck_wrong")
    monkeypatch.setenv("PODOPS_STORES__MAIN__CONSUMER_SECRET", "cs_wrong")
    code, output = _run(capsys, "--config", str(config), "sync", "once")
    assert code == 1
    assert "store 'main': WooCommerce refused the consumer key (401)" in " ".join(output.split())


def test_an_order_with_bad_fields_is_imported_flagged_with_the_reason(
    tmp_path: Path, db: Database, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only rows that cannot be an order are refused; a bad field flags its order."""
    config = _config(tmp_path, db_url)
    orders_csv = tmp_path / "orders.csv"
    long_text = "x" * 501
    orders_csv.write_text(
        "order_number,placed_at,address1,country,sku,quantity,p:name,p:message\n"
        f"L-1,2026-11-19,1 Rd,GB,TEE-1,1,Ana,{long_text}\n"
        "C-1,2026-11-19,1 Rd,GB,TEE-1,1,Bo\x07b,Hi\n"
        "D-1,last tuesday,1 Rd,GB,TEE-1,1,Cy,Hi\n",
        encoding="utf-8",
    )
    code, output = _run(capsys, "--config", str(config), "orders", "import", str(orders_csv))
    assert code == 0, output
    assert "3 new order(s)" in output and "0 row(s) with errors" in output
    assert output.count("waits for staff") == 3 and "501 characters" in output
    with db.unit_of_work() as session:
        orders = {o.number: o for o in session.scalars(select(Order))}
        assert orders["L-1"].status == "on_hold"
        assert orders["L-1"].items[0].personalization == {"name": "Ana"}
        assert "line 1: p:message is 501 characters" in (orders["L-1"].hold_reason or "")
        assert orders["C-1"].status == "on_hold"
        assert any("p:name contains control characters" in p for p in orders["C-1"].problems)
        assert orders["D-1"].status == "on_hold"
        assert "placed_at 'last tuesday' is not a date" in (orders["D-1"].hold_reason or "")
    _, shown = _run(capsys, "--config", str(config), "orders", "show", "D-1")
    assert "last tuesday" in shown


@pytest.mark.parametrize(
    ("written", "read"),
    [("19.50", "19.50"), ("19,50", "19.50"), ("$19.50", "19.50"), ("19.50 USD", "19.50"),
     ("1,000.50", "1000.50"), ("1.000,50", "1000.50"), ("1 000,50", "1000.50"), ("0.125", "0.12"),
     ("", "0.00")],
)  # fmt: skip
def test_a_unit_price_is_read_in_the_forms_shops_write(written: str, read: str) -> None:
    text = f'order_number,sku,quantity,unit_price,p:name\nP1,TEE-1,1,"{written}",Ana\n'
    parsed = parse_file(text.encode(), tz=UTC, now=NOW, store="outside")
    (order,) = parsed.orders
    assert str(order.items[0].unit_price) == read and order.items[0].problems == []


@pytest.mark.parametrize("written", ["NaN", "Infinity", "1e400", "0x10", "1,000", "1.000", "-5"])
def test_a_unit_price_that_is_not_one_amount_is_flagged_never_misread(written: str) -> None:
    """`1e400` was read as 1400.00, `NaN` as 0.00 without a word, `1.000,50` as 1.00 and
    `1,000` as 1.00: the order is imported with 0.00 and the line says why."""
    text = f'order_number,sku,quantity,unit_price,p:name\nP1,TEE-1,1,"{written}",Ana\n'
    parsed = parse_file(text.encode(), tz=UTC, now=NOW, store="outside")
    (order,) = parsed.orders
    (problem,) = order.items[0].problems
    assert order.items[0].unit_price == 0 and "unit_price" in problem and written in problem
