"""The Products CSV file (`[products] csv`): read whenever it changes, no restart.

The worker's job `products.csv` looks at the file's size and modification time every
`check_seconds`; a change re-reads every row, checks it (providers, templates, the
providers' catalogs) and replaces the file's rows in the table in one transaction.
Bad rows are kept with their reason (`podops products list`), logged, and printed by
`podops products import`; they route nothing, so their SKUs go by the routing rules.
A file that disappears leaves the rows it gave in place (said once in the log).
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from podops.errors import InvalidInput
from podops.products.imports import import_rows, load_state
from podops.products.rows import COLUMNS, VariantRow, clean

if TYPE_CHECKING:
    from podops.jobs import JobSpec
    from podops.ports.context import Products

log = logging.getLogger(__name__)

STATE_KEY = "products:csv"
SOURCE = "csv"
HEADER_ALIASES: dict[str, str] = {
    **{name: name for name in COLUMNS},
    "variant_id": "provider_sku",
    "product_code": "provider_sku",
    "template": "product_key",
    "country": "countries",
}
"""Header names (lower case, spaces and `-` read as `_`) -> column."""


@dataclass(frozen=True, slots=True)
class CsvImport:
    path: Path
    rows: list[VariantRow]

    @property
    def errors(self) -> list[VariantRow]:
        return [row for row in self.rows if not row.ok]


def read_file_rows(path: Path) -> list[tuple[int, list[str]]]:
    """(line, cells in COLUMNS order) for each row after the header."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    records = list(csv.reader(io.StringIO(text, newline="")))
    if not records:
        return []
    order = _columns(records[0], path)
    rows: list[tuple[int, list[str]]] = []
    for line, record in enumerate(records[1:], start=2):
        cells = [""] * len(COLUMNS)
        for index, column in order.items():
            if index < len(record):
                cells[COLUMNS.index(column)] = record[index]
        rows.append((line, cells))
    return rows


def _columns(header: Sequence[str], path: Path) -> dict[int, str]:
    """Which cell holds which column, by the header's names."""
    found: dict[int, str] = {}
    for index, cell in enumerate(header):
        name = clean(cell).lower().replace(" ", "_").replace("-", "_")
        if name in HEADER_ALIASES:
            found[index] = HEADER_ALIASES[name]
    missing = [c for c in COLUMNS[:4] if c not in found.values()]
    if missing:
        raise InvalidInput(
            f"{path.name}: the first row must name the columns "
            f"{', '.join(COLUMNS)} (countries optional); missing: {', '.join(missing)}"
        )
    return found


def stamp(path: Path) -> dict[str, Any]:
    """What tells a changed file: its path, size and modification time."""
    try:
        found = path.stat()
    except OSError:
        return {"path": str(path), "missing": True}
    return {"path": str(path), "size": found.st_size, "mtime_ns": found.st_mtime_ns}


def import_file(runtime: Products, path: Path, *, remember: bool = True) -> CsvImport:
    """Check every row of the file and replace the CSV's rows in the table."""
    current = stamp(path)
    rows = read_file_rows(path)
    judged = import_rows(
        runtime.db,
        SOURCE,
        rows,
        runtime.product_checks,
        on_replaced=runtime.product_table.invalidate,
        remember=(STATE_KEY, current) if remember else None,
    )
    return CsvImport(path, judged)


def check_file(runtime: Products, path: Path) -> CsvImport:
    """The file's rows judged, nothing stored."""
    from podops.products.imports import check_rows

    return CsvImport(path, check_rows(read_file_rows(path), runtime.product_checks))


def configured_file(runtime: Products) -> Path | None:
    name = runtime.settings.products.csv
    return runtime.settings.resolve(name) if name else None


def import_if_changed(runtime: Products) -> CsvImport | None:
    """Re-read the configured file when its stamp differs from the one imported."""
    path = configured_file(runtime)
    if path is None:
        return None
    current = stamp(path)
    with runtime.db.reading() as session:
        known = load_state(session, STATE_KEY)
    if known == current:
        return None
    if current.get("missing"):
        log.warning("products: %s is missing; the rows it gave stay in the table", path)
        with runtime.db.unit_of_work() as session:
            from podops.products.imports import save_state

            save_state(session, STATE_KEY, current)
        return None
    try:
        done = import_file(runtime, path)
    except InvalidInput as exc:
        log.warning("products: %s", exc.message)
        return None
    for row in done.errors:
        log.warning("products: %s row %d (%s): %s", path.name, row.row, row.sku, row.problem)
    log.info("products: %s read, %d row(s), %d with errors", path, len(done.rows), len(done.errors))
    return done


def jobs(runtime: Products) -> list[JobSpec]:
    """`products.csv`: re-read the Products CSV file when it changed."""
    from podops.jobs import JobSpec

    if not runtime.settings.products.csv:
        return []
    seconds = runtime.settings.products.check_seconds
    return [
        JobSpec(
            "products.csv",
            lambda: import_if_changed(runtime),
            trigger_args={"seconds": seconds},
            singleton=True,
        )
    ]
