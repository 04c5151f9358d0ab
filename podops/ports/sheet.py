"""The spreadsheet port: tabs of cells the core reads and writes in batches.

Two adapters implement it: Google Sheets through gspread (`sync/sheets/google.py`) and
a local .xlsx workbook through openpyxl (`sync/sheets/workbook.py`). The core decides
*what* goes where (pure row building and diffing in `podops.sheet.rows`); an
adapter only knows how to lay out tabs, read ranges and write blocks with as
few requests as its backend allows. Every value is written as a literal (RAW):
text that starts with `=` stays text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from podops.errors import OutsideServiceError

Cell = str | int | float | bool
"""A value as written: text, a number, or TRUE/FALSE for checkbox columns."""


class SheetError(OutsideServiceError):
    """The spreadsheet refused or failed (quota, outage, a locked workbook, ...)."""


class TabMissing(SheetError):
    """A tab the core relies on is gone (a person deleted it); `prepare` rebuilds it."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=True)


@dataclass(frozen=True, slots=True)
class TabSpec:
    """How one tab looks: its header row and which columns people may edit."""

    title: str
    headers: tuple[str, ...]
    editable: frozenset[str] = frozenset()
    hidden: frozenset[str] = frozenset()
    checkboxes: frozenset[str] = frozenset()
    text_columns: frozenset[str] = frozenset()
    """Columns formatted as plain text, so pasted tracking numbers stay digits."""
    status_column: str | None = None
    protect_all: bool = False
    """True for tabs nobody edits (Archive); else only non-editable columns are protected."""

    def column(self, header: str) -> int:
        """1-based column number of `header`."""
        return self.headers.index(header) + 1


@dataclass(frozen=True, slots=True)
class ReadRange:
    """A rectangle to read; `last_row=None` reads to the end of the tab."""

    tab: str
    first_row: int
    first_col: int
    last_col: int
    last_row: int | None = None


@dataclass(frozen=True, slots=True)
class CellBlock:
    """A rectangle of values to write, its top-left corner at (`row`, `col`), 1-based."""

    tab: str
    row: int
    col: int
    values: list[list[Cell]]


@dataclass(slots=True)
class SheetStats:
    """What the adapter cost: requests (or file loads/saves) and bytes."""

    reads: int = 0
    writes: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    retries: int = 0

    @property
    def requests(self) -> int:
        return self.reads + self.writes

    def copy(self) -> SheetStats:
        return SheetStats(
            self.reads, self.writes, self.bytes_sent, self.bytes_received, self.retries
        )

    def since(self, earlier: SheetStats) -> SheetStats:
        return SheetStats(
            self.reads - earlier.reads,
            self.writes - earlier.writes,
            self.bytes_sent - earlier.bytes_sent,
            self.bytes_received - earlier.bytes_received,
            self.retries - earlier.retries,
        )


@dataclass(slots=True)
class Prepared:
    """What `prepare` found and fixed."""

    created: set[str] = field(default_factory=set)
    """Tabs made just now (empty, so there is nothing to read from them)."""
    repairs: list[str] = field(default_factory=list)


class Spreadsheet(Protocol):
    """The operations the mirror and the tracking import need, each one batched."""

    stats: SheetStats
    description: str

    def prepare(
        self, tabs: Sequence[TabSpec], rows: Mapping[str, int], *, recheck: bool = False
    ) -> Prepared:
        """Make sure every tab exists with its protection, validation, frozen header
        and at least `rows[title]` rows; repair what is missing. Cheap when all is in
        place (no request), unless `recheck` asks to look again."""
        ...

    def read(self, ranges: Sequence[ReadRange]) -> list[list[list[str]]]:
        """One batched read. Values as people see them (TRUE/FALSE, numbers as text),
        one list per range, trailing empty cells and rows trimmed."""
        ...

    def write(self, blocks: Sequence[CellBlock]) -> None:
        """One batched RAW write (split only to keep each request body small)."""
        ...
