"""Diffing the Orders tab: what people changed, and the fewest cells to write.

Pure: the inputs are the rows the database says, the snapshot last written
(kept in SyncState) and what one batched read of the sheet returned (the key
column and the editable columns). Rows are found by their hidden key, so
people may sort and filter the tab freely; a person's row is never removed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from podops.errors import DomainRefusal
from podops.ports.sheet import Cell, CellBlock, TabSpec
from podops.sheet_rows import ARCHIVE, ORDERS, TAIL_START, archive_row, cell_text


class LayoutChanged(DomainRefusal):
    """People renamed or moved header cells; writing by position would scramble rows."""


@dataclass(slots=True)
class OrdersSnapshot:
    """The Orders tab as last written: headers, rows by key, messages, archive size."""

    headers: list[str] = field(default_factory=list)
    rows: dict[str, list[Cell]] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)
    archive_rows: int = 0

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OrdersSnapshot:
        return cls(
            list(data.get("headers", [])),
            dict(data.get("rows", {})),
            dict(data.get("messages", {})),
            int(data.get("archive_rows", 0)),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "headers": self.headers,
            "rows": self.rows,
            "messages": self.messages,
            "archive_rows": self.archive_rows,
        }


@dataclass(slots=True)
class SheetView:
    """The Orders tab as read: where each key sits and its editable cells."""

    header: list[str] = field(default_factory=list)
    rows_by_key: dict[str, int] = field(default_factory=dict)
    duplicates: dict[int, int] = field(default_factory=dict)
    tail: dict[int, list[str]] = field(default_factory=dict)
    last_row: int = 1
    holes: list[int] = field(default_factory=list)


def read_view(header: list[str], keys: list[list[str]], tail: list[list[str]]) -> SheetView:
    """Build the view from the header row, key column (from row 2) and tail block."""
    view = SheetView(header=list(header))
    height = max(len(keys), len(tail))
    for offset in range(height):
        row = offset + 2
        key = keys[offset][0].strip() if offset < len(keys) and keys[offset] else ""
        cells = tail[offset] if offset < len(tail) else []
        if key:
            if key in view.rows_by_key:
                view.duplicates[row] = view.rows_by_key[key]
            else:
                view.rows_by_key[key] = row
            view.tail[row] = list(cells)
        elif any(c.strip() for c in cells):
            view.tail[row] = list(cells)
        else:
            view.holes.append(row)
            continue
        view.last_row = row
    view.holes = [row for row in view.holes if row < view.last_row]
    return view


@dataclass(frozen=True, slots=True)
class StaffEdit:
    key: str
    row: int
    header: str
    old: str
    new: str


def detect_edits(
    view: SheetView, snapshot: OrdersSnapshot, editable: Sequence[str]
) -> list[StaffEdit]:
    """Editable cells whose text differs from what the mirror last wrote there."""
    if not snapshot.headers:
        return []
    tail_headers = snapshot.headers[TAIL_START:]
    edits: list[StaffEdit] = []
    for key, row in view.rows_by_key.items():
        before = snapshot.rows.get(key)
        if before is None:
            continue
        seen = view.tail.get(row, [])
        for index, header in enumerate(tail_headers):
            if header not in editable:
                continue
            now = seen[index] if index < len(seen) else ""
            old = cell_text(before[TAIL_START + index]) if TAIL_START + index < len(before) else ""
            if now != old:
                edits.append(StaffEdit(key, row, header, old, now))
    return edits


def check_header(read: Sequence[str], tab: TabSpec, previous: Sequence[str]) -> bool:
    """True when the header row must be (re)written; raise if people changed it."""
    for index, expected in enumerate(tab.headers):
        found = read[index].strip() if index < len(read) else ""
        old = previous[index] if index < len(previous) else ""
        if found and found != expected and found != old:
            raise LayoutChanged(
                f"the {tab.title} tab has {found!r} where {expected!r} belongs (column "
                f"{index + 1}); put the header back, or delete the tab to have it rebuilt"
            )
    return [c.strip() for c in read] != list(tab.headers)


@dataclass(slots=True)
class OrdersPlan:
    blocks: list[CellBlock]
    snapshot: OrdersSnapshot
    added: int = 0
    updated: int = 0
    archived: int = 0
    rows_needed: int = 1
    archive_rows_needed: int = 1


def plan_orders(
    tab: TabSpec,
    rows: dict[str, list[Cell]],
    view: SheetView,
    snapshot: OrdersSnapshot,
    *,
    messages: dict[str, str],
    archived_at: str,
    archive_first: Sequence[list[Cell]] = (),
) -> OrdersPlan:
    """The cells to write so the tab shows `rows`, and the snapshot after writing.

    `archive_first` are Archive rows of lines never shown (the first mirror of an
    existing database); they go to the Archive tab ahead of lines leaving Orders."""
    width = len(tab.headers)
    same_layout = snapshot.headers == list(tab.headers)
    plan = OrdersPlan([], OrdersSnapshot(list(tab.headers), rows, messages, snapshot.archive_rows))
    if check_header(view.header, tab, snapshot.headers):
        plan.blocks.append(CellBlock(ORDERS, 1, 1, [list(tab.headers)]))
    fresh: list[list[Cell]] = []
    runs: dict[int, CellBlock] = {}
    for key, row in rows.items():
        at = view.rows_by_key.get(key)
        if at is None:
            fresh.append(row)
            continue
        old = snapshot.rows.get(key) if same_layout else None
        changed = False
        if old is None or old[:TAIL_START] != row[:TAIL_START]:
            _add_row(plan.blocks, runs, at, 1, row[:TAIL_START])
            changed = True
        tail = row[TAIL_START:]
        if not same_layout or _tail_differs(tail, view.tail.get(at, ())):
            _add_row(plan.blocks, runs, at, TAIL_START + 1, tail)
            changed = True
        plan.updated += changed
    holes = list(view.holes)
    _archive(plan, snapshot, rows, view, holes, archived_at, list(archive_first))
    _note_duplicates(plan, view)
    _place_new_rows(plan, fresh, holes, view.last_row, width)
    return plan


def _tail_differs(tail: Sequence[Cell], seen: Sequence[str]) -> bool:
    """True when the editable part shown differs from what the database holds."""
    for index, value in enumerate(tail):
        shown = seen[index] if index < len(seen) else ""
        if value != shown and cell_text(value) != shown:
            return True
    return False


def _add_row(
    blocks: list[CellBlock], runs: dict[int, CellBlock], row: int, col: int, values: list[Cell]
) -> None:
    """Write one row's cells; rows that follow each other go out as one taller block."""
    run = runs.get(col)
    if run is not None and run.row + len(run.values) == row and len(run.values[0]) == len(values):
        run.values.append(values)
        return
    runs[col] = CellBlock(ORDERS, row, col, [values])
    blocks.append(runs[col])


