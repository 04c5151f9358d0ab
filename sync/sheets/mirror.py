"""The sheet cycle: read what people typed, apply it, then mirror the database.

One cycle = at most one batched read and one batched write in steady state:
read the Orders tab (every column, so hand edits of read-only cells are seen)
and the Tracking tab in one request; apply staff edits and pasted tracking rows
through the services (Actor channel SHEET); then write only the cells that
differ from the database in one RAW `values:batchUpdate`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from podops.db import Database
from podops.errors import DomainRefusal
from podops.events import Actor, Channel
from podops.models import SyncState, utcnow
from podops.ports.sheet import ReadRange, SheetStats, Spreadsheet, TabMissing, TabSpec
from podops.routing import ShopPolicy
from podops.settings import PersonalizationMapping, Settings
from podops.shared_limits import Limits
from podops.sheet.data import load_sheet_lines
from podops.sheet.edits import EditResults, apply_edits
from podops.sheet.plan import (
    OrdersPlan,
    OrdersSnapshot,
    SheetView,
    check_header,
    detect_edits,
    known_lines,
    plan_orders,
    read_view,
)
from podops.sheet.rows import (
    ARCHIVE,
    FIXED_HEADERS,
    ORDERS,
    PRODUCTS,
    PRODUCTS_HEADERS,
    TRACKING,
    TRACKING_HEADERS,
    RowCache,
    SheetLine,
    archive_tab,
    archived_line_row,
    field_headers,
    orders_tab,
    products_tab,
    tracking_tab,
)
from podops.sheet.stats import refresh_stats
from sync.sheets.links import PresignedLinks, PreviewLinks, preview_links
from sync.sheets.products_tab import ProductsTab, ProductsTabImport
from sync.tracking_import import TabImport, import_tab

if TYPE_CHECKING:
    from podops.fulfillment.address_change import AddressDesk
    from podops.fulfillment.field_checks import FieldChecks
    from podops.jobs import JobSpec
    from podops.ports.context import Sheets

log = logging.getLogger(__name__)

STATE_KEY = "sheet:orders"
SHEET_ACTOR = Actor("sheet", Channel.SHEET)


@dataclass(slots=True)
class CycleReport:
    requests: SheetStats = field(default_factory=SheetStats)
    added: int = 0
    updated: int = 0
    archived: int = 0
    restored: int = 0
    edits_applied: int = 0
    edits_refused: int = 0
    tracking_imported: int = 0
    tracking_errors: int = 0
    tracking_already: int = 0
    products_rows: int = 0
    products_errors: int = 0
    products_read: bool = False
    repairs: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        r = self.requests
        return [
            f"requests: {r.reads} read(s), {r.writes} write(s), {r.retries} retried; "
            f"{r.bytes_sent:,} bytes sent, {r.bytes_received:,} received",
            f"orders tab: {self.added} row(s) added, {self.updated} updated, "
            f"{self.archived} archived, {self.restored} put back after a hand edit of a "
            "read-only cell",
            f"staff edits: {self.edits_applied} applied, {self.edits_refused} refused "
            "(reason beside the row)",
            f"tracking tab: {self.tracking_imported} imported, {self.tracking_errors} with errors"
            + (f", {self.tracking_already} already recorded" if self.tracking_already else ""),
            *(
                [
                    f"products tab: read again, {self.products_rows} row(s), "
                    f"{self.products_errors} with errors (reason beside the row)"
                ]
                if self.products_read
                else []
            ),
            *(f"repaired: {text}" for text in self.repairs),
            *(f"problem: {text}" for text in self.problems),
        ]


@dataclass(frozen=True, slots=True)
class _Shown:
    """What the tabs will show: current lines, lines to archive unseen, row messages."""

    lines: list[SheetLine]
    archived: list[SheetLine]
    messages: dict[str, str]


def personalization_fields(
    settings: Settings, lines: list[SheetLine], previous: list[str]
) -> list[str]:
    """Field columns: those the config maps to (our field names, never the store's meta
    keys: a column named after a meta key stays empty and its edits print nothing),
    those orders use, and those shown before."""
    names: dict[str, None] = {}
    for mapping in _mappings(settings):
        names.update(dict.fromkeys([*mapping.fields.values(), *mapping.images.values()]))
    meta = MetaKeys(settings)
    for line in lines:
        names.update(dict.fromkeys(n for n in line.personalization if meta.field_for(n) is None))
    # Fields shown before are found by header, not position: a sheet written before a
    # fixed column was added has its first field where that column now goes.
    shown = [
        _field_name(h)
        for h in previous
        if h not in FIXED_HEADERS and meta.field_for(_field_name(h)) is None
    ]
    ordered = [*shown, *sorted(n for n in names if n not in shown)]
    headers = field_headers(ordered)
    return list(headers.values())


class MetaKeys:
    """The stores' meta keys, to tell a column named after one from a field column."""

    def __init__(self, settings: Settings) -> None:
        self._keys: dict[str, str] = {}
        for mapping in _mappings(settings):
            for key, name in {**mapping.fields, **mapping.images}.items():
                self._keys.setdefault(key, name)
        self._ours = set(self._keys.values())

    def field_for(self, name: str) -> str | None:
        """The field the store's meta key `name` fills (exactly as configured); None for
        our own field names and for names that are no meta key."""
        return None if name in self._ours else self._keys.get(name)


