"""Submission throughput: 1,000 due orders to fake providers answering in 50 ms.

Bounded concurrency (8) under a per-provider rate limit (50/s), through the
real wiring (LimitedProvider + adapters + httpx) and the real claim/submit/record
path on a SQLite database. Provider orders are counted per reference at the
fakes (duplicate checks off there, so a double would show).

    python bench/submit.py           every order to a fake CustomCat
    python bench/submit.py --mixed   a third of the orders are mixed carts: a tee for
                                     CustomCat and a mug for ShineOn, one fulfillment
                                     each; a tenth of the orders are rush orders
    python bench/submit.py --provider gelato|customcat|...
                                     200 due orders to that provider's fake at the
                                     provider's own rate limit (the settings' default
                                     for its kind), enforced by the fake with 429s
                                     where the fake knows the limit

Each figure is one function of the finished run (`FIGURES`). With --mixed the rush
orders are real ones: paid for Express, whose speed has a countdown of zero, in the
same due backlog as the rest; `rush_late` counts those that left more than
RUSH_SLACK_S after the countdown began working (or never left).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from podops import services
from podops.db import Database
from podops.incoming import IncomingLineItem, IncomingOrder
from podops.models import LineItem, Order
from podops.routing import ShopPolicy
from podops.runtime.fulfillment_wiring import build_providers, build_submission, provider_roster
from podops.settings import ProviderConfig, RoutingRule, Settings
from tests import factories
from tests.fakes.customcat import API_KEY, FakeCustomCat
from tests.fakes.shineon import TOKEN, FakeShineOn
from tests.rush_orders import RUSH_METHOD, rush_late, rush_store

ORDERS = 1000
RATE = 50.0
CONCURRENCY = 8
LATENCY_S = 0.05
MIXED_EVERY = 3
"""Every third order is a mixed cart (lines for two providers)."""
RUSH_EVERY = 10
"""Every tenth order is a rush order (with --mixed)."""
RUSH_SLACK_S = 5.0
"""A rush order is late when it leaves later than this after the countdown starts."""

Figure = dict[str, Any]


@dataclass
class Run:
    """A finished run: what the figures are computed from."""

    db: Database
    customcat: FakeCustomCat
    shineon: FakeShineOn | None
    numbers: list[str]
    elapsed_s: float
    submitted: int
    failed: int
    rush: list[str] = field(default_factory=list)
    """The rush orders' numbers (a tenth, with --mixed)."""
    started: datetime | None = None
    """When the countdown began working on the backlog."""

    @property
    def fakes(self) -> list[FakeCustomCat | FakeShineOn]:
        return [f for f in (self.customcat, self.shineon) if f is not None]


def _order(number: str, placed: datetime, lines: str, rush: bool = False) -> IncomingOrder:
    """An order with a tee (`t`), a mug (`m`) or both (`tm`); `rush`: paid for Express."""
    tee = IncomingLineItem(f"li-{number}-1", "TEE-BLK-M", "Custom Tee", 2, Decimal("19.00"))
    mug = IncomingLineItem(f"li-{number}-2", "MUG-11OZ", "Photo Mug", 1, Decimal("4.50"))
    items = [item for item, code in ((tee, "t"), (mug, "m")) if code in lines]
    method = RUSH_METHOD if rush else "Standard Shipping"
    return factories.incoming(
        number,
        customer_phone="+1 217 555 0100",
        placed_at=placed,
        items=items,
        shipping_method=method,
    )


def _lines(index: int, mixed: bool) -> str:
    """Without --mixed every order has both lines (all to CustomCat, as before); with it a
    third are mixed carts and the rest go to one provider each, in turn."""
    if not mixed:
        return "tm"
    return ("tm", "t", "m")[index % MIXED_EVERY]


