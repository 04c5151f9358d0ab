"""Service benchmark: what `podops run` costs while idle, and how long one
scheduler tick and one sheet-mirror cycle take with 100,000 orders.

The database holds a year of orders: 98% finished long ago (archived), the rest
open in the countdown or in production, as in a real shop. The tick is the
countdown job (the scheduler's most frequent database pass); the mirror cycle
is a steady-state cycle on the local workbook after the first full mirror.

Run: python bench/service.py [--orders N] [--idle-seconds S]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, literal, select, update

from podops import services
from podops.events import Actor, Channel
from podops.fulfillment_status import FulfillmentKind, FulfillmentStatus
from podops.incoming import IncomingLineItem, IncomingOrder
from podops.models import Fulfillment, LineItem, Order
from podops.runtime.root import Runtime
from podops.settings import load_settings
from podops.status import OrderStatus

CONFIG = """
timezone = "UTC"
data_dir = "var"
[stores.main]
platform = "csv"
default_provider = "manual"
countdown_hours = 24
[providers.manual]
kind = "manual"
[[routing]]
sku = "TEE-*"
provider = "manual"
product_key = "tee-front"
[[routing]]
sku = "MUG-*"
provider = "manual"
product_key = "mug-11oz"
[sheet]
backend = "xlsx"
workbook = "orders.xlsx"
archive_after_days = 30
[server]
port = {port}
"""
ACTOR = Actor("bench", Channel.SYSTEM)


def seed(runtime: Runtime, count: int) -> None:
    now = datetime.now(UTC)
    first = now - timedelta(days=365)
    step = (now - first) / count
    for start in range(0, count, 2000):
        batch = [
            IncomingOrder(
                store="main",
                external_id=str(n),
                number=str(100000 + n),
                placed_at=first + step * n,
                customer_name=f"Customer {n}",
                shipping_address={"address_1": "1 Main St", "country": "US"},
                total=Decimal("30.00"),
                items=[
                    IncomingLineItem(
                        f"{n}-1", "TEE-BLK-M", "Tee", 1, personalization={"name": "A"}
                    ),
                    IncomingLineItem(
                        f"{n}-2", "MUG-11OZ", "Mug", 1, personalization={"message": "B"}
                    ),
                ],
            )
            for n in range(start, min(start + 2000, count))
        ]
        with runtime.db.unit_of_work() as session:
            services.receive_orders(session, batch, runtime.policy, ACTOR)
    open_from = now - timedelta(days=3)
    with runtime.db.unit_of_work() as session:
        finished = select(Order.id).where(Order.placed_at < open_from).scalar_subquery()
        session.execute(
            update(Order)
            .where(Order.placed_at < open_from)
            .values(status=OrderStatus.COMPLETED, completed_at=open_from - timedelta(days=40))
        )
        session.execute(
            update(LineItem).where(LineItem.order_id.in_(finished)).values(quantity_shipped=1)
        )
        in_flight = (Order.placed_at >= open_from, Order.placed_at < now - timedelta(days=1))
        session.execute(update(Order).where(*in_flight).values(status=OrderStatus.SUBMITTED))
        session.execute(  # each at its provider as one fulfillment
            insert(Fulfillment).from_select(
                [
                    "order_id",
                    "seq",
                    "kind",
                    "status",
                    "provider",
                    "provider_order_id",
                    "submit_attempts",
                    "created_at",
                    "updated_at",
                    "version",
                ],
                select(
                    Order.id,
                    literal(1),
                    literal(FulfillmentKind.ORDER.value),
                    literal(FulfillmentStatus.SUBMITTED.value),
                    literal("manual"),
                    literal("P"),
                    literal(1),
                    Order.created_at,
                    Order.created_at,
                    literal(1),
                ).where(*in_flight),
            )
        )
        # Open orders were rendered when they arrived (render_ahead): an idle shop
        # has no print files left to make.
        open_orders = select(Order.id).where(Order.placed_at >= open_from).scalar_subquery()
        session.execute(
            update(LineItem)
            .where(LineItem.order_id.in_(open_orders))
            .values(print_file="rendered.png", print_file_current=True, print_file_revision=1)
        )
    runtime.db.optimize()


def time_tick(runtime: Runtime, repeat: int = 5) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        runtime.submission.tick()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def time_mirror(runtime: Runtime) -> tuple[float, float]:
    from sync.sheets.mirror import SheetMirror

    assert runtime.sheet is not None
    mirror = SheetMirror(runtime.db, runtime.sheet, runtime.settings)
    started = time.perf_counter()
    mirror.run_cycle()
    first = time.perf_counter() - started
    with runtime.db.unit_of_work() as session:
        numbers = session.scalars(
            select(Order.number).where(Order.status == OrderStatus.PENDING).limit(50)
        ).all()
        for number in numbers:
            services.hold(session, number, ACTOR, "bench")
    started = time.perf_counter()
    mirror.run_cycle()
    return first, time.perf_counter() - started


def idle_usage(folder: Path, port: int, seconds: float, warmup: float) -> tuple[float, float]:
    env = {**os.environ, "PODOPS_CONFIG": str(folder / "podops.toml")}
    service = subprocess.Popen(
        [sys.executable, "-m", "podops", "run", "--log-json"],
        cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        time.sleep(warmup)  # let start-up work (first sync, mirror, alerts) finish
        ticks = os.sysconf("SC_CLK_TCK")
        cpu_before, started = _cpu(service.pid) / ticks, time.monotonic()
        time.sleep(seconds)
        cpu = _cpu(service.pid) / ticks - cpu_before
        elapsed = time.monotonic() - started
        rss_kb = _rss_kb(service.pid)
    finally:
        service.terminate()
        service.wait(timeout=60)
    return 100 * cpu / elapsed, rss_kb / 1024


def _cpu(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--idle-seconds", type=float, default=60)
    parser.add_argument(
        "--warmup", type=float, default=75, help="seconds before measuring (first mirror at 60 s)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        (folder / "podops.toml").write_text(CONFIG.format(port=port))
        runtime = Runtime(load_settings(folder / "podops.toml"))
        runtime.db.upgrade()
        started = time.perf_counter()
        seed(runtime, args.orders)
        print(f"Seeded {args.orders:,} orders in {time.perf_counter() - started:.1f} s")
        with runtime.db.unit_of_work() as session:
            by_status = dict(
                session.execute(select(Order.status, func.count()).group_by(Order.status)).all()
            )
        print("  " + ", ".join(f"{OrderStatus(s).label} {n:,}" for s, n in by_status.items()))
        tick_ms = time_tick(runtime)
        first_mirror_s, mirror_s = time_mirror(runtime)
        runtime.close()
        idle_cpu, idle_rss = idle_usage(folder, port, args.idle_seconds, args.warmup)
    print(f"scheduler tick (countdown pass)     {tick_ms:8.1f} ms  (median of 5)")
    print(f"first sheet mirror (full, archive)  {first_mirror_s:8.2f} s")
    print(f"sheet mirror cycle (50 changes)     {mirror_s:8.2f} s")
    print(
        f"idle `podops run`: CPU {idle_cpu:.2f}% over {args.idle_seconds:.0f} s, "
        f"RSS {idle_rss:.0f} MB"
    )
    figures = {
        "idle_cpu_pct": {"value": round(idle_cpu, 2), "unit": "%", "target": "< 1"},
        "idle_rss_mb": {"value": round(idle_rss), "unit": "MB", "target": "< 200"},
        "tick_ms": {"value": round(tick_ms, 1), "unit": "ms", "target": "< 50"},
        "mirror_cycle_s": {"value": round(mirror_s, 2), "unit": "s", "target": "reference"},
    }
    print(json.dumps({"bench": "service", "figures": figures}))


if __name__ == "__main__":
    main()
