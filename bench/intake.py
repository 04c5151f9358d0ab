"""Intake benchmark: 10,000 orders (100 pages) from the fake WooCommerce shop on
loopback into a fresh SQLite database, end to end through the real client,
mapping and receive path; then 1,000 store status changes drained from the outbox.

Prints a table, the share of time spent waiting on the server versus in our own
code (measured by timing every HTTP exchange in the transport), optionally a
profile (--profile), and one JSON line with `orders_per_s` and `pushback_per_s`.

`--platform shopify [--orders N]`: N orders (10,000 by default) from the fake
Shopify shop with its cost bucket at 100 points/s; figures `shopify_orders_per_s`
(against what the bucket allows for the points the orders cost) and
`shopify_throttled` (throttled answers; 0 when paced).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import cProfile
import json
import pstats
import ssl
import tempfile
import time
from datetime import UTC, datetime, timedelta

import httpx
from pydantic import SecretStr

from podops import services
from podops.db import Database
from podops.events import Actor, Channel
from podops.runtime.root import Runtime
from podops.settings import PersonalizationMapping, RoutingRule, Settings, StoreConfig
from providers.woocommerce import WooCommerceStore, build_client
from sync.intake import sync_one
from sync.pushback import drain
from tests.fakes.woocommerce import CONSUMER_KEY, CONSUMER_SECRET, FakeWooCommerce
from tests.fakes.woocommerce_orders import sample_order

ORDERS = 10_000
PUSHES = 1_000


class TimedTransport(httpx.BaseTransport):
    """Counts the wall time spent in HTTP exchanges (sending, waiting, reading the body)."""

    def __init__(self, verify: str) -> None:
        # the shop's test CA: the fake serves TLS, as real shops do
        self.inner = httpx.HTTPTransport(verify=ssl.create_default_context(cafile=verify))
        self.seconds = 0.0
        self.requests = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        response = self.inner.handle_request(request)
        body = response.read()
        self.seconds += time.perf_counter() - started
        self.requests += 1
        return httpx.Response(response.status_code, headers=response.headers, content=body)

    def close(self) -> None:
        self.inner.close()


def build(shop: FakeWooCommerce, folder: Path) -> tuple[Runtime, TimedTransport]:
    config = StoreConfig(
        platform="woocommerce",
        url=shop.url,
        ca_bundle=shop.ca_bundle,
        consumer_key=SecretStr(CONSUMER_KEY),
        consumer_secret=SecretStr(CONSUMER_SECRET),
        personalization=PersonalizationMapping(fields={"Name": "name"}),
    )
    settings = Settings(
        data_dir=folder,
        stores={"main": config},
        routing=[RoutingRule(sku="TEE-*", provider="manual", product_key="tee_front")],
    )
    runtime = Runtime(settings)
    db = Database(f"sqlite:///{folder / 'bench.db'}")
    db.upgrade()
    runtime.__dict__["db"] = db
    transport = TimedTransport(verify=shop.ca_bundle)
    client = build_client("main", config, transport=transport)
    runtime._store_clients[1]["main"] = WooCommerceStore("main", config, client)
    return runtime, transport


def bench_intake(
    runtime: Runtime, transport: TimedTransport, shop: FakeWooCommerce, profile: bool
) -> dict[str, float]:
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    report = sync_one(runtime, "main")
    if profiler:
        profiler.disable()
    elapsed = time.perf_counter() - started
    assert report.error is None and report.created == ORDERS, report
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    return {
        "elapsed": elapsed,
        "http": transport.seconds,
        "server": shop.state.busy_s,
        "requests": transport.requests,
    }


def bench_pushback(runtime: Runtime, transport: TimedTransport) -> dict[str, float]:
    staff = Actor("bench", Channel.CLI)
    with runtime.db.unit_of_work() as session:
        for number in range(1000, 1000 + PUSHES):
            services.cancel(session, str(number), staff, "bench")
    transport.seconds, transport.requests = 0.0, 0
    started = time.perf_counter()
    delivered = drain(runtime, rounds=100).delivered
    elapsed = time.perf_counter() - started
    assert delivered == PUSHES, delivered
    return {"elapsed": elapsed, "http": transport.seconds, "requests": transport.requests}


def bench_shopify(count: int) -> None:
    """`--platform shopify`: `count` orders from the fake Shopify shop (cost bucket 100
    points/s, Shopify's Standard plan) through the real client and receive path."""
    from providers.shopify import ShopifyStore
    from providers.shopify import build_client as shopify_client
    from tests.fakes.shopify import ACCESS_TOKEN, FakeShopify

    start = datetime.now(UTC) - timedelta(days=2)
    with tempfile.TemporaryDirectory() as tmp, FakeShopify(restore_rate=100.0) as shop:
        for i in range(count):
            shop.state.add_order(1000 + i, updated_at=start + timedelta(seconds=i),
                                 lines=[{"properties": {"Name": f"N{i}"}}])  # fmt: skip
        config = StoreConfig(
            platform="shopify", url=shop.url, shop="bench.myshopify.com",
            access_token=SecretStr(ACCESS_TOKEN), first_sync_days=30,
            personalization=PersonalizationMapping(fields={"Name": "name"}),
        )  # fmt: skip
        settings = Settings(
            data_dir=Path(tmp), stores={"shop": config},
            routing=[RoutingRule(sku="TEE-*", provider="manual", product_key="tee_front")],
        )  # fmt: skip
        runtime = Runtime(settings)
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        db.upgrade()
        runtime.__dict__["db"] = db
        store = ShopifyStore("shop", config, shopify_client("shop", config))
        runtime._store_clients[1]["shop"] = store
        charged_before = shop.state.charged
        started = time.perf_counter()
        report = sync_one(runtime, "shop")
        elapsed = time.perf_counter() - started
        assert report.error is None and report.created == count, report
        points = shop.state.charged - charged_before
        throttled = shop.state.throttled
        runtime.close()
    per_order = points / count
    burst = 1000.0  # the bucket starts full
    allowed = count / max(0.001, (points - burst) / 100.0)
    orders_per_s = count / elapsed
    print(f"{'measure':<44}{'value':>12}")
    for name, value in [
        ("orders imported", f"{count}"),
        ("page size used (orders)", f"{store.page_size}"),
        ("points charged per order", f"{per_order:.1f}"),
        ("bucket allows (orders/s at 100 points/s)", f"{allowed:.1f}"),
        ("intake wall time (s)", f"{elapsed:.1f}"),
        ("paced waiting (s)", f"{store.api.waited_s:.1f}"),
        ("orders per second", f"{orders_per_s:.1f}"),
        ("  share of what the bucket allows", f"{orders_per_s / allowed:.0%}"),
        ("throttled answers", f"{throttled}"),
    ]:
        print(f"{name:<44}{value:>12}")
    figures = {
        "shopify_orders_per_s": {"value": round(orders_per_s, 1), "unit": "orders/s",
                                 "target": f">= 90% of the bucket's {allowed:.1f}"},
        "shopify_throttled": {"value": throttled, "unit": "answers", "target": "0"},
    }  # fmt: skip
    print(json.dumps({"bench": "intake", "figures": figures}))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--platform", choices=["woocommerce", "shopify"], default="woocommerce")
    parser.add_argument("--orders", type=int, help="Shopify only: how many orders (10,000)")
    parser.add_argument("--profile", action="store_true", help="WooCommerce only: a profile")
    args = parser.parse_args(argv)  # an unknown flag exits 2 with the usage
    if args.platform == "shopify":
        if args.profile:
            parser.error("--profile is for the WooCommerce run")
        if args.orders is not None and args.orders < 1:
            parser.error("--orders must be at least 1")
        bench_shopify(args.orders or ORDERS)
        return
    if args.orders is not None:
        parser.error("--orders is for --platform shopify (the WooCommerce run is 10,000)")
    profile = args.profile
    start = datetime.now(UTC) - timedelta(days=2)
    with tempfile.TemporaryDirectory() as tmp, FakeWooCommerce() as shop:
        shop.add(
            *(sample_order(1000 + i, created=start + timedelta(seconds=i)) for i in range(ORDERS))
        )
        for order_id in shop.state.orders:
            shop.state.encoded(order_id)  # the shop's own JSON cache, warmed outside the timing
        runtime, transport = build(shop, Path(tmp))
        intake = bench_intake(runtime, transport, shop, profile)
        push = bench_pushback(runtime, transport)
        runtime.close()
    orders_per_s = ORDERS / intake["elapsed"]
    pushback_per_s = PUSHES / push["elapsed"]
    own = intake["elapsed"] - intake["http"]
    print(f"{'measure':<44}{'value':>12}")
    rows = [
        ("orders imported", f"{ORDERS}"),
        ("intake wall time (s)", f"{intake['elapsed']:.2f}"),
        ("  HTTP exchanges (s, incl. server)", f"{intake['http']:.2f}"),
        ("  of which server handler time (s)", f"{intake['server']:.2f}"),
        ("  our code: mapping + receive + db (s)", f"{own:.2f}"),
        ("  share of time in our code", f"{own / intake['elapsed']:.0%}"),
        ("orders per second", f"{orders_per_s:.0f}"),
        ("status changes pushed", f"{PUSHES} ({push['requests']} requests)"),
        ("push-back wall time (s)", f"{push['elapsed']:.2f}"),
        ("  HTTP exchanges (s)", f"{push['http']:.2f}"),
        ("changes per second", f"{pushback_per_s:.0f}"),
    ]
    for name, value in rows:
        print(f"{name:<44}{value:>12}")
    figures = {
        "orders_per_s": {"value": round(orders_per_s, 1), "unit": "orders/s", "target": ">= 2000"},
        "pushback_per_s": {"value": round(pushback_per_s, 1), "unit": "changes/s", "target": ""},
    }
    print(json.dumps({"bench": "intake", "figures": figures}))


if __name__ == "__main__":
    main()
