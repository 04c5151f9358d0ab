"""The TEST MODE sandbox store: realistic, deterministic, and fed through the same intake."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from podops.db import Database
from podops.settings import StoreConfig
from providers.sandbox_store import ANCHOR, SandboxStore
from sync.intake import sync_one
from tests.intake.conftest import make_runtime

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _orders(store: SandboxStore, since: datetime | None = None) -> list:  # type: ignore[type-arg]
    return [o for page in store.fetch_changes(since) for o in page.orders]


def test_the_same_seed_gives_the_same_orders() -> None:
    one = SandboxStore("demo", StoreConfig(platform="sandbox"), seed=7, clock=lambda: NOW)
    two = SandboxStore("demo", StoreConfig(platform="sandbox"), seed=7, clock=lambda: NOW)
    assert [o.number for o in _orders(one)] == [o.number for o in _orders(two)]
    other = SandboxStore("demo", StoreConfig(platform="sandbox"), seed=8, clock=lambda: NOW)
    assert [o.number for o in _orders(one)] != [o.number for o in _orders(other)]


def test_a_week_of_orders_looks_like_a_real_shop() -> None:
    store = SandboxStore("demo", StoreConfig(platform="sandbox"), seed=1, clock=lambda: NOW)
    week = _orders(store, NOW - timedelta(days=7))
    countries = {o.shipping_address.get("country") for o in week}
    skus = {i.sku for o in week for i in o.items}
    assert len(week) > 400 and {"US", "GB", "DE", "FR"} <= countries
    assert any(not c.isascii() for o in week for c in o.customer_name)
    assert {s.split("-")[0] for s in skus} >= {"TEE", "MUG"}
    assert any("photo" in i.image_urls for o in week for i in o.items)
    assert any(i.problems for o in week for i in o.items), "some meta is not text"
    assert any(not o.shipping_address for o in week), "some have no address"
    assert {"processing", "on-hold", "cancelled"} <= {o.store_status for o in week}


def test_new_orders_appear_as_time_passes() -> None:
    clock = [NOW]
    store = SandboxStore("demo", StoreConfig(platform="sandbox"), seed=1, clock=lambda: clock[0])
    first = {o.number for o in _orders(store)}
    clock[0] = NOW + timedelta(hours=3)
    later = {o.number for o in _orders(store, NOW)}
    assert later - first, "orders placed in the three hours since are new"


def test_sandbox_orders_go_through_the_same_intake(db: Database, tmp_path: Path) -> None:
    runtime = make_runtime(db, tmp_path, {"demo": StoreConfig(platform="sandbox")})
    report = sync_one(runtime, "demo")
    assert report.created > 20 and report.error is None
    assert sync_one(runtime, "demo").created == 0


def test_a_newly_opened_test_shop_soon_gets_an_order_that_needs_staff() -> None:
    """Whatever the seed, the demo always has a mug whose customer skipped the message."""
    opened = NOW - timedelta(seconds=6)
    for seed in range(20):
        config = StoreConfig(platform="sandbox", sandbox_every_s=2, sandbox_opened_at=opened)
        store = SandboxStore("demo", config, seed=seed, clock=lambda: NOW)
        orders = _orders(store)
        assert orders, f"seed {seed}: no order after opening"
        waiting = [
            order
            for order in orders
            if order.items[0].sku.startswith("MUG")
            and "message" not in order.items[0].personalization
            and order.store_status == "processing"
        ]
        assert waiting, f"seed {seed}: no mug without its message"


def test_a_newly_opened_test_shop_soon_gets_an_order_without_a_shipping_address() -> None:
    """Whatever the seed, the demo has an order for staff to give its address to, and it
    arrives after the first sync (so it is not held as an order from before podops)."""
    opened, later = NOW - timedelta(seconds=6), NOW + timedelta(seconds=8)
    for seed in range(20):
        config = StoreConfig(platform="sandbox", sandbox_every_s=2, sandbox_opened_at=opened)
        store = SandboxStore("demo", config, seed=seed, clock=lambda: later)
        blank = [o for o in _orders(store) if not o.shipping_address and o.placed_at > NOW]
        assert blank, f"seed {seed}: no order without an address after the first sync"


def stopped_at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def test_the_opening_order_needs_nothing_from_staff_but_its_message() -> None:
    """The opening order is the one the demo's staff fix on screen: it never also
    carries one of the shop's deliberate problems (no address, an unknown product),
    which would hold it and leave the demo without its staff edit."""
    for minutes in range(400):  # 400 shops opened a minute apart: 400 opening slots
        opened = NOW - timedelta(minutes=minutes, seconds=6)
        config = StoreConfig(platform="sandbox", sandbox_every_s=2, sandbox_opened_at=opened)
        later = stopped_at(opened + timedelta(seconds=10))
        store = SandboxStore("demo", config, seed=1, clock=later)
        opening = f"T{int((opened - ANCHOR) / timedelta(seconds=2)) + 1}"
        first = next(o for o in _orders(store, opened) if o.number == opening)
        assert first.shipping_address, f"opened {opened}: the opening order has no address"
        assert not first.problems and not first.items[0].problems, (opened, first.problems)
        assert first.items[0].sku.startswith("MUG") and first.store_status == "processing"