def retired_columns(settings: Settings, previous: list[str]) -> dict[str, str]:
    """Field columns an older podops named after a store's meta key ("Name on shirt"
    beside "name"), with why an edit typed there is refused. Such a column was always
    empty and what was typed in it printed nothing; the next cycle removes it (the
    columns after it move left) and refuses what was typed in it, beside the row."""
    meta = MetaKeys(settings)
    retired: dict[str, str] = {}
    for header in previous:
        target = None if header in FIXED_HEADERS else meta.field_for(_field_name(header))
        if target is not None:
            retired[header] = (
                f"{header!r} is the store's name for the field {target!r}, not a field podops "
                f"prints; this column is removed: type it in the {target!r} column"
            )
    return retired


def _mappings(settings: Settings) -> list[PersonalizationMapping]:
    """Every store's meta key tables (the store's own and the per-product ones)."""
    found: list[PersonalizationMapping] = []
    for store in settings.stores.values():
        found.append(store.personalization)
        found.extend(store.product_personalization.values())
    return found


def _field_name(header: str) -> str:
    """The field a header shows (`personalization notes` is the field `notes`)."""
    prefix = "personalization "
    name = header[len(prefix) :] if header.startswith(prefix) else header
    return name if name in FIXED_HEADERS else header


class SheetMirror:
    """Runs cycles against one spreadsheet; keeps no state but caches (layout, rows)."""

    def __init__(
        self,
        db: Database,
        sheet: Spreadsheet,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        links: PreviewLinks | PresignedLinks | None = None,
        field_checks: FieldChecks | None = None,
        addresses: AddressDesk | None = None,
        products: ProductsTab | None = None,
    ) -> None:
        self.db = db
        self.products = products
        """The Products tab's reader (None: no Products tab)."""
        self.sheet = sheet
        self.settings = settings
        self.addresses = addresses
        self.clock = clock
        self.field_checks = field_checks
        """Field edits are checked against the line's template (None: refused)."""
        self.links = links if links is not None else preview_links(settings)
        self._rows = RowCache()
        self.policy = ShopPolicy.from_settings(settings)
        """The stores' shipping tables, for speeds typed in the shipping column."""

    def _snapshot(self) -> OrdersSnapshot:
        with self.db.unit_of_work() as session:
            found = session.get(SyncState, STATE_KEY)
            return OrdersSnapshot.from_json(found.value if found else {})

    def _lines(
        self, now: datetime, keys: set[str] | None = None, *, archived: bool = False
    ) -> list[SheetLine]:
        """The current lines (or those of `keys`); with `archived`, the lines of the
        newest orders finished before the cutoff, as many as the Archive tab holds."""
        config = self.settings.sheet
        cutoff = now - timedelta(days=config.archive_after_days)
        newest = config.archive_max_rows if archived else None
        with self.db.unit_of_work() as session:
            return load_sheet_lines(
                session, cutoff=cutoff, keys=keys, archived=archived, newest=newest
            )

    def run_cycle(self) -> CycleReport:
        report = CycleReport()
        before = self.sheet.stats.copy()
        try:
            self._cycle(report)
        finally:
            report.requests = self.sheet.stats.since(before)
        return report

    def _cycle(self, report: CycleReport) -> None:
        """Read, apply edits and tracking rows, then load the lines once and mirror them."""
        now = self.clock()
        snapshot = self._snapshot()
        # The first mirror needs the lines up front (fields and size of the new tab);
        # later cycles load them once, after edits and tracking rows are applied.
        lines = None if snapshot.rows else self._lines(now)
        backfill = not snapshot.headers and self.settings.sheet.backfills_archive
        archived = self._lines(now, archived=True) if backfill else []
        tabs = self._tabs(personalization_fields(self.settings, lines or [], snapshot.headers))
        rows = len(snapshot.rows) if lines is None else len(lines)
        archive_rows = min(
            snapshot.archive_rows + len(archived), self.settings.sheet.archive_max_rows
        )
        sizes = {ORDERS: rows + 1, ARCHIVE: archive_rows + 1, TRACKING: 1, PRODUCTS: 1}
        prepared = self.sheet.prepare(tabs, sizes)
        report.repairs.extend(prepared.repairs)
        tracking_values: list[list[str]] = []
        product_values: list[list[str]] = []
        if {ORDERS, TRACKING} <= prepared.created:
            view = SheetView()
        else:
            shown = snapshot.headers or list(tabs[0].headers)
            view, tracking_values, product_values, more = self._read(tabs, sizes, shown, snapshot)
            report.repairs.extend(more)
        products = self._products(product_values, report)
        messages: dict[str, str] = {}
        orders_ok = self._orders_layout_ok(view, tabs[0], snapshot, report)
        if orders_ok:
            results = self._apply_edits(tabs[0], view, snapshot, now)
            report.edits_applied, report.edits_refused = results.applied, results.refused
            messages = {k: v for k, v in {**snapshot.messages, **results.messages}.items() if v}
        tracking = import_tab(self.db, tracking_values, SHEET_ACTOR, now)
        report.tracking_imported, report.tracking_errors = tracking.imported, tracking.errors
        report.tracking_already = tracking.already
        if tracking.problem:
            report.problems.append(tracking.problem)
        plan = None
        if orders_ok:
            if lines is None or tracking.imported or report.edits_applied:
                lines = self._lines(now)
            fields = personalization_fields(self.settings, lines, snapshot.headers)
            tabs = self._tabs(fields)  # with any field the orders brought since
            if self._orders_layout_ok(view, tabs[0], snapshot, report):
                showing = _Shown(lines, archived, messages)
                plan = self._plan(tabs[0], field_headers(fields), showing, view, snapshot, now)
        self._write(tabs, plan, tracking, report, products)

    def _tabs(self, fields: list[str]) -> list[TabSpec]:
        tabs = [orders_tab(fields), tracking_tab(), archive_tab()]
        return [*tabs, products_tab()] if self.products is not None else tabs

    def _products(self, values: list[list[str]], report: CycleReport) -> ProductsTabImport:
        """The Products tab imported when it changed (its rows replace the sheet's rows
        in the Products table)."""
        if self.products is None:
            return ProductsTabImport()
        found = self.products.cycle(values)
        report.products_rows, report.products_errors = found.rows, found.errors
        report.products_read = found.read_again
        if found.problem:
            report.problems.append(found.problem)
        return found

    def _apply_edits(
        self, tab: TabSpec, view: SheetView, snapshot: OrdersSnapshot, now: datetime
    ) -> EditResults:
        """Staff edits through the services; only the lines edited are loaded for them."""
        retired = retired_columns(self.settings, snapshot.headers)
        edits = detect_edits(view, snapshot, sorted({*tab.editable, *retired}))
        if not edits:
            return EditResults()
        lines = self._lines(now, keys={edit.key for edit in edits})
        fields = field_headers(personalization_fields(self.settings, lines, snapshot.headers))
        lines_by_key = {line.key: line for line in lines}
        return apply_edits(
            self.db,
            edits,
            lines_by_key,
            fields,
            SHEET_ACTOR,
            now,
            policy=self.policy,
            checks=self.field_checks,
            retired=retired,
            addresses=self.addresses,
        )

    def _read(
        self,
        tabs: list[TabSpec],
        sizes: dict[str, int],
        shown: list[str],
        snapshot: OrdersSnapshot,
    ) -> tuple[SheetView, list[list[str]], list[list[str]], list[str]]:
        width = len(shown)
        ranges = [
            ReadRange(ORDERS, 1, 1, max(width, len(tabs[0].headers)), 1),
            ReadRange(ORDERS, 2, 1, width),
            ReadRange(TRACKING, 1, 1, len(TRACKING_HEADERS)),
        ]
        if self.products is not None:
            ranges.append(ReadRange(PRODUCTS, 1, 1, len(PRODUCTS_HEADERS)))
        repairs: list[str] = []
        try:
            values = self.sheet.read(ranges)
        except TabMissing:
            repairs = self.sheet.prepare(tabs, sizes, recheck=True).repairs
            values = self.sheet.read(ranges)
        header = values[0][0] if values[0] else []
        view = read_view(header, values[1], known_lines(snapshot))
        products = values[3] if len(values) > 3 else []
        return view, values[2], products, repairs

    @staticmethod
    def _orders_layout_ok(
        view: SheetView, tab: TabSpec, snapshot: OrdersSnapshot, report: CycleReport
    ) -> bool:
        try:
            check_header(view.header, tab, snapshot.headers)
        except DomainRefusal as exc:
            report.problems.append(exc.message)
            return False
        return True

    def _plan(
        self,
        tab: TabSpec,
        fields: dict[str, str],
        shown: _Shown,
        view: SheetView,
        snapshot: OrdersSnapshot,
        now: datetime,
    ) -> OrdersPlan:
        tz = self.settings.tz
        rows = self._rows.rows(shown.lines, fields, tz, shown.messages, self.links)
        archived_at = f"{now:%Y-%m-%d %H:%M} UTC"
        first = [archived_line_row(line, tz, archived_at) for line in shown.archived]
        return plan_orders(
            tab,
            rows,
            view,
            snapshot,
            messages=shown.messages,
            archived_at=archived_at,
            archive_first=first,
            texts=self._rows.texts,
            archive_cap=self.settings.sheet.archive_max_rows,
        )

    def _write(
        self,
        tabs: list[TabSpec],
        plan: OrdersPlan | None,
        tracking: TabImport,
        report: CycleReport,
        products: ProductsTabImport,
    ) -> None:
        blocks = [*(plan.blocks if plan else []), *tracking.blocks, *products.blocks]
        if plan is not None:
            report.added, report.updated, report.archived = plan.added, plan.updated, plan.archived
            report.restored = plan.restored
            sizes = {
                ORDERS: plan.rows_needed,
                ARCHIVE: plan.archive_rows_needed,
                TRACKING: 1,  # results go beside rows people filled: inside the grid
                PRODUCTS: 1,
            }
            report.repairs.extend(self.sheet.prepare(tabs, sizes).repairs)
        self.sheet.write(blocks)
        if plan is not None and blocks:
            with self.db.unit_of_work() as session:
                _save_snapshot(session, plan.snapshot.to_json())


