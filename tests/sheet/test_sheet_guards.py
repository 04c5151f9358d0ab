"""The sheet keeps telling the truth when people change what they should not."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from podops import services
from podops.db import Database
from podops.ports.sheet import SheetError
from podops.routing import ShopPolicy
from podops.settings import Settings, SheetConfig
from podops.sheet.rows import ORDERS
from podops.status import OrderStatus
from sync.sheets.mirror import SheetMirror
from sync.sheets.workbook import Workbook
from tests import factories
from tests.fakes.sheets import FakeSheets
from tests.fakes.sheets_server import FakeSheetsServer
from tests.sheet.conftest import SheetEnv, google_sheet


def test_a_hand_edit_of_a_read_only_cell_is_put_back_in_the_one_write(
    env: SheetEnv, policy: ShopPolicy
) -> None:
    number = factories.received_order(env.db, policy)
    env.cycle()
    row = int(env.row_of(f"{number}-01")["_row"])
    env.hands.set(ORDERS, row, env.col("status"), "shipped")
    env.hands.set(ORDERS, row, env.col("customer"), "Somebody Else")

    report = env.cycle()

    shown = env.row_of(f"{number}-01")
    assert (shown["status"], shown["customer"]) == ("pending", "Ana Smith")
    assert report.restored == 1
    assert (report.requests.reads, report.requests.writes) == (1, 1)
    with env.db.unit_of_work() as session:
        assert services.get_order(session, number).status == OrderStatus.PENDING
    assert env.cycle().requests.writes == 0


def test_a_row_whose_key_was_cleared_keeps_what_was_typed_and_is_not_duplicated(
    env: SheetEnv, policy: ShopPolicy
) -> None:
    number = factories.received_order(env.db, policy)
    env.cycle()
    row = int(env.row_of(f"{number}-01")["_row"])
    env.hands.set(ORDERS, row, 1, "")
    env.hands.set(ORDERS, row, env.col("notes"), "gift wrap")

    env.cycle()

    rows = [r for r in env.orders_rows() if r["line"] == f"{number}-01"]
    assert len(rows) == 1
    assert rows[0]["key"] and rows[0]["notes"] == "gift wrap"
    assert len(env.orders_rows()) == 2
    env.cycle()
    assert len(env.orders_rows()) == 2


def test_a_keyless_row_that_matches_no_line_gets_a_message_and_is_left_alone(
    env: SheetEnv, policy: ShopPolicy
) -> None:
    factories.received_order(env.db, policy)
    env.cycle()
    env.hands.set(ORDERS, 4, env.col("notes"), "call the customer back")

    env.cycle()

    values = env.hands.values(ORDERS)
    header = values[0]
    typed = dict(zip(header, values[3] + [""] * len(header), strict=False))
    assert typed["notes"] == "call the customer back"
    assert "hidden key" in typed["sheet message"] and "not read" in typed["sheet message"]
    assert env.cycle().requests.writes == 0


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _damage(fake: FakeSheets) -> None:
    """What a person can do in the browser: unfreeze, unhide the key, clear the checkboxes."""
    tab = fake.tab(ORDERS)
    tab.frozen, tab.hidden, tab.validations = 0, set(), []


def _intact(fake: FakeSheets) -> bool:
    tab = fake.tab(ORDERS)
    return tab.frozen == 1 and 0 in tab.hidden and bool(tab.validations)


def test_a_damaged_google_layout_is_repaired_within_the_hour_without_a_restart(
    fake_server: FakeSheetsServer, db: Database, policy: ShopPolicy, tmp_path: Path
) -> None:
    fake, clock = fake_server.fake, _Clock()
    sheet = google_sheet(fake_server.base, fake, clock=clock)
    mirror = SheetMirror(db, sheet, Settings(data_dir=tmp_path, sheet=SheetConfig()))
    factories.received_order(db, policy)
    mirror.run_cycle()
    _damage(fake)

    quiet = mirror.run_cycle()
    clock.now += 3601
    checked = mirror.run_cycle()

    assert (quiet.requests.reads, quiet.requests.writes) == (1, 0)
    assert _intact(fake)
    assert any("frozen header" in text for text in checked.repairs)
    assert mirror.run_cycle().requests.requests == 1


def test_after_a_failed_write_the_google_layout_is_checked_again(
    fake_server: FakeSheetsServer, db: Database, policy: ShopPolicy, tmp_path: Path
) -> None:
    fake = fake_server.fake
    sheet = google_sheet(fake_server.base, fake, attempts=1, clock=_Clock())
    mirror = SheetMirror(db, sheet, Settings(data_dir=tmp_path, sheet=SheetConfig()))
    factories.received_order(db, policy)
    mirror.run_cycle()
    _damage(fake)
    factories.received_order(db, policy)
    fake.fail_writes.append(500)

    with pytest.raises(SheetError):
        mirror.run_cycle()
    mirror.run_cycle()

    assert _intact(fake)
    assert len(fake.values(ORDERS)) == 5


def test_an_unhidden_key_column_in_a_workbook_is_hidden_again(
    db: Database, policy: ShopPolicy, tmp_path: Path
) -> None:
    path = tmp_path / "orders.xlsx"
    mirror = SheetMirror(db, Workbook(path), Settings(data_dir=tmp_path, sheet=SheetConfig()))
    factories.received_order(db, policy)
    mirror.run_cycle()
    book = openpyxl.load_workbook(path)
    book[ORDERS].column_dimensions["A"].hidden = False
    book.save(path)

    report = mirror.run_cycle()

    assert openpyxl.load_workbook(path)[ORDERS].column_dimensions["A"].hidden
    assert any(ORDERS in text for text in report.repairs)
