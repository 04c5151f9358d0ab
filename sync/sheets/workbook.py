"""Local .xlsx workbook adapter (openpyxl): the embedded default spreadsheet.

Same tabs and behaviour as the Google adapter. The file is read fresh when it
changed on disk (a person saved edits) and written atomically (temp file, then
`os.replace`), so a crash never leaves half a workbook. While the workbook is
open in Excel or LibreOffice (their lock file is present) or the file cannot
be replaced, edits are still read and applied but writing waits for the next
cycle; a file that cannot be read is never overwritten.
"""

from __future__ import annotations

import os
import sys
import zipfile
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from podops.ports.sheet import (
    Cell,
    CellBlock,
    Prepared,
    ReadRange,
    SheetError,
    SheetStats,
    TabMissing,
    TabSpec,
)
from podops.sheet.rows import STATUS_COLOURS, cell_text


def _without_numpy() -> None:
    """Load openpyxl without numpy, which it imports (12 MB of the idle service's
    memory) only to accept numpy numbers as cell values: this adapter writes the
    port's plain `Cell` values, and reports turn numpy numbers into plain ones
    (`podops.reporting.export.plain`). A process that already has numpy (one
    that reports with pandas) loads openpyxl as usual."""
    if "openpyxl" in sys.modules or "numpy" in sys.modules:
        return
    sys.modules["numpy"] = None  # type: ignore[assignment]  # `import numpy` fails
    try:
        import openpyxl.compat.numbers  # noqa: F401
    finally:
        del sys.modules["numpy"]


_without_numpy()

import openpyxl  # noqa: E402
from openpyxl.formatting.rule import CellIsRule  # noqa: E402
from openpyxl.styles import Font, PatternFill, Protection  # noqa: E402
from openpyxl.utils import get_column_letter  # noqa: E402
from openpyxl.utils.exceptions import InvalidFileException  # noqa: E402
from openpyxl.workbook.workbook import Workbook as Book  # noqa: E402
from openpyxl.worksheet.datavalidation import DataValidation  # noqa: E402
from openpyxl.worksheet.worksheet import Worksheet  # noqa: E402

UNLOCKED = Protection(locked=False)
BOLD = Font(bold=True)
LAST_ROW = 1_048_576


def lock_files(path: Path) -> list[Path]:
    """Lock files Excel (`~$name`) and LibreOffice (`.~lock.name#`) leave while open."""
    candidates = [path.with_name("~$" + path.name), path.with_name(f".~lock.{path.name}#")]
    return [p for p in candidates if p.exists()]


def _text(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool | int | float | str):
        return cell_text(value)
    return "" if value is None else str(value)