def seed(db: Database, policy: ShopPolicy, *, mixed: bool, count: int = ORDERS) -> list[str]:
    placed = datetime.now(UTC) - timedelta(hours=2)
    numbers = [str(100000 + n) for n in range(count)]
    batch = [
        _order(n, placed, _lines(i, mixed), rush=mixed and i % RUSH_EVERY == 0)
        for i, n in enumerate(numbers)
    ]
    with db.unit_of_work() as session:
        services.receive_orders(session, batch, policy, factories.SYSTEM)
    with db.unit_of_work() as session:
        for item in session.scalars(select(LineItem)):
            item.print_file = f"https://cdn.example/print/{item.order_id}-{item.position}.png"
            item.print_file_current = True
    return numbers


def busiest_second(times: list[float]) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def _provider(kind: str, base_url: str, key: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "base_url": base_url,
        "api_key": key,
        "rate_limit_per_s": RATE,
        "concurrency": CONCURRENCY,
    }


def run(*, mixed: bool) -> Run:
    customcat = FakeCustomCat(reject_duplicates=False).start()
    shineon = FakeShineOn(reject_duplicates=False).start() if mixed else None
    for fake in (customcat, shineon):
        if fake is not None:
            fake.latency_s = LATENCY_S
    folder = Path(tempfile.mkdtemp(prefix="podops-bench-submit-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    db = Database(url)
    db.upgrade()
    providers = {"cc": _provider("customcat", customcat.base_url, API_KEY)}
    rules: list[RoutingRule] = []
    if shineon is not None:
        providers["so"] = _provider("shineon", shineon.url, TOKEN)
        rules = [
            RoutingRule(sku="TEE-*", provider="cc", provider_sku="CC-TEE"),
            RoutingRule(sku="MUG-*", provider="so", provider_sku="SO-MUG"),
        ]
    store: dict[str, Any] = {"platform": "sandbox", "default_provider": "cc", "countdown_hours": 1}
    if mixed:  # Express has no countdown; each provider has its method for each speed
        store = rush_store("cc", countdown_hours=1, rush_hours=0)
        store["shipping"]["providers"]["so"] = {"standard": "Standard", "express": "Express"}
    settings = Settings(
        data_dir=folder,
        database={"url": url},
        stores={"main": store},
        routing=rules,
        providers=providers,
    )  # type: ignore[arg-type]
    numbers = seed(db, ShopPolicy.from_settings(settings), mixed=mixed)
    adapters, clients = build_providers(settings, links=_Links())
    service = build_submission(db, settings, provider_roster(settings, adapters))
    started, started_at = time.monotonic(), datetime.now(UTC)
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
    for fake in (customcat, shineon):
        if fake is not None:
            fake.stop()
    rush = numbers[::RUSH_EVERY] if mixed else []
    return Run(db, customcat, shineon, numbers, elapsed, submitted, failed, rush, started_at)


# The figures: one function each, of the finished run.


def throughput(result: Run) -> dict[str, Figure]:
    rate = round(result.submitted / result.elapsed_s, 1)
    name = "orders_per_s_mixed" if result.shineon is not None else "orders_per_s"
    return {name: {"value": rate, "unit": "orders/s", "target": ">= 20"}}


def duplicates(result: Run) -> dict[str, Figure]:
    """Provider orders beyond one per reference, counted at every fake."""
    count = sum(fake.duplicates() for fake in result.fakes)
    return {"duplicates": {"value": count, "unit": "orders", "target": "== 0"}}


def peak_requests(result: Run) -> dict[str, Figure]:
    """Each provider's busiest second (its own limit applies to it alone)."""
    peak = max(busiest_second(fake.request_times) for fake in result.fakes)
    return {"peak_requests_per_s": {"value": peak, "unit": "requests/s", "target": f"<= {RATE:g}"}}


def rush_late_figure(result: Run) -> dict[str, Figure]:
    """Rush orders that left more than RUSH_SLACK_S after the countdown started (--mixed)."""
    if not result.rush or result.started is None:
        return {}
    with result.db.unit_of_work() as session:
        marked = session.scalar(select(func.count()).select_from(Order).where(Order.rush))
    if marked != len(result.rush):  # a figure over orders that are not rush would mean nothing
        raise SystemExit(f"{marked} orders are rush, {len(result.rush)} were sent as rush")
    late = rush_late(result.db, started=result.started, slack=timedelta(seconds=RUSH_SLACK_S))
    return {"rush_late": {"value": late, "unit": "orders", "target": "== 0"}}


FIGURES: list[Callable[[Run], dict[str, Figure]]] = [
    throughput,
    duplicates,
    peak_requests,
    rush_late_figure,
]


def report(result: Run) -> dict[str, Figure]:
    figures: dict[str, Figure] = {}
    for figure in FIGURES:
        figures.update(figure(result))
    parts = sum(fake.created.total() for fake in result.fakes)
    mixed = result.shineon is not None
    carts = f" (every {MIXED_EVERY}rd a mixed cart)" if mixed else ""
    print(f"{'orders':<28}{ORDERS}{carts}")
    print(f"{'submitted / failed':<28}{result.submitted} / {result.failed}")
    print(f"{'provider orders made':<28}{parts}")
    print(f"{'elapsed':<28}{result.elapsed_s:.2f} s")
    print(f"{'limits':<28}{RATE:g}/s and {CONCURRENCY} in flight per provider")
    for name, shown in figures.items():
        print(f"{name:<36}{shown['value']} {shown['unit']}  (target {shown['target']})")
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument(
        "--mixed",
        action="store_true",
        help="a third of the orders have lines for two providers (CustomCat and ShineOn)",
    )
    choice.add_argument(
        "--provider",
        choices=sorted(PROVIDER_BENCHES),
        help="200 due orders to one provider's fake at that provider's rate limit",
    )
    args = parser.parse_args(argv)  # an unknown flag or provider exits 2 with the usage
    if args.provider:
        figures = provider_report(PROVIDER_BENCHES[args.provider])
        print(json.dumps({"bench": f"submit_{args.provider}", "figures": figures}))
        return
    figures = report(run(mixed=args.mixed))
    name = "submit_mixed" if args.mixed else "submit"
    print(json.dumps({"bench": name, "figures": figures}))


# --provider: one provider at its own limit.

PROVIDER_ORDERS = 200
ONE_HOUR = {"countdown_hours": 1}


@dataclass(frozen=True)
class ProviderBench:
    """How to run one provider's fake and configure podops for it."""

    kind: str
    start_fake: Callable[[int], Any]
    """Starts the fake enforcing `limit_per_min` (where the fake can) and accepting
    duplicate references, so a double would be counted."""
    api_key: str
    tee: str
    mug: str
    requests_per_order: int = 1
    """Calls one submission makes when nothing goes wrong (Printify: create, then send
    to production): what the limit allows is limit / this."""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def limit_per_min(self) -> int:
        config = ProviderConfig.model_validate({"kind": self.kind})
        return round(config.rate_limit_per_s * 60)


def _customcat(limit: int) -> Any:
    fake = FakeCustomCat(reject_duplicates=False).start()
    return fake


def _gelato(limit: int) -> Any:
    from tests.fakes.gelato import FakeGelato

    fake = FakeGelato(limit_per_min=limit)
    fake.start()
    return fake


def _gelato_bench() -> ProviderBench:
    from tests.fakes import gelato

    return ProviderBench("gelato", _gelato, gelato.API_KEY, gelato.TEE, gelato.MUG)


def _printful(limit: int) -> Any:
    from tests.fakes.printful import FakePrintful

    return FakePrintful(per_minute=limit).start()  # refuses a repeated external_id, as Printful


def _printful_bench() -> ProviderBench:
    from tests.fakes import printful

    return ProviderBench("printful", _printful, printful.TOKEN, "4012", "1403")


def _printify(limit: int) -> Any:
    from tests.fakes.printify import FakePrintify

    return FakePrintify(per_minute=limit).start()  # takes a repeated external_id


def _printify_bench() -> ProviderBench:
    from tests.fakes import printify

    return ProviderBench(
        "printify",
        _printify,
        printify.TOKEN,
        "6:99:12100",
        "68:1:33719",
        requests_per_order=2,  # create, then send to production
        extra={"store_id": printify.SHOP_ID},
    )


PROVIDER_BENCHES: dict[str, Callable[[], ProviderBench]] = {
    "customcat": lambda: ProviderBench("customcat", _customcat, API_KEY, "CC-TEE", "CC-MUG"),
    "gelato": _gelato_bench,
    "printful": _printful_bench,
    "printify": _printify_bench,
}


@dataclass
class ProviderRun:
    bench: ProviderBench
    fake: Any
    elapsed_s: float
    submitted: int
    failed: int


def run_provider(bench: ProviderBench) -> ProviderRun:
    limit = bench.limit_per_min
    fake = bench.start_fake(limit)
    fake.latency_s = LATENCY_S
    folder = Path(tempfile.mkdtemp(prefix=f"podops-bench-{bench.kind}-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    db = Database(url)
    db.upgrade()
    base_url = getattr(fake, "base_url", fake.url)
    provider = {"kind": bench.kind, "base_url": base_url, "api_key": bench.api_key}
    provider |= {"concurrency": CONCURRENCY, **bench.extra}
    settings = Settings.model_validate(
        {
            "data_dir": folder,
            "database": {"url": url},
            "stores": {"main": {"platform": "sandbox", "default_provider": "p"} | ONE_HOUR},
            "routing": [
                {"sku": "TEE-*", "provider": "p", "provider_sku": bench.tee},
                {"sku": "MUG-*", "provider": "p", "provider_sku": bench.mug},
            ],
            "providers": {"p": provider},
        }
    )
    seed(db, ShopPolicy.from_settings(settings), mixed=False, count=PROVIDER_ORDERS)
    adapters, clients = build_providers(settings, links=_Links())
    service = build_submission(db, settings, provider_roster(settings, adapters))
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
    return ProviderRun(bench, fake, elapsed, submitted, failed)


def busiest_minute(times: list[float]) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= 60.0:
            start += 1
        best = max(best, end - start + 1)
    return best


def provider_report(make: Callable[[], ProviderBench]) -> dict[str, Figure]:
    bench = make()
    result = run_provider(bench)
    kind, limit = bench.kind, bench.limit_per_min
    allowed = limit / 60 / bench.requests_per_order
    rate = round(result.submitted / result.elapsed_s, 2)
    duplicates = result.fake.duplicates()
    peak = (
        result.fake.peak_per_minute()
        if hasattr(result.fake, "peak_per_minute")
        else busiest_minute(result.fake.request_times)
    )
    figures: dict[str, Figure] = {
        f"orders_per_s_{kind}": {
            "value": rate,
            "unit": "orders/s",
            "target": f">= {0.9 * allowed:.2f}",
        },
        "duplicates": {"value": duplicates, "unit": "orders", "target": "== 0"},
        f"peak_requests_per_min_{kind}": {
            "value": peak,
            "unit": "requests/min",
            "target": f"<= {limit}",
        },
    }
    print(f"{'provider':<28}{kind} (limit {limit}/min, {LATENCY_S * 1000:.0f} ms answers)")
    print(f"{'orders':<28}{PROVIDER_ORDERS}")
    print(f"{'submitted / failed':<28}{result.submitted} / {result.failed}")
    print(f"{'elapsed':<28}{result.elapsed_s:.1f} s")
    print(f"{'the limit allows':<28}{allowed:.2f} orders/s")
    for name, shown in figures.items():
        print(f"{name:<36}{shown['value']} {shown['unit']}  (target {shown['target']})")
    return figures


class _Links:
    def url_for(self, print_file: str) -> str:
        return print_file


if __name__ == "__main__":
    main()
