"""Reading a tracking CSV file into rows, one result per row even when a row is malformed.

Files come from carriers' portals, Excel and Google exports: a UTF-8 BOM or
Windows-1252 text, commas, semicolons, tabs or pipes (found by `csv.Sniffer`),
quoted values, Windows line ends, and an optional header row in any column
order under common names. A row the file's shape cannot explain (more cells
than the header) gets its own error; the other rows are still read.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from podops.errors import InvalidInput
from podops.tracking.rows import COLUMNS, clean_cell, is_blank

CSV_ALIASES: dict[str, str] = {
    **dict.fromkeys(
        (
            "reference",
            "ref",
            "order",
            "order id",
            "orderid",
            "order number",
            "order no",
            "order #",
            "order ref",
            "order reference",
        ),
        "reference",
    ),
    **dict.fromkeys(
        (
            "tracking company",
            "carrier",
            "courier",
            "company",
            "shipping carrier",
            "shipping company",
            "carrier name",
        ),
        "tracking_company",
    ),
    **dict.fromkeys(
        (
            "tracking number",
            "tracking",
            "tracking no",
            "tracking #",
            "tracking code",
            "tracking id",
            "number",
        ),
        "tracking_number",
    ),
    "sku": "sku",
    **dict.fromkeys(("quantity", "qty", "quantity shipped", "qty shipped"), "quantity"),
}
"""Header names (lower case, `_` and `-` read as spaces) -> column."""
REQUIRED = ("reference", "tracking_number")
DELIMITERS = ",;\t|"
SAMPLE = 64 * 1024


@dataclass(frozen=True, slots=True)
class CsvRow:
    """One data row: its line in the file, its cells in COLUMNS order, or why it is unreadable."""

    line: int
    cells: list[str]
    problem: str = ""


def header_name(cell: str) -> str:
    text = clean_cell(cell).lower().replace("_", " ").replace("-", " ")
    return CSV_ALIASES.get(" ".join(text.split()), "")


def _decode(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    """The file's separator: sniffed, else the one the first line uses most."""
    sample = text[:SAMPLE]
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS)
    except csv.Error:
        first = next((line for line in sample.splitlines() if line.strip()), "")

        class Guessed(csv.excel):
            delimiter = max(DELIMITERS, key=first.count)

        return Guessed


def _records(text: str) -> list[tuple[int, list[str] | None, str]]:
    """(first line, cells, error) of each record; a record csv cannot parse is kept as an error."""
    reader = csv.reader(io.StringIO(text, newline=""), _dialect(text))
    records: list[tuple[int, list[str] | None, str]] = []
    line = 0
    while True:
        start = line + 1
        try:
            cells = next(reader)
        except StopIteration:
            return records
        except csv.Error as exc:
            records.append((start, None, f"this line cannot be read as CSV: {exc}"))
            if reader.line_num <= line:  # no progress: stop rather than loop
                return records
        else:
            records.append((start, cells, ""))
        line = reader.line_num


def read_csv_rows(path: Path) -> list[CsvRow]:
    """Every non-blank data row of a tracking CSV, in file order, with its line number."""
    records = _records(_decode(path))
    order = list(range(len(COLUMNS)))
    width = len(COLUMNS)
    first = next((r for r in records if r[1] is not None and not is_blank(r[1] + [""])), None)
    names = [header_name(c) for c in first[1] or []] if first is not None else []
    header_line = 0
    if first is not None and any(names):
        missing = [c for c in REQUIRED if c not in names]
        if missing:
            wanted = ", ".join(c.replace("_", " ") for c in missing)
            raise InvalidInput(
                f"{path.name} has a header row but no column for {wanted} "
                "(e.g. 'order number', 'tracking number', 'carrier')"
            )
        order = [names.index(c) if c in names else -1 for c in COLUMNS]
        width, header_line = len(names), first[0]
    rows: list[CsvRow] = []
    for line, cells, problem in records:
        if line <= header_line:
            continue
        if cells is None:
            rows.append(CsvRow(line, [], problem))
            continue
        picked = [cells[i] if 0 <= i < len(cells) else "" for i in order]
        extra = [c for c in cells[width:] if clean_cell(c)]
        if extra:
            rows.append(CsvRow(line, picked, _too_wide(len(cells), width, bool(header_line))))
        elif not is_blank(picked):
            rows.append(CsvRow(line, picked))
    return rows


def _too_wide(found: int, width: int, has_header: bool) -> str:
    expected = (
        f"the header has {width}"
        if has_header
        else f"expected at most {width} (order, carrier, tracking number, sku, quantity)"
    )
    return (
        f"this row has {found} cells but {expected}; is a separator inside a value? "
        "put such values in quotes"
    )
