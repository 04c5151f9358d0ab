"""Quotas and bodies on Google; locked workbooks; the CSV import command."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from podops import services
from podops.cli import main as cli
from podops.db import Database
from podops.ports.sheet import SheetError
from podops.routing import ShopPolicy
from podops.settings import Settings, SheetConfig
from podops.sheet.rows import ORDERS
from podops.status import OrderStatus
from sync.sheets.mirror import SheetMirror
from sync.sheets.workbook import Workbook
from tests import factories
from tests.fakes.sheets_server import FakeSheetsServer
from tests.sheet.conftest import WorkbookHands, google_sheet


def _mirror(db: Database, sheet, tmp_path: Path) -> SheetMirror:  # type: ignore[no-untyped-def]
    return SheetMirror(db, sheet, Settings(data_dir=tmp_path, sheet=SheetConfig()))


def test_a_429_is_retried_with_backoff_and_the_cycle_completes(
    fake_server: FakeSheetsServer, db: Database, policy: ShopPolicy, tmp_path: Path
) -> None:
    factories.received_order(db, policy)
    sheet = google_sheet(fake_server.base, fake_server.fake)
    fake_server.fake.fail_next(2)

    report = _mirror(db, sheet, tmp_path).run_cycle()

    assert report.requests.retries == 2
    assert len(fake_server.fake.values(ORDERS)) == 3


def test_a_quota_that_stays_exhausted_gives_up_after_a_few_tries(
    fake_server: FakeSheetsServer, db: Database, policy: ShopPolicy, tmp_path: Path
) -> None:
    factories.received_order(db, policy)
    sheet = google_sheet(fake_server.base, fake_server.fake, attempts=3)
    fake_server.fake.fail_next(10)

    with pytest.raises(SheetError) as caught:
        _mirror(db, sheet, tmp_path).run_cycle()

    assert caught.value.retryable and "quota" in caught.value.message
    assert len(fake_server.fake.log) == 3


def test_a_large_write_is_split_into_bodies_under_the_limit(
    fake_server: FakeSheetsServer, db: Database, policy: ShopPolicy, tmp_path: Path
) -> None:
    for _ in range(20):
        factories.received_order(db, policy)
    sheet = google_sheet(fake_server.base, fake_server.fake, body_limit=4000)

    _mirror(db, sheet, tmp_path).run_cycle()

    writes = [e for e in fake_server.fake.log if e.path.endswith("values:batchUpdate")]
    assert len(writes) > 1 and all(e.bytes_in < 4000 + 600 for e in writes)
    assert len(fake_server.fake.values(ORDERS)) == 41


def test_an_open_workbook_keeps_edits_and_is_written_once_closed(
    db: Database, policy: ShopPolicy, tmp_path: Path
) -> None:
    number = factories.received_order(db, policy)
    path = tmp_path / "orders.xlsx"
    mirror = _mirror(db, Workbook(path), tmp_path)
    mirror.run_cycle()
    hands = WorkbookHands(path)
    hold_col = hands.values(ORDERS)[0].index("hold") + 1
    hands.set(ORDERS, 2, hold_col, True)
    lock = tmp_path / "~$orders.xlsx"
    lock.write_text("maria")

    with pytest.raises(SheetError) as caught:
        mirror.run_cycle()

    assert "open in a spreadsheet program" in caught.value.message
    with db.unit_of_work() as session:
        assert services.get_order(session, number).status == OrderStatus.ON_HOLD
    lock.unlink()
    mirror.run_cycle()
    assert hands.values(ORDERS)[1][4] == "on hold"


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich wraps table cells to the terminal; the tests read whole messages."""
    monkeypatch.setattr(cli.out, "width", 400)


def _config(tmp_path: Path, db_url: str) -> Path:
    path = tmp_path / "podops.toml"
    path.write_text(f'data_dir = "."\n[database]\nurl = "{db_url}"\n[sheet]\nbackend = "xlsx"\n')
    return path


def test_csv_import_reads_bom_semicolons_and_windows_line_ends(
    db: Database,
    db_url: str,
    policy: ShopPolicy,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first = factories.submitted_order(db, policy)
    second = factories.submitted_order(db, policy)
    text = (
        "Order Number;Carrier;Tracking Number;SKU;Qty\r\n"
        f" #{first} ; UPS ;1Z999AA10123456784;;\r\n"
        f"{second}-02;usps;9400111899223197428490;;1\r\n"
        f"{first};UPS;1Z999AA10123456784;;\r\n"
        "=cmd|' /C calc'!A0;UPS;1Z999AA10123456785;;\r\n"
        f"{second};UPS;1Z999AA10123456786;TEE-BLK-M;2026-03-01\r\n"
        "\r\n"
    )
    csv_path = tmp_path / "tracking.csv"
    csv_path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))

    code = cli.main(
        ["--config", str(_config(tmp_path, db_url)), "tracking", "import", str(csv_path)]
    )

    out = capsys.readouterr().out
    assert code == 1
    assert "2 imported, 3 refused, 5 row(s) read." in out
    assert "same tracking number as row 2" in out
    assert "formula" in out and "looks like a date" in out
    with db.unit_of_work() as session:
        assert services.get_order(session, first).status == OrderStatus.SHIPPED
        order = services.get_order(session, second)
        assert order.status == OrderStatus.PARTIALLY_SHIPPED
        assert order.shipments[0].channel == "cli"


def test_csv_import_again_reports_every_row_as_already_recorded_and_exits_0(
    db: Database,
    db_url: str,
    policy: ShopPolicy,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Issue 14 item 13: a row already recorded with the same values is not an error."""
    number = factories.submitted_order(db, policy)
    csv_path = tmp_path / "t.csv"
    csv_path.write_text(f"{number},UPS,1Z999AA10123456784\n", encoding="utf-8")
    config = _config(tmp_path, db_url)
    assert cli.main(["--config", str(config), "tracking", "import", str(csv_path)]) == 0
    capsys.readouterr()
    assert cli.main(["--config", str(config), "tracking", "import", str(csv_path)]) == 0
    out = capsys.readouterr().out
    assert f"already recorded on order {number}" in out
    assert "0 imported, 1 already recorded, 0 refused, 1 row(s) read." in out


def test_sheet_sync_command_prints_requests_and_changes(
    db: Database,
    db_url: str,
    policy: ShopPolicy,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    factories.received_order(db, policy)
    code = cli.main(["--config", str(_config(tmp_path, db_url)), "sheet", "sync"])
    out = capsys.readouterr().out
    assert code == 0
    assert "2 row(s) added" in out and "requests:" in out
    assert (tmp_path / "orders.xlsx").exists()
    assert datetime.now(UTC).year >= 2025
