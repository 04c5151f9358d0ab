"""Reports benchmark: `podops report` on a synthetic shop of 100,000 and 1,000,000
orders (lines, fulfillments with their lines and charges, parcels, and the events
a real shop writes: receive, submit, ship, plus failures, design fixes, refunds),
on SQLite and, when PODOPS_TEST_DATABASE_URL is set, on PostgreSQL too (a schema of
its own, dropped afterwards).

Figures:
- report_s_100k: a 90-day report grouped by provider on 100,000 orders (target <= 1 s);
- report_s_1m: a 365-day report on 1,000,000 orders (target <= 8 s);
- report_peak_mb_1m: the peak RSS of the process that built that report (<= 800 MB),
  measured in a fresh child process so seeding does not count;
- chart_ms: one chart (the daily summary's, 14 days x 3 stores) drawn with matplotlib,
  median of 5 after a first draw (<= 500 ms);
- idle_rss_mb: only with --idle: reruns bench/service.py and reports its idle RSS.

The database is built with Core executemany inserts (explicit ids), not the services:
the benchmark measures reading, not intake.

The PostgreSQL database is written with COPY (`seed_postgres`), the same rows.

Run: python bench/reports.py [--sizes 100000,1000000] [--idle] [--no-postgres]
     [--no-sqlite] [--keep DIR] (SQLite files kept in DIR as reports_SIZE.db, and
     PostgreSQL schemas as podops_reports_SIZE, reused when there: a rerun measures
     without seeding; drop the schemas by hand when done)
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, insert, inspect, text

from podops.db import Database
from podops.models import Event, Fulfillment, FulfillmentLine, LineItem, Order, Shipment, Store
from podops.settings import DatabaseConfig, FeesConfig, ProviderConfig, Settings, StoreConfig

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SPAN_DAYS = 400
BATCH = 20_000
PROVIDERS = {"cc": 5.0, "so": 7.0, "pf": 4.0}
STORES = ("main", "etsy", "wholesale")
SKUS = (("TEE-BLK-M", "tee-front"), ("MUG-11OZ", "mug-11oz"), ("POSTER-A3", "poster-a3"))
TARGETS = {"report_s_100k": 1.0, "report_s_1m": 8.0, "report_peak_mb_1m": 800, "chart_ms": 500}


def settings_for(url: str) -> Settings:
    return Settings(
        database=DatabaseConfig(url=url),
        stores={
            name: StoreConfig(platform="csv", fees=FeesConfig(percent=3.0, fixed=0.3))
            for name in STORES
        },
        providers={
            name: ProviderConfig(kind="customcat", promised_days=days)
            for name, days in PROVIDERS.items()
        },
    )


def _orders(count: int, seed: int = 7) -> Iterator[dict[str, list[dict[str, object]]]]:
    """Rows in batches: a shop whose orders mostly ship, with a few problems of each kind."""
    rng = random.Random(seed)
    first = NOW - timedelta(days=SPAN_DAYS)
    step = timedelta(days=SPAN_DAYS) / count
    line_id = part_id = event_id = parcel_id = 0
    for start in range(0, count, BATCH):
        rows: dict[str, list[dict[str, object]]] = {
            "orders": [], "lines": [], "parts": [], "part_lines": [], "parcels": [], "events": []
        }  # fmt: skip
        for n in range(start, min(start + BATCH, count)):
            order_id = n + 1
            placed = first + step * n
            age = (NOW - placed).days
            roll = rng.random()
            sent = roll > 0.03 and age > 1
            cancelled = roll < 0.02
            shipped = sent and age > 8 and roll < 0.985
            status = (
                "cancelled" if cancelled else "completed" if shipped
                else "in_production" if sent else "pending"
            )  # fmt: skip
            submitted_at = placed + timedelta(hours=24 + rng.random() * 30) if sent else None
            shipped_at = (
                submitted_at + timedelta(days=1 + rng.expovariate(1 / 3))
                if shipped and submitted_at else None
            )  # fmt: skip
            rows["orders"].append({
                "id": order_id, "store_id": 1 + n % len(STORES), "number": str(100000 + n),
                "external_id": str(n), "status": status, "placed_at": placed,
                "submit_at": placed + timedelta(hours=24),
                "currency": "EUR" if n % 50 == 0 else "USD",
                "total": Decimal("34.90"), "shipping_total": Decimal("4.90"),
                "shipped_at": shipped_at, "customer_name": f"Customer {n}",
                "shipping_address": {"country": "US"}, "problems": [], "note": "",
                "created_at": placed, "updated_at": placed, "version": 1,
            })  # fmt: skip
            provider = list(PROVIDERS)[n % len(PROVIDERS)]
            lines = [SKUS[n % 3]] + ([SKUS[(n + 1) % 3]] if n % 2 else [])
            my_lines = []
            for position, (sku, product) in enumerate(lines, start=1):
                line_id += 1
                my_lines.append(line_id)
                rows["lines"].append({
                    "id": line_id, "order_id": order_id, "position": position, "sku": sku,
                    "product_key": product, "provider": provider, "quantity": 1,
                    "unit_price": Decimal("15.00"), "personalization": {}, "image_urls": {},
                    "problems": [], "print_file_revision": 2 if n % 97 == 0 else 1,
                    "photos": {}, "print_file_current": True,
                })  # fmt: skip
            events = [("receive", placed, None)]
            if sent:
                part_id += 1
                rows["parts"].append({
                    "id": part_id, "order_id": order_id, "seq": 1, "kind": "order",
                    "status": "shipped" if shipped else "in_production", "provider": provider,
                    "provider_order_id": f"P{n}", "submit_attempts": 1,
                    "submitted_at": submitted_at, "shipped_at": shipped_at,
                    "cost": None if n % 40 == 0 else Decimal("17.50"),
                    "cost_currency": None if n % 40 == 0 else "USD",
                    "created_at": placed, "updated_at": placed, "version": 1,
                })  # fmt: skip
                for lid in my_lines:
                    rows["part_lines"].append(
                        {"fulfillment_id": part_id, "line_item_id": lid, "quantity": 1}
                    )
                events.append(("submit_ok", submitted_at, None))
                if n % 33 == 0:
                    events.append(
                        (
                            "submit_fail",
                            placed + timedelta(hours=24),
                            {
                                "provider": provider,
                                "reason": "Invalid catalog_sku" if n % 2 else "timed out",
                                "retryable": n % 2 == 0,
                            },
                        )
                    )
            if shipped and shipped_at:
                parcel_id += 1
                rows["parcels"].append({
                    "id": parcel_id, "order_id": order_id, "carrier": "USPS",
                    "tracking_number": f"94001{n:012d}", "tracking_url": "",
                    "shipped_at": shipped_at,
                    "channel": "provider", "fulfillment_id": part_id,
                })  # fmt: skip
                events.append(("ship_all", shipped_at, None))
                events.append(("complete", shipped_at + timedelta(hours=1), None))
            if n % 41 == 0:
                events.append(("edit_personalization", placed + timedelta(hours=2), {"line": "1"}))
            if n % 150 == 0:
                events.append(("flag_design", placed + timedelta(hours=1), {"reason": "photo"}))
            if cancelled:
                events.append(("cancel", placed + timedelta(hours=3), {"reason": "customer"}))
            for action, at, detail in events:
                event_id += 1
                rows["events"].append({
                    "id": event_id, "order_id": order_id, "at": at, "actor": "bench",
                    "channel": "system", "action": action, "detail": detail or {},
                })  # fmt: skip
        yield rows


TABLES = (
    ("orders", Order), ("lines", LineItem), ("parts", Fulfillment),
    ("part_lines", FulfillmentLine), ("parcels", Shipment), ("events", Event),
)  # fmt: skip


def _with_stores(url: str) -> Database:
    """The schema, migrated, with the shop's stores (what both seeders start from)."""
    db = Database(url)
    db.upgrade()
    with db.engine.begin() as connection:
        connection.execute(
            insert(Store),
            [
                {"id": i + 1, "key": name, "platform": "csv", "created_at": NOW}
                for i, name in enumerate(STORES)
            ],
        )
    return db


