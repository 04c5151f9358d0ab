"""Importing pasted tracking rows: the Tracking tab each cycle, and CSV files.

Both paths validate the same way (`podops.tracking.rows`), record parcels in
bulk through `podops.tracking.bulk` and report a result per row. In the tab a
result goes beside every row (`imported ...` or `error: ...`); rows are never
deleted or reordered. A row whose inputs were imported before is skipped
(its result is restored if someone cleared it); a row with an error is tried
again when its inputs or its result cell change. A row naming a parcel already
recorded with the same values (a file imported twice, a row pasted again) is
`already recorded`, not an error; one that contradicts it is. A number other
orders already have is recorded with a warning (one parcel for several orders
is legitimate; the same number typed on two orders is usually a mistake).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from podops.db import Database
from podops.errors import DomainRefusal, InvalidInput
from podops.events import Actor
from podops.models import SyncState
from podops.ports.sheet import Cell, CellBlock
from podops.sheet.plan import check_header
from podops.sheet.rows import TRACKING, TRACKING_HEADERS, tracking_tab
from podops.tracking.bulk import record_trackings
from podops.tracking.rows import (
    COLUMNS,
    TrackingInput,
    clean_cell,
    is_blank,
    parse_tracking_row,
    row_digest,
)
from sync.tracking_csv import read_csv_rows

STATE_KEY = "sheet:tracking"
MAX_REMEMBERED = 50_000
RESULT_COLUMN = len(TRACKING_HEADERS)


@dataclass(frozen=True, slots=True)
class RowResult:
    """A row's result: recorded (`message` may warn), `already` recorded, or refused."""

    row: int
    ok: bool
    message: str
    order: str = ""
    cells: tuple[str, ...] = ()
    already: bool = False


def import_rows(
    session: Session, rows: Sequence[tuple[int, Sequence[object]]], actor: Actor, now: datetime
) -> list[RowResult]:
    """Validate and record each (row number, cells); one result per row, in order."""
    results: dict[int, RowResult] = {}
    inputs: list[TrackingInput] = []
    first_seen: dict[tuple[str, str], int] = {}
    cells_of = {row: tuple(clean_cell(c) for c in cells[: len(COLUMNS)]) for row, cells in rows}
    for row, cells in rows:
        try:
            parsed = parse_tracking_row(row, cells)
        except InvalidInput as exc:
            results[row] = RowResult(row, False, exc.message, cells=cells_of[row])
            continue
        key = (parsed.reference, parsed.number)
        if key in first_seen:
            message = f"same tracking number as row {first_seen[key]}; not recorded twice"
            results[row] = RowResult(row, False, message, cells=cells_of[row])
            continue
        first_seen[key] = row
        inputs.append(parsed)
    for outcome in record_trackings(session, inputs, actor, now):
        results[outcome.row] = RowResult(
            outcome.row,
            outcome.ok,
            outcome.message,
            outcome.order,
            cells_of[outcome.row],
            outcome.already,
        )
    return [results[row] for row, _ in rows]


def result_text(result: RowResult, now: datetime) -> str:
    """The result cell: `imported ...` (with a warning), `already recorded ...`, `error: ...`."""
    if not result.ok:
        return f"error: {result.message}"
    if result.already:
        return result.message
    imported = f"imported {now:%Y-%m-%d %H:%M} UTC"
    return f"{imported}; warning: {result.message}" if result.message else imported


@dataclass(slots=True)
class TabImport:
    blocks: list[CellBlock] = field(default_factory=list)
    imported: int = 0
    errors: int = 0
    already: int = 0
    skipped: int = 0
    rows_needed: int = 1
    problem: str = ""


def import_tab(db: Database, values: list[list[str]], actor: Actor, now: datetime) -> TabImport:
    """Import the Tracking tab's new or edited rows; the result cells to write back."""
    report = TabImport(rows_needed=max(len(values), 1))
    header = values[0] if values else []
    try:
        if check_header(header, tracking_tab(), TRACKING_HEADERS):
            report.blocks.append(CellBlock(TRACKING, 1, 1, [list(TRACKING_HEADERS)]))
    except DomainRefusal as exc:
        report.problem = exc.message
        return report
    results: dict[int, str] = {}
    with db.unit_of_work() as session:
        state = _load_state(session)
        done: dict[str, str] = state.setdefault("done", {})
        failed: dict[str, str] = state.setdefault("failed", {})
        todo: list[tuple[int, list[str]]] = []
        restored: set[str] = set()
        for row, cells in enumerate(values[1:], start=2):
            if is_blank(cells):
                continue
            digest = row_digest(cells)
            shown = cells[RESULT_COLUMN - 1].strip() if len(cells) >= RESULT_COLUMN else ""
            if shown and (digest in done or failed.get(digest) == shown):
                report.skipped += 1
            elif not shown and digest in done and digest not in restored:
                restored.add(digest)
                results[row] = done[digest]
            else:
                todo.append((row, cells))
        for result in import_rows(session, todo, actor, now) if todo else []:
            digest = row_digest(result.cells)
            text = result_text(result, now)
            results[result.row] = text
            if result.ok:
                done[digest] = text
                report.already += result.already
                report.imported += not result.already
            else:
                failed[digest] = text
                report.errors += 1
        _save_state(session, state)
    report.blocks.extend(_result_blocks(results))
    return report


def _result_blocks(results: dict[int, str]) -> list[CellBlock]:
    """Results of consecutive rows go out as one column block."""
    blocks: list[CellBlock] = []
    for row in sorted(results):
        last = blocks[-1] if blocks else None
        if last is not None and last.row + len(last.values) == row:
            last.values.append([results[row]])
        else:
            blocks.append(CellBlock(TRACKING, row, RESULT_COLUMN, [[results[row]]]))
    return blocks


def _load_state(session: Session) -> dict[str, Any]:
    found = session.get(SyncState, STATE_KEY)
    return {key: dict(value) for key, value in (found.value if found else {}).items()}


def _save_state(session: Session, state: dict[str, Any]) -> None:
    for name in ("done", "failed"):
        entries: dict[str, str] = state.get(name, {})
        if len(entries) > MAX_REMEMBERED:
            state[name] = dict(list(entries.items())[-MAX_REMEMBERED:])
    found = session.get(SyncState, STATE_KEY)
    if found is None:
        session.add(SyncState(key=STATE_KEY, value=state))
    else:
        found.value = state


def import_csv(db: Database, path: Path, actor: Actor, now: datetime) -> list[RowResult]:
    """One result per data row of the file, in file order (unreadable rows included)."""
    rows = read_csv_rows(path)
    if not rows:
        raise InvalidInput(f"{path.name} has no tracking rows")
    readable: list[tuple[int, Sequence[Cell]]] = [
        (row.line, row.cells) for row in rows if not row.problem
    ]
    with db.unit_of_work() as session:
        done = {r.row: r for r in import_rows(session, readable, actor, now)} if readable else {}
    return [
        RowResult(row.line, False, row.problem, cells=tuple(row.cells))
        if row.problem
        else done[row.line]
        for row in rows
    ]
