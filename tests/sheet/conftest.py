"""Fixtures: the same sheet behaviour over both adapters.

`sheet` is parametrized: Google Sheets through real gspread against the fake
Sheets API server, and a local .xlsx workbook through openpyxl. `hands` does
what a person does in the spreadsheet (type into a cell, sort, delete a tab).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import gspread
import openpyxl
import pytest

import render
from podops.db import Database
from podops.fulfillment.field_checks import FieldChecks
from podops.ports.sheet import Spreadsheet
from podops.settings import Settings, SheetConfig
from podops.sheet.rows import ORDERS
from render.design_checks import TemplateChecks
from render.images import FetchPolicy
from render.renderer import PrintFileRenderer
from sync.sheets.google import GoogleSheet
from sync.sheets.mirror import CycleReport, SheetMirror
from sync.sheets.workbook import Workbook, _text
from tests.fakes.sheets import FakeSheets
from tests.fakes.sheets_server import FakeSheetsServer, RedirectSession

SHIPPED_TEMPLATES = Path(render.__file__).parent / "templates"
LOOPBACK_PHOTOS = FetchPolicy(allow_loopback=True, timeout_s=5)


class Hands(Protocol):
    def values(self, tab: str) -> list[list[str]]: ...
    def set(self, tab: str, row: int, col: int, value: Any) -> None: ...
    def delete_tab(self, tab: str) -> None: ...


class GoogleHands:
    def __init__(self, fake: FakeSheets) -> None:
        self.fake = fake

    def values(self, tab: str) -> list[list[str]]:
        return self.fake.values(tab)

    def set(self, tab: str, row: int, col: int, value: Any) -> None:
        self.fake.set(tab, row, col, value)

    def delete_tab(self, tab: str) -> None:
        self.fake.delete_tab(tab)


class WorkbookHands:
    """Opens, edits and saves the file the way a person with Excel would."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def values(self, tab: str) -> list[list[str]]:
        sheet = openpyxl.load_workbook(self.path)[tab]
        return [[_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]

    def set(self, tab: str, row: int, col: int, value: Any) -> None:
        book = openpyxl.load_workbook(self.path)
        book[tab].cell(row=row, column=col).value = value
        book.save(self.path)

    def delete_tab(self, tab: str) -> None:
        book = openpyxl.load_workbook(self.path)
        del book[tab]
        book.save(self.path)


@dataclass
class SheetEnv:
    kind: str
    sheet: Spreadsheet
    hands: Hands
    fake: FakeSheets | None
    db: Database
    settings: Settings
    now: datetime

    def mirror(self, now: datetime | None = None) -> SheetMirror:
        return SheetMirror(
            self.db,
            self.sheet,
            self.settings,
            clock=lambda: now or self.now,
            field_checks=template_checks(self.db),
        )

    def cycle(self, now: datetime | None = None) -> CycleReport:
        report = self.mirror(now).run_cycle()
        assert not report.problems, report.problems
        return report

    def orders_rows(self) -> list[dict[str, str]]:
        """Orders tab rows as dicts by header (blank rows skipped)."""
        values = self.hands.values(ORDERS)
        header = values[0]
        rows = []
        for number, row in enumerate(values[1:], start=2):
            if any(row):
                data = dict(zip(header, row + [""] * (len(header) - len(row)), strict=False))
                data["_row"] = str(number)
                rows.append(data)
        return rows

    def row_of(self, reference: str) -> dict[str, str]:
        return next(r for r in self.orders_rows() if r["line"] == reference)

    def col(self, header: str) -> int:
        return self.hands.values(ORDERS)[0].index(header) + 1


def template_checks(db: Database) -> FieldChecks:
    """Field edits checked against the shipped templates; photos may come from 127.0.0.1."""
    renderer = PrintFileRenderer(SHIPPED_TEMPLATES, Path("unused"), LOOPBACK_PHOTOS)
    return FieldChecks(db, TemplateChecks(renderer.template, renderer.fetch_policy))


def google_sheet(base: str, fake: FakeSheets, **options: Any) -> GoogleSheet:
    client = gspread.Client(auth=None, session=RedirectSession(base))  # type: ignore[arg-type]
    options.setdefault("wait_min", 0.01)
    options.setdefault("wait_max", 0.05)
    return GoogleSheet(client, fake.id, **options)


@pytest.fixture
def fake_server() -> Iterator[FakeSheetsServer]:
    with FakeSheetsServer() as server:
        yield server


@pytest.fixture(params=["google", "xlsx"])
def env(request: pytest.FixtureRequest, db: Database, tmp_path: Path) -> Iterator[SheetEnv]:
    settings = Settings(data_dir=tmp_path, sheet=SheetConfig(backend="xlsx"))
    now = datetime.now(UTC)
    if request.param == "google":
        with FakeSheetsServer() as server:
            sheet = google_sheet(server.base, server.fake)
            yield SheetEnv(
                "google", sheet, GoogleHands(server.fake), server.fake, db, settings, now
            )
        return
    path = tmp_path / "orders.xlsx"
    yield SheetEnv("xlsx", Workbook(path), WorkbookHands(path), None, db, settings, now)