def seed(url: str, count: int) -> float:
    started = time.perf_counter()
    db = _with_stores(url)
    for rows in _orders(count):
        with db.engine.begin() as connection:
            for name, model in TABLES:
                if rows[name]:
                    connection.execute(insert(model), rows[name])
    db.optimize()
    db.dispose()
    return time.perf_counter() - started


def _defaults(model: Any, given: list[str]) -> dict[str, object]:
    """The column defaults SQLAlchemy would fill in for an insert of `given` (COPY
    fills in only the server's)."""
    found: dict[str, object] = {}
    for column in model.__table__.columns:
        default = column.default
        if column.key in given or default is None:
            continue
        value = default.arg(None) if default.is_callable else default.arg
        found[column.key] = value.value if isinstance(value, Enum) else value
    return found


def seed_postgres(url: str, count: int) -> float:
    """The same rows as `seed`, written with COPY through psycopg (executemany inserts
    took longer than the benchmark itself at a million orders)."""
    started = time.perf_counter()
    db = _with_stores(url)
    raw = db.engine.raw_connection()
    try:
        driver = raw.driver_connection
        for rows in _orders(count):
            with driver.cursor() as cursor:  # type: ignore[union-attr]
                for name, model in TABLES:
                    if not rows[name]:
                        continue
                    given = list(rows[name][0])
                    defaults = _defaults(model, given)
                    columns = [*given, *defaults]
                    table = model.__tablename__
                    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                        for row in rows[name]:
                            copy.write_row(
                                [
                                    json.dumps(v) if isinstance(v, dict | list) else v
                                    for v in (*row.values(), *defaults.values())
                                ]
                            )
            driver.commit()  # type: ignore[union-attr]
        with driver.cursor() as cursor:  # type: ignore[union-attr]
            for _name, model in (*TABLES, ("stores", Store)):
                table = model.__tablename__
                if "id" in model.__table__.c:
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT coalesce(max(id), 0) + 1 FROM {table}))"
                    )
        driver.commit()  # type: ignore[union-attr]
    finally:
        raw.close()
    db.optimize()
    db.dispose()
    return time.perf_counter() - started


