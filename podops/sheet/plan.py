"""Diffing the Orders tab: what people changed, and the fewest cells to write.

Pure: the inputs are the rows the database says, the snapshot last written
(kept in SyncState) and what one batched read of the sheet returned (every
column of every row). Rows are found by their hidden key, so people may sort
and filter the tab freely; a person's row is never removed. Cells podops fills
in are compared with what the sheet shows, so a hand edit of a read-only cell
(Google's protection only warns) is put back in the same write.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from podops.errors import DomainRefusal
from podops.ports.sheet import Cell, CellBlock, TabSpec
from podops.sheet.rows import (
    ARCHIVE,
    ARCHIVE_HEADERS,
    FIXED_HEADERS,
    ORDERS,
    TAIL_START,
    archive_row,
    cell_text,
)

ARCHIVE_MAX_ROWS = 100_000
"""The Archive tab's rows at most (`sheet.archive_max_rows`): 1.6 million cells, a sixth
of a Google spreadsheet's 10 million, however many years the shop runs."""
LINE_COL = FIXED_HEADERS.index("line")
STORE_COL = FIXED_HEADERS.index("store")
NO_KEY = "no key:"
"""Start of the message beside a row whose hidden key was cleared and cannot be told."""


class LayoutChanged(DomainRefusal):
    """People renamed or moved header cells; writing by position would scramble rows."""


@dataclass(slots=True)
class OrdersSnapshot:
    """The Orders tab as last written: headers, rows by key, messages, archive size."""

    headers: list[str] = field(default_factory=list)
    rows: dict[str, list[Cell]] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)
    archive_rows: int = 0
    """Archive rows filled (below the header); at most the cap once it is reached."""
    archive_next: int | None = None
    """Where the next archived row goes (0 = row 2); None: below the last one (a
    snapshot from before the cap)."""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OrdersSnapshot:
        following = data.get("archive_next")
        return cls(
            list(data.get("headers", [])),
            dict(data.get("rows", {})),
            dict(data.get("messages", {})),
            int(data.get("archive_rows", 0)),
            None if following is None else int(following),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "headers": self.headers,
            "rows": self.rows,
            "messages": self.messages,
            "archive_rows": self.archive_rows,
            "archive_next": self.archive_next,
        }


@dataclass(slots=True)
class SheetView:
    """The Orders tab as read: where each key sits, its read-only and editable cells."""

    header: list[str] = field(default_factory=list)
    rows_by_key: dict[str, int] = field(default_factory=dict)
    duplicates: dict[int, int] = field(default_factory=dict)
    front: dict[int, list[str]] = field(default_factory=dict)
    """Row -> the cells podops fills in (key to problems), as shown."""
    tail: dict[int, list[str]] = field(default_factory=dict)
    last_row: int = 1
    holes: list[int] = field(default_factory=list)
    keyless: list[int] = field(default_factory=list)
    """Rows with content but no key that could not be matched to a line."""
    stale: list[int] = field(default_factory=list)
    """Rows showing only an old "no key" message: cleared when not reused."""


def read_view(
    header: list[str], body: list[list[str]], known: Mapping[tuple[str, str], str] | None = None
) -> SheetView:
    """Build the view from the header row and every row from row 2 (column A on).

    A row whose hidden key was cleared is matched back to its line by the store and
    line reference it shows (`known`: (store, line) -> key); the key is then written
    back and what was typed in the row is read as usual. A row that cannot be matched
    keeps what was typed and gets a message; it is never overwritten."""
    view = SheetView(header=list(header))
    loose: list[int] = []
    for offset, cells in enumerate(body):
        row = offset + 2
        key = cells[0].strip() if cells else ""
        if key:
            if key in view.rows_by_key:
                view.duplicates[row] = view.rows_by_key[key]
            else:
                view.rows_by_key[key] = row
        elif not any(c.strip() for c in cells):
            view.holes.append(row)
            continue
        elif _only_no_key_message(cells):
            view.stale.append(row)
            view.holes.append(row)
            continue
        else:
            loose.append(row)
        view.front[row] = list(cells[:TAIL_START])
        view.tail[row] = list(cells[TAIL_START:])
        view.last_row = row
    for row in loose:
        front = view.front[row] + [""] * TAIL_START
        found = (known or {}).get((front[STORE_COL].strip(), front[LINE_COL].strip()))
        if found is None:
            view.keyless.append(row)
        elif found in view.rows_by_key:
            view.duplicates[row] = view.rows_by_key[found]
        else:
            view.rows_by_key[found] = row
    view.holes = [row for row in view.holes if row < view.last_row]
    return view