class Workbook:
    """One .xlsx file with the Orders, Tracking and Archive tabs."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.description = f"workbook {path}"
        self.stats = SheetStats()
        self._book: Book | None = None
        self._stamp: tuple[int, int] | None = None
        self._dirty = False

    def _disk_stamp(self) -> tuple[int, int] | None:
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return None
        return info.st_mtime_ns, info.st_size

    def _current(self) -> Book:
        """The workbook as on disk now (reloaded when a person saved it)."""
        stamp = self._disk_stamp()
        if self._book is not None and stamp == self._stamp:
            return self._book
        if stamp is None:
            book = openpyxl.Workbook()
            book.remove(book.active)  # type: ignore[arg-type]
        else:
            try:
                book = openpyxl.load_workbook(self.path)
            except (OSError, zipfile.BadZipFile, InvalidFileException, KeyError) as exc:
                raise SheetError(
                    f"cannot read {self.path.name} ({type(exc).__name__}); it is left as it is "
                    "and read again next time",
                    retryable=True,
                ) from exc
            self.stats.reads += 1
            self.stats.bytes_received += stamp[1]
        self._book, self._stamp = book, stamp
        return book

    def prepare(
        self, tabs: Sequence[TabSpec], rows: Mapping[str, int], *, recheck: bool = False
    ) -> Prepared:
        book = self._current()
        prepared = Prepared()
        for tab in tabs:
            if tab.title not in book.sheetnames:
                book.create_sheet(tab.title)
                prepared.created.add(tab.title)
                prepared.repairs.append(f"created the {tab.title} tab")
                _set_up(book[tab.title], tab)
            elif _needs_setup(book[tab.title], tab):
                _set_up(book[tab.title], tab)
                prepared.repairs.append(f"restored protection and checks on the {tab.title} tab")
            elif _unlock_new_columns(book[tab.title], tab):
                self._dirty = True
        if prepared.repairs:
            self._dirty = True
        return prepared

    def read(self, ranges: Sequence[ReadRange]) -> list[list[list[str]]]:
        book = self._current()
        found = []
        for rng in ranges:
            if rng.tab not in book.sheetnames:
                raise TabMissing(f"the {rng.tab} tab is missing from {self.path.name}")
            sheet = book[rng.tab]
            last = rng.last_row if rng.last_row is not None else sheet.max_row
            rows = (
                [
                    [_text(v) for v in values]
                    for values in sheet.iter_rows(
                        min_row=rng.first_row,
                        max_row=max(last, rng.first_row),
                        min_col=rng.first_col,
                        max_col=rng.last_col,
                        values_only=True,
                    )
                ]
                if last >= rng.first_row
                else []
            )
            found.append(_trim(rows))
        return found

    def write(self, blocks: Sequence[CellBlock]) -> None:
        if not blocks and not self._dirty:
            return
        book = self._current()
        for block in blocks:
            if block.tab not in book.sheetnames:
                raise TabMissing(f"the {block.tab} tab is missing from {self.path.name}")
            _put(book[block.tab], block)
        self._dirty = True
        self._save(book)

    def _save(self, book: Book) -> None:
        locks = lock_files(self.path)
        if locks:
            raise SheetError(
                f"{self.path.name} is open in a spreadsheet program ({locks[0].name}); edits were "
                "read, and the sheet will be updated once it is closed",
                retryable=True,
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            book.save(temp)
            os.replace(temp, self.path)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            self._book = None  # read the file again before the next write
            raise SheetError(
                f"cannot write {self.path.name}: {exc.strerror}; will retry", retryable=True
            ) from exc
        self.stats.writes += 1
        self._stamp = self._disk_stamp()
        self.stats.bytes_sent += self._stamp[1] if self._stamp else 0
        self._dirty = False


def _trim(rows: list[list[str]]) -> list[list[str]]:
    trimmed = []
    for row in rows:
        while row and row[-1] == "":
            row.pop()
        trimmed.append(row)
    while trimmed and not trimmed[-1]:
        trimmed.pop()
    return trimmed


def _put(sheet: Worksheet, block: CellBlock) -> None:
    editable = _editable_columns(sheet)
    for r, values in enumerate(block.values):
        for c, value in enumerate(values):
            cell = sheet.cell(row=block.row + r, column=block.col + c)
            _assign(cell, value)
            if block.col + c in editable:
                cell.protection = UNLOCKED


def _assign(cell: Any, value: Cell) -> None:
    """Write a literal: text that starts with `=` is stored as text, never a formula."""
    cell.value = None if value == "" else value
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"


def _editable_columns(sheet: Worksheet) -> set[int]:
    return {
        index
        for index in range(1, sheet.max_column + 1)
        if sheet.column_dimensions[get_column_letter(index)].protection.locked is False
    }


def _unlock_new_columns(sheet: Worksheet, tab: TabSpec) -> bool:
    """Editable columns added since setup (a new personalization field) get unlocked."""
    changed = False
    for index, header in enumerate(tab.headers, start=1):
        dimension = sheet.column_dimensions[get_column_letter(index)]
        if (
            header in tab.editable
            and not tab.protect_all
            and dimension.protection.locked is not False
        ):
            dimension.protection = UNLOCKED
            changed = True
    return changed


def _needs_setup(sheet: Worksheet, tab: TabSpec) -> bool:
    """Checked each time the file is read: a person may have undone any part of it."""
    return (
        not sheet.protection.sheet
        or sheet.freeze_panes != "A2"
        or (bool(tab.checkboxes) and not sheet.data_validations.dataValidation)
        or any(
            not sheet.column_dimensions[get_column_letter(index)].hidden
            for index, header in enumerate(tab.headers, start=1)
            if header in tab.hidden
        )
    )


def _set_up(sheet: Worksheet, tab: TabSpec) -> None:
    """Frozen bold header, hidden key, locked read-only columns, checks, colours."""
    sheet.freeze_panes = "A2"
    for index, header in enumerate(tab.headers, start=1):
        letter = get_column_letter(index)
        dimension = sheet.column_dimensions[letter]
        dimension.hidden = header in tab.hidden
        dimension.width = 14 if header not in tab.hidden else 8
        sheet.cell(row=1, column=index).font = BOLD
        if header in tab.editable and not tab.protect_all:
            dimension.protection = UNLOCKED
        if header in tab.text_columns:
            dimension.number_format = "@"
        if header in tab.checkboxes:
            check = DataValidation(type="list", formula1='"TRUE,FALSE"', allow_blank=True)
            check.error = "Write TRUE to hold the order or FALSE to release it"
            check.add(f"{letter}2:{letter}{LAST_ROW}")
            sheet.add_data_validation(check)
    if tab.status_column and not sheet.conditional_formatting:
        letter = get_column_letter(tab.headers.index(tab.status_column) + 1)
        for label, colour in STATUS_COLOURS.items():
            fill = PatternFill(start_color=colour, end_color=colour, fill_type="solid")
            rule = CellIsRule(operator="equal", formula=[f'"{label}"'], fill=fill)
            sheet.conditional_formatting.add(f"{letter}2:{letter}{LAST_ROW}", rule)
    protection = sheet.protection
    protection.sheet = True
    protection.sort = False
    protection.autoFilter = False
    protection.formatColumns = False
    protection.formatRows = False