def measure_report(url: str, days: int) -> tuple[float, float, int]:
    """(seconds, peak MB, orders) of one report by provider, in this (fresh) process."""
    from podops.reporting.period import last_days
    from podops.reporting.report import build_report

    settings = settings_for(url)
    db = Database(url)
    period = last_days(days, settings.tz, NOW)
    started = time.perf_counter()
    report = build_report(db, settings, period, "provider", NOW)
    seconds = time.perf_counter() - started
    db.dispose()
    return seconds, _peak_mb(), report.orders


def _peak_mb() -> float:
    """This process's peak resident memory (VmHWM: of its own image only, where
    getrusage's ru_maxrss keeps the parent's peak across the spawn's exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report_apart(url: str, days: int) -> tuple[float, float, int]:
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        return pool.apply(measure_report, (url, days))


def chart_ms() -> float:
    from podops.ports.notify import DailySummary
    from render.charts import summary_chart

    days = [date(2026, 11, 18) + timedelta(days=i) for i in range(14)]
    summary = DailySummary(
        day=days[-1], received=40, submitted=38, shipped=35, cancelled=1, submit_failures=0,
        pending_by_age={}, late=[], failed=[], per_day=[(d, 40) for d in days],
        per_store=[{"main": 25, "etsy": 10, "wholesale": 5} for _ in days],
        late_per_day=[0] * 10 + [2, 0, 1, 3], timezone="Europe/Paris",
    )  # fmt: skip
    summary_chart(summary)  # first draw: imports and the font cache
    samples = []
    for _ in range(5):
        started = time.perf_counter()
        summary_chart(summary)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def postgres_schema(base: str, name: str | None = None) -> tuple[str, str, bool]:
    """(URL, schema, whether it was there): a new schema, or the one named (kept by
    --keep) when it exists."""
    schema = name or f"podops_reports_{uuid.uuid4().hex[:8]}"
    engine = create_engine(base)
    with engine.begin() as connection:
        found = connection.execute(
            text("SELECT 1 FROM information_schema.schemata WHERE schema_name = :s"),
            {"s": schema},
        ).first()
        if not found:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    joiner = "&" if "?" in base else "?"
    return f"{base}{joiner}options={quote(f'-csearch_path={schema}')}", schema, bool(found)


def seeded_orders(url: str) -> int:
    """How many orders a kept database holds (0: not seeded, or seeding was cut short)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            if "orders" not in inspect(connection).get_table_names():
                return 0
            return int(connection.execute(text("SELECT count(*) FROM orders")).scalar_one())
    finally:
        engine.dispose()


def drop_schema(base: str, schema: str) -> None:
    engine = create_engine(base)
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def idle_rss_mb() -> float:
    """Rerun bench/service.py (idle `podops run` on 100,000 orders) for its idle RSS."""
    done = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("service.py"))],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    figures = json.loads(done.stdout.strip().splitlines()[-1])["figures"]
    return float(figures["idle_rss_mb"]["value"])


