"""`podops tracking import FILE.csv`: every row gets its own result, whatever the file's shape."""

from __future__ import annotations

from pathlib import Path

import pytest

from podops import queries, services
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


def test_importing_the_same_file_again_reports_already_recorded_and_exits_0(
    db: Database,
    db_url: str,
    policy: ShopPolicy,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    whole = factories.submitted_order(db, policy)
    split = factories.submitted_order(db, policy)
    text = (
        f"{whole},UPS,1Z999AA10123456784\n"
        f"{split},UPS,1Z999AA10123456785,TEE-BLK-M,1\n"
        f"{split}-02,FedEx,123456789012\n"
    )
    assert _run(tmp_path, db_url, text) == 0
    assert "3 imported, 0 refused, 3 row(s) read." in capsys.readouterr().out
    with db.unit_of_work() as session:
        events_before = len(queries.timeline(session, services.get_order(session, split)))

    assert _run(tmp_path, db_url, text) == 0

    out = capsys.readouterr().out
    assert "0 imported, 3 already recorded, 0 refused, 3 row(s) read." in out
    assert f"already recorded on order {whole}" in out and "error" not in out
    with db.unit_of_work() as session:
        order = services.get_order(session, split)
        assert len(queries.timeline(session, order)) == events_before and len(order.shipments) == 2


def test_a_row_that_contradicts_the_recorded_parcel_is_an_error(
    db: Database,
    db_url: str,
    policy: ShopPolicy,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    number = factories.submitted_order(db, policy)
    assert _run(tmp_path, db_url, f"{number},UPS,1Z999AA10123456784,TEE-BLK-M,1\n") == 0
    capsys.readouterr()
    already = f"tracking 1Z999AA10123456784 is already recorded on order {number}, "
    for row, conflict in [
        (f"{number},Acme Couriers,1Z999AA10123456784", "it was recorded with UPS, not Acme"),
        (
            f"{number},UPS,1Z999AA10123456784,TEE-BLK-M,2",
            "that parcel holds 1 unit(s) of TEE-BLK-M, not 2",
        ),
        (f"{number},UPS,1Z999AA10123456784,MUG-11OZ,1", "that parcel holds no unit of MUG-11OZ"),
        (f"{number}-02,UPS,1Z999AA10123456784", "that parcel holds no unit of line 2"),
    ]:
        assert _run(tmp_path, db_url, row + "\n") == 1, row
        out = capsys.readouterr().out
        assert "0 imported, 1 refused, 1 row(s) read." in out
        assert already + conflict in out, row
    assert _run(tmp_path, db_url, f"{number}-01,ups,1Z999AA10123456784,,1\n") == 0


def test_one_number_on_two_orders_is_recorded_with_a_warning_kept_in_the_audit(
    db: Database,
    db_url: str,
    policy: ShopPolicy,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first = factories.submitted_order(db, policy)
    second = factories.submitted_order(db, policy)
    third = factories.submitted_order(db, policy)
    assert _run(tmp_path, db_url, f"{first},UPS,1Z999AA10123456784\n") == 0
    capsys.readouterr()
    text = f"{second},UPS,1Z999AA10123456784\n{third},UPS,1Z999AA10123456784\n"

    assert _run(tmp_path, db_url, text) == 0  # a combined shipment is legitimate

    out = capsys.readouterr().out
    assert "2 imported, 0 refused, 2 row(s) read." in out
    warning = "warning: tracking 1Z999AA10123456784 is also on order"
    assert f"{warning} {first}: one parcel for several orders, or a typo?" in out
    assert f"{warning} {first} and {second}: one parcel" in out
    with db.unit_of_work() as session:
        order = services.get_order(session, third)
        assert order.status == OrderStatus.SHIPPED
        shipped = [e for e in queries.timeline(session, order) if e.action == "ship_all"]
        assert [e.detail["shared_with"] for e in shipped] == [[first, second]]
        first_order = services.get_order(session, first)
        assert all("shared_with" not in e.detail for e in queries.timeline(session, first_order))