def _only_no_key_message(cells: Sequence[str]) -> bool:
    filled = [i for i, c in enumerate(cells) if c.strip()]
    return filled == [TAIL_START] and cells[TAIL_START].startswith(NO_KEY)


def known_lines(snapshot: OrdersSnapshot) -> dict[tuple[str, str], str]:
    """(store, line reference) -> key of every row last written."""
    return {
        (cell_text(row[STORE_COL]), cell_text(row[LINE_COL])): key
        for key, row in snapshot.rows.items()
        if len(row) > STORE_COL
    }


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
            old = before[TAIL_START + index] if TAIL_START + index < len(before) else ""
            if now != old and now != cell_text(old):  # text compared first: no call
                edits.append(StaffEdit(key, row, header, cell_text(old), now))
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
    restored: int = 0
    """Rows whose read-only cells someone changed by hand, put back."""
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
    texts: Mapping[str, list[str]] | None = None,
    archive_cap: int = ARCHIVE_MAX_ROWS,
) -> OrdersPlan:
    """The cells to write so the tab shows `rows`, and the snapshot after writing.

    `archive_first` are Archive rows of lines never shown (the first mirror of an
    existing database); they go to the Archive tab ahead of lines leaving Orders.
    `texts` (key -> the row as shown) lets unchanged rows be compared as whole lists."""
    width = len(tab.headers)
    same_layout = snapshot.headers == list(tab.headers)
    # A column removed (a retired field column): the columns after it move left and the
    # last one shown so far is blanked, header and rows, in the same write.
    pad: list[Cell] = [""] * max(0, len(view.header) - width)
    plan = OrdersPlan(
        [],
        OrdersSnapshot(
            list(tab.headers), rows, messages, snapshot.archive_rows, snapshot.archive_next
        ),
    )
    if check_header(view.header, tab, snapshot.headers):
        plan.blocks.append(CellBlock(ORDERS, 1, 1, [[*tab.headers, *pad]]))
    fresh: list[list[Cell]] = []
    runs: dict[int, CellBlock] = {}
    for key, row in rows.items():
        at = view.rows_by_key.get(key)
        if at is None:
            fresh.append(row)
            continue
        old = snapshot.rows.get(key) if same_layout else None
        changed = False
        front, tail = row[:TAIL_START], row[TAIL_START:]
        text = texts.get(key) if texts is not None else None
        seen_front, seen_tail = view.front.get(at, []), view.tail.get(at, [])
        if old is None or old[:TAIL_START] != front:
            _add_row(plan.blocks, runs, at, 1, front)
            changed = True
        elif (text is None or text[:TAIL_START] != seen_front) and _tail_differs(front, seen_front):
            _add_row(plan.blocks, runs, at, 1, front)
            changed = True
            plan.restored += 1
        if not same_layout or (
            (text is None or text[TAIL_START:] != seen_tail) and _tail_differs(tail, seen_tail)
        ):
            _add_row(plan.blocks, runs, at, TAIL_START + 1, tail + pad)
            changed = True
        plan.updated += changed
    holes = list(view.holes)
    _archive(plan, snapshot, rows, view, holes, archived_at, list(archive_first), archive_cap)
    _note_duplicates(plan, view)
    _note_keyless(plan, view)
    blank = {*view.stale, *(h for h in holes if h not in view.holes)}
    padded = [row + pad for row in fresh] if pad else fresh
    _place_new_rows(plan, padded, holes, blank, view.last_row, width + len(pad))
    return plan