def run_size(url: str, size: int, label: str, *, seeded: bool = False) -> dict[str, float]:
    if seeded:
        # A kept database may predate this code's migrations (a report index): upgraded
        # first, so what is measured is what a shop running this code has.
        started = time.perf_counter()
        db = Database(url)
        db.upgrade()
        db.engine.dispose()
        print(
            f"{label}: reusing the {size:,}-order database "
            f"(migrated to head in {time.perf_counter() - started:.1f} s)"
        )
    else:
        seconds = (seed_postgres if label == "postgresql" else seed)(url, size)
        print(f"{label}: seeded {size:,} orders in {seconds:.1f} s")
    days = 90 if size < 1_000_000 else 365
    took, peak, orders = report_apart(url, days)
    print(
        f"{label}: {days}-day report by provider over {orders:,} orders: "
        f"{took:.2f} s, peak {peak:.0f} MB"
    )
    return {"seconds": took, "peak_mb": peak, "orders": orders, "days": days}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated order counts")
    parser.add_argument("--idle", action="store_true", help="rerun bench/service.py for idle RSS")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument(
        "--keep",
        metavar="DIR",
        help="keep (and reuse) the SQLite databases in DIR and the PostgreSQL schemas "
        "podops_reports_SIZE (drop them by hand when done)",
    )
    args = parser.parse_args()
    try:
        sizes = [int(part) for part in args.sizes.split(",") if part.strip()]
    except ValueError:
        parser.error(f"--sizes {args.sizes!r}: expected numbers like 100000,1000000")
    if not sizes or any(size < 1 for size in sizes):
        parser.error("--sizes needs at least one positive count")
    figures: dict[str, dict[str, object]] = {}

    def add(name: str, value: float, unit: str, backend: str) -> None:
        key = name if backend == "sqlite" else f"{name}_pg"
        target = TARGETS.get(name)
        figures[key] = {"value": round(value, 2), "unit": unit}
        if target is not None:
            figures[key]["target"] = f"<= {target}"

    base = os.environ.get("PODOPS_TEST_DATABASE_URL", "")
    for size in sizes:
        suffix = "100k" if size == 100_000 else "1m" if size == 1_000_000 else str(size)
        if not args.no_sqlite and args.keep:
            path = Path(args.keep) / f"reports_{size}.db"
            path.parent.mkdir(parents=True, exist_ok=True)
            found = run_size(f"sqlite:///{path}", size, "sqlite", seeded=path.exists())
        elif not args.no_sqlite:
            with tempfile.TemporaryDirectory() as tmp:
                found = run_size(f"sqlite:///{tmp}/bench.db", size, "sqlite")
        if not args.no_sqlite:
            add(f"report_s_{suffix}", found["seconds"], "s", "sqlite")
            if size == 1_000_000:
                add("report_peak_mb_1m", found["peak_mb"], "MB", "sqlite")
        if base and not args.no_postgres and args.keep:
            # Kept as schema podops_reports_SIZE, reused when it holds all its orders.
            url, schema, there = postgres_schema(base, f"podops_reports_{size}")
            if there and seeded_orders(url) != size:
                drop_schema(base, schema)
                url, schema, there = postgres_schema(base, f"podops_reports_{size}")
            found = run_size(url, size, "postgresql", seeded=there)
        elif base and not args.no_postgres:
            url, schema, _ = postgres_schema(base)
            try:
                found = run_size(url, size, "postgresql")
            finally:
                drop_schema(base, schema)
        if base and not args.no_postgres:
            add(f"report_s_{suffix}", found["seconds"], "s", "postgresql")
            if size == 1_000_000:
                add("report_peak_mb_1m", found["peak_mb"], "MB", "postgresql")
    drawn = chart_ms()
    print(f"one chart (daily summary, matplotlib): {drawn:.0f} ms (median of 5)")
    add("chart_ms", drawn, "ms", "sqlite")
    if args.idle:
        rss = idle_rss_mb()
        print(f"idle `podops run` RSS: {rss:.0f} MB")
        figures["idle_rss_mb"] = {"value": rss, "unit": "MB", "target": "< 200"}
    print(json.dumps({"bench": "reports", "figures": figures}))


if __name__ == "__main__":
    main()
