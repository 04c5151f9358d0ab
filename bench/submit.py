"""Submission throughput: 1,000 due orders to a fake CustomCat answering in 50 ms.

Bounded concurrency (8) under a per-provider rate limit (50/s), through the
real wiring (LimitedProvider + CustomCat adapter + httpx) and the real
claim/submit/record path on a SQLite database. Counts provider orders per
reference on the fake (duplicate checks off there, so a double would show).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from podops import services
from podops.db import Database
from podops.models import LineItem
from podops.routing import ShopPolicy, StorePolicy
from podops.runtime.fulfillment_wiring import build_providers, build_submission, provider_roster
from podops.settings import Settings
from tests import factories
from tests.fakes.customcat import API_KEY, FakeCustomCat

ORDERS = 1000
RATE = 50.0
CONCURRENCY = 8
LATENCY_S = 0.05


def seed(db: Database) -> None:
    placed = datetime.now(UTC) - timedelta(hours=2)
    batch = [
        factories.incoming(customer_phone="+1 217 555 0100", placed_at=placed)
        for _ in range(ORDERS)
    ]
    policy = ShopPolicy({"main": StorePolicy(1, "cc")}, [])
    with db.unit_of_work() as session:
        services.receive_orders(session, batch, policy, factories.SYSTEM)
    with db.unit_of_work() as session:
        for item in session.scalars(select(LineItem)):
            item.print_file = f"https://cdn.example/print/{item.order_id}-{item.position}.png"
            item.print_file_current = True


def busiest_second(times: list[float]) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def main() -> None:
    fake = FakeCustomCat(reject_duplicates=False).start()
    fake.latency_s = LATENCY_S
    folder = Path(tempfile.mkdtemp(prefix="podops-bench-submit-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    db = Database(url)
    db.upgrade()
    seed(db)
    settings = Settings(
        data_dir=folder,
        database={"url": url},
        providers={
            "cc": {
                "kind": "customcat",
                "base_url": fake.base_url,
                "api_key": API_KEY,
                "rate_limit_per_s": RATE,
                "concurrency": CONCURRENCY,
            }
        },
    )  # type: ignore[arg-type]
    providers, clients = build_providers(settings, links=_Links())
    service = build_submission(db, settings, provider_roster(settings, providers))
    started = time.monotonic()
    submitted = failed = 0
    while True:
        report = service.tick()
        submitted += len(report.submitted)
        failed += len(report.failed)
        if not report.submitted and not report.failed:
            break
    elapsed = time.monotonic() - started
    for client in clients:
        client.close()
    fake.stop()
    rate = submitted / elapsed
    duplicates = fake.duplicates()
    peak = busiest_second(fake.request_times)
    print(f"{'orders':<28}{ORDERS}")
    print(f"{'submitted / failed':<28}{submitted} / {failed}")
    print(f"{'elapsed':<28}{elapsed:.2f} s")
    print(f"{'orders per second':<28}{rate:.1f}  (limit {RATE:g}/s, concurrency {CONCURRENCY})")
    print(f"{'busiest 1 s window':<28}{peak} provider requests")
    print(f"{'provider orders per ref > 1':<28}{duplicates}")
    figures = {
        "orders_per_s": {"value": round(rate, 1), "unit": "orders/s", "target": ">= 20"},
        "duplicates": {"value": duplicates, "unit": "orders", "target": "== 0"},
        "peak_requests_per_s": {"value": peak, "unit": "requests/s", "target": f"<= {RATE:g}"},
    }
    print(json.dumps({"bench": "submit", "figures": figures}))


class _Links:
    def url_for(self, print_file: str) -> str:
        return print_file


if __name__ == "__main__":
    main()
