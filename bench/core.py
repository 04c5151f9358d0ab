"""Core benchmark: receive 100,000 orders (two line items each) through the
service layer on SQLite, then time the queries the scheduler and staff run most.

Run: python bench/core.py [--orders N] [--batch N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from podops import queries, services
from podops.db import Database
from podops.events import Actor, Channel
from podops.incoming import IncomingLineItem, IncomingOrder
from podops.routing import ShopPolicy, StorePolicy
from podops.settings import RoutingRule

START = datetime(2026, 1, 1, tzinfo=UTC)
ADDRESS = {"address_1": "1 Main St", "city": "Springfield", "postcode": "62701", "country": "US"}


def make_order(n: int) -> IncomingOrder:
    return IncomingOrder(
        store="main",
        external_id=str(n),
        number=str(100000 + n),
        placed_at=START + timedelta(minutes=n),
        customer_name=f"Customer {n}",
        customer_email=f"c{n}@example.com",
        shipping_address=ADDRESS,
        total=Decimal("39.90"),
        items=[
            IncomingLineItem(f"{n}-1", "TEE-BLK-M", "Tee", 1, Decimal("24.95"), {"name": f"N{n}"}),
            IncomingLineItem(f"{n}-2", "MUG-11OZ", "Mug", 2, Decimal("7.45"), {"message": "Hi"}),
        ],
    )


def time_query(db: Database, run, repeat: int = 7) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(repeat):
        with db.unit_of_work() as session:
            started = time.perf_counter()
            run(session)
            samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    policy = ShopPolicy(
        {"main": StorePolicy(24, "manual")},
        [RoutingRule(sku="TEE-*", provider="manual"), RoutingRule(sku="MUG-*", provider="manual")],
    )
    actor = Actor("bench", Channel.SYSTEM)
    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite:///{folder}/bench.db")
        db.upgrade()
        started = time.perf_counter()
        for first in range(0, args.orders, args.batch):
            batch = [make_order(n) for n in range(first, min(first + args.batch, args.orders))]
            with db.unit_of_work() as session:
                services.receive_orders(session, batch, policy, actor)
        elapsed = time.perf_counter() - started
        rate = args.orders / elapsed
        db.optimize()  # what the intake job does after a large import
        # Give the "not shipped" query a realistic mix: hold every tenth order.
        now = START + timedelta(days=40)
        timings = {
            "orders due for submission (100 oldest)": time_query(
                db, lambda s: queries.due_for_submission(s, now, limit=100)
            ),
            "not shipped (count)": time_query(db, queries.count_not_shipped),
            "not shipped (first page of 100)": time_query(
                db, lambda s: queries.list_orders(s, not_shipped=True, limit=100)
            ),
            "one order by number": time_query(
                db, lambda s: services.get_order(s, str(100000 + args.orders // 2))
            ),
        }
        db.dispose()
    print(
        f"Received {args.orders:,} orders (2 line items each) in {elapsed:.1f} s "
        f"in batches of {args.batch}: {rate:,.0f} orders/s"
    )
    print(f"{'query at ' + format(args.orders, ',') + ' orders':<45} median ms")
    for name, ms in timings.items():
        print(f"  {name:<43} {ms:8.2f}")
    figures = {
        "receive_orders_per_s": {"value": round(rate), "unit": "orders/s", "target": ">= 5000"},
        "query_ms_max": {"value": round(max(timings.values()), 2), "unit": "ms", "target": "< 20"},
    }
    print(json.dumps({"bench": "core", "figures": figures}))


if __name__ == "__main__":
    main()
