"""`podops tracking import FILE.csv`: every row gets its own result, whatever the file's shape."""

from __future__ import annotations

from pathlib import Path

import pytest

from podops import services
from podops.cli import main as cli
from podops.db import Database
from podops.routing import ShopPolicy
from podops.status import OrderStatus
from tests import factories


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich wraps table cells to the terminal; the tests read whole messages."""
    monkeypatch.setattr(cli.out, "width", 400)


def _run(tmp_path: Path, db_url: str, text: str) -> int:
    config = tmp_path / "podops.toml"
    config.write_text(f'data_dir = "."\n[database]\nurl = "{db_url}"\n[sheet]\nbackend = "xlsx"\n')
    csv_path = tmp_path / "tracking.csv"
    csv_path.write_text(text, encoding="utf-8")
    return cli.main(["--config", str(config), "tracking", "import", str(csv_path)])


def test_a_malformed_row_gets_its_own_error_and_the_other_rows_are_imported(
    db: Database,
    db_url: str,
    policy: ShopPolicy,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first = factories.submitted_order(db, policy)
    second = factories.submitted_order(db, policy)
    text = (
        "Order ID;Tracking Number;Carrier\n"
        f"{first};1Z999AA10123456784;UPS\n"
        f"{second};1Z999AA10123456785;UPS;extra;cells;here\n"
        f'"{second}";"1Z999AA10123456786";"UPS"\n'
    )

    code = _run(tmp_path, db_url, text)

    out = capsys.readouterr().out
    assert code == 1
    assert "2 imported, 1 refused, 3 row(s) read." in out
    assert "this row has 6 cells but the header has 3" in out
    assert "Order ID" not in out.split("Result", 1)[1]
    with db.unit_of_work() as session:
        assert services.get_order(session, first).status == OrderStatus.SHIPPED
        assert services.get_order(session, second).status == OrderStatus.SHIPPED


def test_a_header_is_recognised_by_any_known_name_in_any_order(
    db: Database,
    db_url: str,
    policy: ShopPolicy,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    number = factories.submitted_order(db, policy)
    text = f"Courier,Qty,Tracking,Order Number\nUPS,1,1Z999AA10123456784,{number}-01\n"

    assert _run(tmp_path, db_url, text) == 0

    assert "1 imported, 0 refused, 1 row(s) read." in capsys.readouterr().out
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        assert order.status == OrderStatus.PARTIALLY_SHIPPED
        assert order.shipments[0].tracking_number == "1Z999AA10123456784"


def test_without_a_header_a_row_with_too_many_cells_is_refused_alone(
    db: Database,
    db_url: str,
    policy: ShopPolicy,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    number = factories.submitted_order(db, policy)
    text = f"{number}\tUPS\t1Z999AA10123456784\n4242\tUPS\t1Z1\tX\t1\toops\n"

    assert _run(tmp_path, db_url, text) == 1

    out = capsys.readouterr().out
    assert "1 imported, 1 refused, 2 row(s) read." in out
    assert "expected at most 5" in out
