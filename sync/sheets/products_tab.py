"""The sheet's Products tab: the Products table as staff edit it, read each cycle.

The tab is read with the Orders and Tracking tabs (one batched read). When its rows
changed since the last import (a digest of every input cell), every row is checked
again (providers, templates, the providers' catalogs: outside any transaction) and
the tab's rows replace the sheet's rows in the table in one transaction; the result
column gets `ok` or `error: <reason>` beside each row. Rows are never moved or
deleted; a row's error routes its SKU by the config's rules until it is fixed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from podops.db import Database
from podops.errors import DomainRefusal
from podops.ports.sheet import CellBlock
from podops.products.imports import ProductChecks, check_rows, load_state, save_state
from podops.products.rows import COLUMNS, clean, is_blank, result_text
from podops.products.stored import replace_rows
from podops.sheet.plan import check_header
from podops.sheet.rows import PRODUCTS, PRODUCTS_HEADERS, products_tab

STATE_KEY = "sheet:products"
SOURCE = "sheet"
RESULT_COLUMN = len(PRODUCTS_HEADERS)


@dataclass(slots=True)
class ProductsTabImport:
    blocks: list[CellBlock] = field(default_factory=list)
    rows: int = 0
    errors: int = 0
    read_again: bool = False
    problem: str = ""


class ProductsTab:
    """Imports the Products tab when it changed; restores cleared result cells."""

    def __init__(
        self,
        db: Database,
        checks: Callable[[], ProductChecks],
        on_replaced: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.checks = checks
        self.on_replaced = on_replaced

    def cycle(self, values: list[list[str]]) -> ProductsTabImport:
        report = ProductsTabImport()
        header = values[0] if values else []
        try:
            if check_header(header, products_tab(), PRODUCTS_HEADERS):
                report.blocks.append(CellBlock(PRODUCTS, 1, 1, [list(PRODUCTS_HEADERS)]))
        except DomainRefusal as exc:
            report.problem = f"Products tab not read (the table keeps its rows): {exc.message}"
            return report
        rows = [(n, cells) for n, cells in enumerate(values[1:], start=2) if not is_blank(cells)]
        digest = _digest(rows)
        with self.db.reading() as session:
            state = load_state(session, STATE_KEY)
        shown = {n: _shown(cells) for n, cells in enumerate(values[1:], start=2)}
        known: dict[str, str] = state.get("results", {})
        if state.get("digest") == digest:
            results = {int(n): text for n, text in known.items()}
        else:
            judged = check_rows(rows, self.checks())
            results = {row.row: result_text(row) for row in judged}
            results.update({int(n): "" for n in known if int(n) not in results})
            with self.db.unit_of_work() as session:
                replace_rows(session, SOURCE, judged)
                saved = {str(n): text for n, text in results.items() if text}
                save_state(session, STATE_KEY, {"digest": digest, "results": saved})
            if self.on_replaced is not None:
                self.on_replaced()
            report.read_again = True
        report.rows = sum(1 for text in results.values() if text)
        report.errors = sum(1 for text in results.values() if text.startswith("error:"))
        changed = {n: text for n, text in results.items() if shown.get(n, "") != text}
        report.blocks.extend(_result_blocks(changed))
        return report


def _digest(rows: list[tuple[int, list[str]]]) -> str:
    text = "\x1e".join(f"{n}\x1f" + "\x1f".join(_inputs(cells)) for n, cells in rows)
    return hashlib.sha1(text.encode()).hexdigest()[:20]


def _inputs(cells: list[str]) -> list[str]:
    found = [clean(c) for c in cells[: len(COLUMNS)]]
    return found + [""] * (len(COLUMNS) - len(found))


def _shown(cells: list[str]) -> str:
    return cells[RESULT_COLUMN - 1].strip() if len(cells) >= RESULT_COLUMN else ""


def _result_blocks(results: dict[int, str]) -> list[CellBlock]:
    """Results of consecutive rows go out as one column block."""
    blocks: list[CellBlock] = []
    for row in sorted(results):
        last = blocks[-1] if blocks else None
        if last is not None and last.row + len(last.values) == row:
            last.values.append([results[row]])
        else:
            blocks.append(CellBlock(PRODUCTS, row, RESULT_COLUMN, [[results[row]]]))
    return blocks