def _save_snapshot(session: Any, value: dict[str, Any]) -> None:
    found = session.get(SyncState, STATE_KEY)
    if found is None:
        session.add(SyncState(key=STATE_KEY, value=value))
    else:
        found.value = value


def build_spreadsheet(settings: Settings, limits: Limits | None = None) -> Spreadsheet | None:
    """The adapter SheetConfig.backend names; None when the sheet is off. Google's
    quota is paced on `limits` (shared by every process on PostgreSQL)."""
    config = settings.sheet
    if config.backend == "none":
        return None
    if config.backend == "google":
        from sync.sheets.google import connect

        return connect(config, limits)
    from sync.sheets.workbook import Workbook

    return Workbook(settings.resolve(config.workbook))


def products_reader(runtime: Sheets) -> ProductsTab | None:
    """The Products tab's reader, unless `[products] sheet_tab = false`."""
    if not runtime.settings.products.sheet_tab:
        return None
    return ProductsTab(
        runtime.db, lambda: runtime.product_checks, lambda: runtime.product_table.invalidate()
    )


def jobs(runtime: Sheets) -> list[JobSpec]:
    """The mirror + tracking-import cycle every `sheet.mirror_minutes` (one instance at a time)."""
    from podops.jobs import JobSpec

    sheet = runtime.sheet
    if sheet is None:
        return []
    bucket = runtime.storage if runtime.settings.storage.kind == "s3" else None
    mirror = SheetMirror(
        runtime.db,
        sheet,
        runtime.settings,
        links=preview_links(runtime.settings, bucket),
        field_checks=runtime.field_checks,
        addresses=runtime.addresses,
        products=products_reader(runtime),
    )

    def cycle() -> CycleReport:
        report = mirror.run_cycle()
        for line in report.problems:
            log.warning("sheet: %s", line)
        return report

    minutes = runtime.settings.sheet.mirror_minutes
    at = runtime.settings.summary.at
    return [
        JobSpec("sheet.mirror", cycle, trigger_args={"minutes": minutes}, singleton=True),
        JobSpec(
            "sheet.stats",
            lambda: refresh_stats(runtime.db, sheet, runtime.settings),
            "cron",
            {"hour": at.hour, "minute": at.minute, "timezone": runtime.settings.timezone},
            singleton=True,
        ),
    ]
