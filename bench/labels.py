"""Shipping labels: 200 label requests at concurrency 8 against the fake EasyPost
answering in 300 ms, where one buy in ten buys the label and then loses its answer
past the client's 1 s timeout (the desk must look the shipment up, not buy again).

The real path: the label desk (claim, verify, create, pick, buy, look up after a
lost answer, files, record as the order's parcel) through the official `easypost`
client, on a SQLite database. Labels are counted at the fake, per shipment and per
reference, so a double would show.

    python bench/labels.py

Figures: `labels_per_s` (requests finished per second), `labels_bought_twice`
(counted at the fake; target 0) and `label_pdf_ms` (one label + packing slip PDF,
the median of 20; target <= 200 ms).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import json
import statistics
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from podops.db import Database
from podops.errors import DomainRefusal
from podops.routing import ShopPolicy, StorePolicy
from podops.settings import RoutingRule
from tests import factories
from tests.factories import STAFF
from tests.fakes.easypost_labels import FakeEasyPostLabels
from tests.shipping.conftest import label_settings, make_desk

REQUESTS = 200
CONCURRENCY = 8
LATENCY_S = 0.3
TIMEOUT_EVERY = 10
PDF_SAMPLES = 20


def main() -> None:
    fake = FakeEasyPostLabels().start()
    fake.latency_s = LATENCY_S
    fake.timeout_every = TIMEOUT_EVERY
    fake.hold_s = 1.5
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        url = f"sqlite:///{data / 'podops.db'}"
        db = Database(url)
        db.upgrade()
        settings = label_settings(data, url, fake.api_base)
        policy = ShopPolicy(
            {"main": StorePolicy(24, "manual")},
            [
                RoutingRule(sku="TEE-*", provider="manual", product_key="tee-front"),
                RoutingRule(sku="MUG-*", provider="manual", product_key="mug-11oz"),
            ],
        )
        numbers = [factories.submitted_order(db, policy) for _ in range(REQUESTS)]
        desk = make_desk(settings, db)
        refused: list[str] = []

        def one(number: str) -> None:
            try:
                desk.buy(number, STAFF)
            except DomainRefusal as exc:
                refused.append(f"{number}: {exc.message}")

        started = time.perf_counter()
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            list(pool.map(one, numbers))
        elapsed = time.perf_counter() - started
        pdf_ms = []
        for number in numbers[:PDF_SAMPLES]:
            began = time.perf_counter()
            desk.order_sheet(number)
            pdf_ms.append((time.perf_counter() - began) * 1000)
        db.dispose()
    fake.stop()
    figures: dict[str, dict[str, Any]] = {
        "labels_per_s": {
            "value": round(REQUESTS / elapsed, 2),
            "unit": "labels/s",
            "target": "(recorded)",
        },
        "labels_bought_twice": {"value": twice(fake), "unit": "labels", "target": "== 0"},
        "label_pdf_ms": {
            "value": round(statistics.median(pdf_ms), 1),
            "unit": "ms",
            "target": "<= 200",
        },
    }
    print(f"{'requests':<28}{REQUESTS} at concurrency {CONCURRENCY}")
    print(f"{'fake EasyPost':<28}{LATENCY_S * 1000:.0f} ms, a lost buy answer in {TIMEOUT_EVERY}")
    print(f"{'labels bought (fake)':<28}{fake.labels_bought}")
    print(f"{'refused':<28}{len(refused)}")
    for line in refused[:5]:
        print(f"  {line}")
    print(f"{'elapsed':<28}{elapsed:.1f} s")
    for name, shown in figures.items():
        print(f"{name:<28}{shown['value']} {shown['unit']}  (target {shown['target']})")
    print(json.dumps({"bench": "labels", "figures": figures}))


def twice(fake: FakeEasyPostLabels) -> int:
    """Labels beyond one per shipment, per reference and per order (each request is
    one order's only label: `main-1234-L7` names order main-1234)."""
    per_order: Counter[str] = Counter()
    for reference, count in fake.bought_per_reference.items():
        per_order[reference.rsplit("-L", 1)[0]] += count
    return max(fake.doubles(), sum(n - 1 for n in per_order.values() if n > 1))


if __name__ == "__main__":
    main()