def _tail_differs(tail: Sequence[Cell], seen: Sequence[str]) -> bool:
    """True when the cells shown differ from what the database holds."""
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
    cap: int,
) -> None:
    """Lines on the sheet that are no longer current move to the Archive tab."""
    gone = [key for key in snapshot.rows if key not in rows]
    for key in gone:
        archive.append(archive_row(snapshot.headers, snapshot.rows[key], archived_at))
        at = view.rows_by_key.get(key)
        if at is not None:
            holes.append(at)
        plan.snapshot.messages.pop(key, None)
    plan.archived = len(archive)
    _write_archive(plan, snapshot, archive, cap)
    holes.sort()


def archive_blocks(
    filled: int, following: int | None, count: int, cap: int
) -> list[tuple[int, int]]:
    """Where `count` new Archive rows go in a tab capped at `cap` rows: (first row, how
    many) runs. Below the last row until the cap, then over the oldest rows, from row 2
    on, round and round: the tab never grows past the cap, whatever the years bring."""
    count = min(count, cap)
    at = (filled if following is None else following) % cap
    runs = []
    while count:
        run = min(count, cap - at)
        runs.append((at + 2, run))
        count -= run
        at = (at + run) % cap
    return runs


def _write_archive(
    plan: OrdersPlan, snapshot: OrdersSnapshot, archive: list[list[Cell]], cap: int
) -> None:
    """The newest `cap` rows of `archive`, written where `archive_blocks` says."""
    kept = archive[-cap:]
    if kept:  # the header too: nothing else writes it (16 cells in the same request)
        plan.blocks.append(CellBlock(ARCHIVE, 1, 1, [list(ARCHIVE_HEADERS)]))
    taken = 0
    for row, count in archive_blocks(snapshot.archive_rows, snapshot.archive_next, len(kept), cap):
        plan.blocks.append(CellBlock(ARCHIVE, row, 1, kept[taken : taken + count]))
        taken += count
        plan.snapshot.archive_next = (row - 2 + count) % cap
        plan.snapshot.archive_rows = max(plan.snapshot.archive_rows, row - 2 + count)
    plan.archive_rows_needed = min(plan.snapshot.archive_rows, cap) + 1


def _note_duplicates(plan: OrdersPlan, view: SheetView) -> None:
    for row, first in view.duplicates.items():
        text = f"copy of row {first}: this row is not read; delete it"
        seen = view.tail.get(row, [])
        if (seen[0] if seen else "") != text:
            plan.blocks.append(CellBlock(ORDERS, row, TAIL_START + 1, [[text]]))


def _note_keyless(plan: OrdersPlan, view: SheetView) -> None:
    """Rows with content but no key: say so beside them; what was typed stays."""
    text = (
        f"{NO_KEY} this row's hidden key (column A) was cleared and its store and line do "
        "not match an order, so it is not read; copy what you typed to the order's row"
    )
    for row in view.keyless:
        seen = view.tail.get(row, [])
        if (seen[0] if seen else "") != text:
            plan.blocks.append(CellBlock(ORDERS, row, TAIL_START + 1, [[text]]))


def _place_new_rows(
    plan: OrdersPlan,
    fresh: list[list[Cell]],
    holes: list[int],
    blank: set[int],
    last_row: int,
    width: int,
) -> None:
    """New rows fill the gaps archived rows left, then go below the last row.

    Gaps left unfilled are cleared only when something is shown there (`blank`),
    so a quiet cycle writes nothing."""
    filled = min(len(holes), len(fresh))
    for row, values in zip(holes[:filled], fresh[:filled], strict=True):
        plan.blocks.append(CellBlock(ORDERS, row, 1, [values]))
    for row in holes[filled:]:
        if row in blank:
            plan.blocks.append(CellBlock(ORDERS, row, 1, [[""] * width]))
    below = fresh[filled:]
    if below:
        plan.blocks.append(CellBlock(ORDERS, last_row + 1, 1, below))
    plan.added = len(fresh)
    plan.rows_needed = last_row + len(below)
