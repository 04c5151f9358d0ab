"""A million orders on PostgreSQL: the everyday queries, the countdown tick, the sheet mirror.

Builds a busy shop's history (`bench/scale_data.py`: COPY, about 12 rows per order)
in a database of its own on the server PODOPS_TEST_DATABASE_URL (or --database-url)
names, dropped at the end. First the newest tenth of `--orders` (100,000 by
default), measured; then the older 90% added underneath (same open orders, same
last 30 days: only history grows), measured again. The same Submitter and the
same sheet mirror (against the fake Google Sheets server in its own process) run
in both phases, so their costs compare directly.

    python bench/scale.py                     1,000,000 orders (a few minutes to build)
    python bench/scale.py --orders 100000     a quicker run (10,000 then 100,000)
    python bench/scale.py --explain           also print EXPLAIN ANALYZE of every statement

Each query is timed as the median of 5 runs after one warm-up, each in its own
transaction (statements of eager loads included). The clock of the Submitter and
the mirror is the shop's `now`, so nothing falls due while the history is built.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import json
import os
import signal
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy import event, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bench.scale_data import Shop, copy_batches, finish
from podops import queries, reports, services
from podops.db import Database
from podops.events import Actor, Channel
from podops.fulfillment.claim import due_query, left_behind_query, remakes_query
from podops.fulfillment.countdown import CLAIM_BATCH, Submitter
from podops.fulfillment.followup import POLL_BATCH, ProviderFollowUp
from podops.models import LineItem, Order
from podops.routing import ShopPolicy
from podops.runtime.fulfillment_wiring import build_providers, provider_roster
from podops.settings import Settings, SheetConfig
from podops.sheet.data import load_sheet_lines
from podops.status import OrderStatus

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ACTOR = Actor("bench", Channel.SYSTEM)
QUERY_TARGET_MS = 20.0
TICK_TARGET_MS = 50.0
STAFF_QUERIES = (
    "due for submission",
    "not shipped, first page",
    "one order by number",
    "find by surname",
    "find by full name",
)


class Links:
    def url_for(self, print_file: str) -> str:
        return f"https://files.example/{print_file}"


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("PODOPS_TEST_DATABASE_URL", ""))
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument(
        "--per-day",
        type=float,
        default=0.0,
        help="orders a day (default: 700, less for small runs)",
    )
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args(argv)
    if not args.database_url.startswith("postgresql"):
        parser.exit(
            2,
            "bench/scale.py measures PostgreSQL: set PODOPS_TEST_DATABASE_URL or "
            "pass --database-url postgresql+psycopg://USER@HOST/DB\n",
        )
    if args.orders < 10_000:
        parser.exit(2, "--orders must be at least 10,000 (a tenth is the first phase)\n")
    return args


@contextmanager
def scratch_database(url: str):  # type: ignore[no-untyped-def]
    """A database of our own next to the one `url` names, dropped afterwards."""
    base = make_url(url)
    name = f"podops_scale_{os.getpid()}"
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # `kill` still drops it
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Statements:
    """The SQL a measured function runs, kept to EXPLAIN ANALYZE it."""

    def __init__(self, db: Database) -> None:
        self.seen: list[tuple[str, Any]] = []
        self.on = False
        event.listen(db.engine, "before_cursor_execute", self._keep)

    def _keep(self, _conn, _cursor, statement, parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
        if self.on and statement.lstrip().upper().startswith("SELECT"):
            self.seen.append((statement, parameters))

    def explain(self, db: Database, name: str, run: Callable[[Session], object]) -> None:
        self.seen, self.on = [], True
        with db.unit_of_work() as session:
            run(session)
        self.on = False
        with db.engine.connect() as connection:
            raw = connection.connection.driver_connection
            for statement, parameters in self.seen:
                with raw.cursor() as cursor:  # type: ignore[union-attr]
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                    plan = "\n    ".join(row[0] for row in cursor.fetchall())
                print(f"--- {name}\n    {statement.strip()[:300]}\n    {plan}")


def timed(db: Database, run: Callable[[Session], object], repeat: int = 5) -> float:
    with db.unit_of_work() as session:
        run(session)
    samples = []
    for _ in range(repeat):
        with db.unit_of_work() as session:
            started = time.perf_counter()
            run(session)
            samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def settings_for(folder: Path, url: str) -> Settings:
    store = {"platform": "sandbox", "default_provider": "cc", "countdown_hours": 24}
    return Settings(
        data_dir=folder,
        database={"url": url},
        stores={"main": store},
        providers={name: {"kind": "sandbox", "rate_limit_per_s": 100} for name in ("cc", "so")},
        sheet=SheetConfig(backend="google", backfill_archive=False),
    )  # type: ignore[arg-type]


class Scale:
    """One database grown in two phases, and what is measured on it each time."""

    def __init__(self, db: Database, shop: Shop, settings: Settings, explain: bool) -> None:
        self.db, self.shop, self.settings = db, shop, settings
        adapters, _ = build_providers(settings, links=Links())
        self.roster = provider_roster(settings, adapters)
        self.follow_up = ProviderFollowUp(db, self.roster, clock=lambda: NOW)
        self.submitter = Submitter(
            db, self.roster, policy=ShopPolicy.from_settings(settings), workers=8, clock=lambda: NOW
        )
        self.statements = Statements(db) if explain else None
        self.held = 0

    def queries(self) -> dict[str, Callable[[Session], object]]:
        shop = self.shop
        middle = shop.number(shop.total // 20)
        surname = shop.name_of(shop.total // 30).split()[1]
        full_name = shop.name_of(shop.total // 40)
        cutoff = NOW - timedelta(days=self.settings.sheet.archive_after_days)
        return {
            "due for submission": lambda s: (
                s.scalars(due_query(NOW, CLAIM_BATCH)).all(),
                s.scalars(due_query(NOW, 500, blocked=True)).all(),
                s.scalars(left_behind_query(CLAIM_BATCH)).all(),
                s.scalars(remakes_query(CLAIM_BATCH)).all(),
            ),
            "not shipped, first page": lambda s: queries.list_orders(s, not_shipped=True),
            "one order by number": lambda s: services.get_order(s, middle),
            "find by surname": lambda s: services.find_orders(s, surname, limit=15),
            "find by full name": lambda s: services.find_orders(s, full_name, limit=15),
            "tracking poll selection": lambda s: self.follow_up._in_flight(POLL_BATCH),
            "sheet mirror selection": lambda s: load_sheet_lines(s, cutoff=cutoff),
            "daily summary": lambda s: reports.daily_summary(
                s, (NOW - timedelta(days=1)).date(), UTC, late_after_days=7, now=NOW
            ),
        }

    def measure_queries(self) -> dict[str, float]:
        found = {}
        for name, run in self.queries().items():
            if self.statements is not None:
                self.statements.explain(self.db, name, run)
            found[name] = timed(self.db, run)
        return found

    def tick_idle_ms(self) -> float:
        """Median of 5 ticks after one warm-up (the first ticks prepare their statements)."""
        samples = []
        self.submitter.tick()
        for _ in range(5):
            started = time.perf_counter()
            report = self.submitter.tick()
            samples.append((time.perf_counter() - started) * 1000)
            assert not report.submitted, "nothing was due"
        return statistics.median(samples)

    def tick_due_ms(self, count: int = 5) -> tuple[float, int]:
        """One tick that sends `count` orders (their countdowns set to have run out)."""
        with self.db.unit_of_work() as session:
            ids = list(
                session.scalars(
                    select(Order.id)
                    .where(Order.status == OrderStatus.PENDING)
                    .order_by(Order.submit_at)
                    .limit(count)
                )
            )
            session.execute(
                update(Order).where(Order.id.in_(ids)).values(submit_at=NOW - timedelta(minutes=1))
            )
            session.execute(
                update(LineItem)
                .where(LineItem.order_id.in_(ids))
                .values(print_file="print/due.png", print_file_current=True)
            )
        started = time.perf_counter()
        report = self.submitter.tick()
        return (time.perf_counter() - started) * 1000, len(report.submitted)

    def hold_some(self, count: int = 25) -> None:
        """Staff hold `count` pending orders: rows the next mirror cycle changes."""
        with self.db.unit_of_work() as session:
            numbers = list(
                session.scalars(
                    select(Order.number)
                    .where(Order.status == OrderStatus.PENDING)
                    .order_by(Order.placed_at.desc())
                    .offset(self.held)
                    .limit(count)
                )
            )
        for number in numbers:
            with self.db.unit_of_work() as session:
                services.hold(session, number, ACTOR, "bench")
        self.held += count


def build(db: Database, shop: Shop, first: int, last: int) -> float:
    started = time.perf_counter()
    url = make_url(db.url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url) as connection:
        copy_batches(
            connection,
            shop,
            first,
            last,
            lambda n: print(f"  {n:,} orders written", file=sys.stderr, flush=True),
        )
        finish(connection)
    return time.perf_counter() - started


def mirror_cycles(mirror: Any, scale: Scale, cycles: int = 3) -> tuple[float, float, float]:
    """Median wall s and CPU s (this thread's) of a cycle after 25 holds; wall s of a
    quiet cycle. CPU moves less than wall when other work shares the machine."""
    changed, cpu = [], []
    for _ in range(cycles):
        scale.hold_some()
        started, thread = time.perf_counter(), time.thread_time()
        mirror.run_cycle()
        changed.append(time.perf_counter() - started)
        cpu.append(time.thread_time() - thread)
    started = time.perf_counter()
    mirror.run_cycle()
    return statistics.median(changed), statistics.median(cpu), time.perf_counter() - started


def phase(label: str, scale: Scale, mirror: Any) -> dict[str, Any]:
    print(f"\n== {label}")
    timings = scale.measure_queries()
    for name, ms in timings.items():
        mark = "" if name not in STAFF_QUERIES else f"  (target < {QUERY_TARGET_MS:.0f} ms)"
        print(f"  {name:<28}{ms:9.2f} ms{mark}")
    idle = scale.tick_idle_ms()
    due, sent = scale.tick_due_ms()
    print(f"  {'tick, nothing due':<28}{idle:9.2f} ms  (target < {TICK_TARGET_MS:.0f} ms)")
    print(f"  {f'tick, {sent} due and sent':<28}{due:9.2f} ms")
    cycle, cpu, quiet = mirror_cycles(mirror, scale)
    print(f"  {'mirror cycle, 25 changed':<28}{cycle:9.2f} s  ({cpu:.2f} s CPU here)")
    print(f"  {'mirror cycle, quiet':<28}{quiet:9.2f} s")
    return {
        "queries": timings,
        "tick_ms": idle,
        "tick_due_ms": due,
        "cycle_s": cycle,
        "cycle_cpu_s": cpu,
    }


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    small = args.orders // 10
    per_day = args.per_day or min(700.0, small / 60)
    shop = Shop(now=NOW, total=args.orders, per_day=per_day)
    import gspread

    from sync.sheets.google import GoogleSheet
    from sync.sheets.mirror import SheetMirror
    from tests.fakes.sheets_process import FakeSheetsProcess
    from tests.fakes.sheets_server import RedirectSession

    with scratch_database(args.database_url) as url, tempfile.TemporaryDirectory() as folder:
        db = Database(url)
        db.upgrade()
        with db.unit_of_work() as session:
            session.execute(
                text(
                    "INSERT INTO stores (id, key, platform, created_at) "
                    "VALUES (1, 'main', 'sandbox', now())"
                )
            )
        settings = settings_for(Path(folder), url)
        scale = Scale(db, shop, settings, args.explain)
        print(f"{per_day:,.0f} orders a day; building {small:,} orders ...")
        built_small = build(db, shop, 0, small)
        with FakeSheetsProcess() as fake:
            client = gspread.Client(auth=None, session=RedirectSession(fake.base))  # type: ignore[arg-type]
            mirror = SheetMirror(
                db, GoogleSheet(client, fake.spreadsheet_id), settings, clock=lambda: NOW
            )
            started = time.perf_counter()
            first = mirror.run_cycle()
            print(f"first mirror: {first.added:,} rows in {time.perf_counter() - started:.1f} s")
            before = phase(f"{small:,} orders (built in {built_small:.0f} s)", scale, mirror)
            print(f"adding {args.orders - small:,} older orders ...")
            built_large = build(db, shop, small, args.orders)
            after = phase(
                f"{args.orders:,} orders (history added in {built_large:.0f} s)", scale, mirror
            )
        db.dispose()
    report(before, after, args.orders)


def report(before: dict[str, Any], after: dict[str, Any], size: int) -> None:
    suffix = "1m" if size == 1_000_000 else f"{size // 1000}k"
    staff = {name: after["queries"][name] for name in STAFF_QUERIES}
    figures = {
        f"query_ms_max_{suffix}": {
            "value": round(max(staff.values()), 2),
            "unit": "ms",
            "target": f"< {QUERY_TARGET_MS:.0f} each",
        },
        f"tick_ms_{suffix}": {
            "value": round(after["tick_ms"], 2),
            "unit": "ms",
            "target": f"< {TICK_TARGET_MS:.0f}",
        },
        f"tick_5due_ms_{suffix}": {
            "value": round(after["tick_due_ms"], 2),
            "unit": "ms",
            "target": f"~ {before['tick_due_ms']:.1f} (first phase)",
        },
        f"mirror_cycle_s_{suffix}": {
            "value": round(after["cycle_s"], 3),
            "unit": "s",
            "target": f"<= {before['cycle_s'] * 1.2:.3f} "
            f"(first phase {before['cycle_s']:.3f} + 20%)",
        },
    }
    figures[f"mirror_cycle_cpu_s_{suffix}"] = {
        "value": round(after["cycle_cpu_s"], 3),
        "unit": "s",
        "target": f"~ {before['cycle_cpu_s']:.3f} (first phase)",
    }
    print(json.dumps({"bench": "scale", "figures": figures}))


if __name__ == "__main__":
    main()