def _archive(
    plan: OrdersPlan,
    snapshot: OrdersSnapshot,
    rows: dict[str, list[Cell]],
    view: SheetView,
    holes: list[int],
    archived_at: str,
    archive: list[list[Cell]],
) -> None:
    """Lines on the sheet that are no longer current move to the Archive tab."""
    gone = [key for key in snapshot.rows if key not in rows]
    for key in gone:
        archive.append(archive_row(snapshot.headers, snapshot.rows[key], archived_at))
        at = view.rows_by_key.get(key)
        if at is not None:
            holes.append(at)
        plan.snapshot.messages.pop(key, None)
    if archive:
        start = snapshot.archive_rows + 2
        plan.blocks.append(CellBlock(ARCHIVE, start, 1, archive))
        plan.snapshot.archive_rows = snapshot.archive_rows + len(archive)
    plan.archived = len(archive)
    plan.archive_rows_needed = plan.snapshot.archive_rows + 1
    holes.sort()


def _note_duplicates(plan: OrdersPlan, view: SheetView) -> None:
    for row, first in view.duplicates.items():
        text = f"copy of row {first}: this row is not read; delete it"
        seen = view.tail.get(row, [])
        if (seen[0] if seen else "") != text:
            plan.blocks.append(CellBlock(ORDERS, row, TAIL_START + 1, [[text]]))


def _place_new_rows(
    plan: OrdersPlan, fresh: list[list[Cell]], holes: list[int], last_row: int, width: int
) -> None:
    """New rows fill the gaps archived rows left, then go below the last row."""
    filled = min(len(holes), len(fresh))
    for row, values in zip(holes[:filled], fresh[:filled], strict=True):
        plan.blocks.append(CellBlock(ORDERS, row, 1, [values]))
    for row in holes[filled:]:
        plan.blocks.append(CellBlock(ORDERS, row, 1, [[""] * width]))
    below = fresh[filled:]
    if below:
        plan.blocks.append(CellBlock(ORDERS, last_row + 1, 1, below))
    plan.added = len(fresh)
    plan.rows_needed = last_row + len(below)
