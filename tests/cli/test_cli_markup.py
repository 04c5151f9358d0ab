"""Outside text is never read as rich markup by `podops`: names, SKUs, notes, CSV
cells and error messages such as `[/x]`, `[bold]` or `[link=...]` are printed as
they are (a customer named `[/x]` used to crash `podops orders list`)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from podops import services
from podops.cli import main as cli
from podops.db import Database
from podops.incoming import IncomingLineItem
from podops.routing import ShopPolicy
from podops.settings import Settings
from tests.factories import SYSTEM, incoming

HOSTILE = ["[/x]", "[bold]loud[/bold]", "[link=https://evil.example]refund[/link]", "[red"]
NAME, SKU, ITEM, NOTE = HOSTILE[0], "TEE-[/x]", HOSTILE[2], HOSTILE[1]


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich wraps table cells to the terminal; the tests read whole texts."""
    monkeypatch.setattr(cli.out, "width", 400)
    monkeypatch.setattr(cli.err, "width", 400)


@pytest.fixture
def config(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "podops.toml"
    path.write_text(
        f'data_dir = "."\n[database]\nurl = "{db_url}"\n[sheet]\nbackend = "xlsx"\n'
        '[[routing]]\nsku = "TEE-*"\nprovider = "manual"\n',
        encoding="utf-8",
    )
    return path


def run(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> tuple[int, str]:
    code = cli.main(["--config", str(config), *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def hostile_order(db: Database) -> str:
    """A store order whose every outside field is markup-like text."""
    line = IncomingLineItem(
        external_id="li-[/x]",
        sku=SKU,
        name=ITEM,
        quantity=1,
        unit_price=Decimal("19.00"),
        personalization={"name": HOSTILE[3], "message": HOSTILE[1]},
    )
    order = incoming("5001", customer_name=NAME, customer_email="[/x]@example.com", items=[line])
    with db.unit_of_work() as session:
        services.receive_orders(session, [order], ShopPolicy.from_settings(Settings()), SYSTEM)
    return "5001"


def test_orders_list_and_show_print_markup_like_text_as_it_is(
    db: Database, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    number = hostile_order(db)
    assert run(capsys, config, "hold", number, "--reason", NOTE)[0] == 0
    code, listed = run(capsys, config, "orders", "list")
    assert code == 0, listed
    assert NAME in listed
    code, shown = run(capsys, config, "orders", "show", number)
    assert code == 0, shown
    for text in (NAME, SKU, ITEM, NOTE, HOSTILE[3], "[/x]@example.com"):
        assert text in shown, text
    code, refused = run(capsys, config, "release", "[/x]")
    assert code in (1, 2) and "[/x]" in refused


def test_the_csv_import_tables_print_cells_and_errors_as_they_are(
    db: Database, config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    orders_csv = tmp_path / "orders.csv"
    orders_csv.write_text(
        "order_number,placed_at,address1,country,sku,quantity,p:name\n"
        f"[/x],2026-11-19,1 Rd,GB,{SKU},1,{HOSTILE[2]}\n"
        "B-2,2026-11-19,1 Rd,GB,TEE-1,[/x],Ana\n"
        "C-3,[bold]soon[/bold],1 Rd,GB,TEE-1,1,Bo\n",
        encoding="utf-8",
    )
    code, imported = run(capsys, config, "orders", "import", str(orders_csv))
    assert code in (0, 1), imported
    assert "quantity '[/x]'" in imported and "[bold]soon[/bold]" in imported
    tracking_csv = tmp_path / "tracking.csv"
    tracking_csv.write_text(
        "reference,tracking_company,tracking_number\n"
        "[/x],[bold]UPS[/bold],[link=https://evil.example]1Z[/link]\n",
        encoding="utf-8",
    )
    code, tracked = run(capsys, config, "tracking", "import", str(tracking_csv))
    assert code == 1, tracked
    assert "[bold]UPS[/bold]" in tracked and "[link=https://evil.example]1Z[/link]" in tracked
