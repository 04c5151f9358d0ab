"""Polling a Shopify shop through the real client and the receive path."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from podops import services
from podops.db import Database
from podops.models import Order, Store
from podops.runtime.status_report import shopify_window_notes
from podops.status import OrderStatus
from sync.intake import sync_one
from tests.factories import SYSTEM
from tests.fakes.shopify import FakeShopify
from tests.intake.shopify_setup import shopify_runtime


@pytest.fixture
def shop() -> Iterator[FakeShopify]:
    with FakeShopify() as fake:
        yield fake


def _orders(db: Database) -> dict[str, Order]:
    with db.reading() as session:
        found = session.scalars(select(Order)).all()
        for order in found:
            _ = [(i.sku, i.quantity, dict(i.personalization)) for i in order.items]
        return {o.number: o for o in found}


def test_a_pass_takes_orders_with_their_personalization_and_refunds(
    db: Database, tmp_path: Path, shop: FakeShopify
) -> None:
    shop.state.add_order(1001, lines=[
        {"sku": "TEE-1", "quantity": 2, "current": 1, "properties": {"Name": "Ada"}},
        {"sku": "MUG-1", "quantity": 1, "current": 0},
    ])  # fmt: skip
    shop.state.add_order(1002, financial="PENDING")
    runtime = shopify_runtime(db, tmp_path, shop)
    report = sync_one(runtime, "shop")
    assert report.error is None and report.created == 1
    assert report.skipped == {"pending": 1}
    order = _orders(db)["1001"]  # `#1001` in Shopify; staff type 1001 or #1001
    [line] = order.items  # the mug was refunded whole: never made
    assert (line.sku, line.quantity, line.personalization) == ("TEE-1", 1, {"name": "Ada"})


def test_a_cancellation_in_shopify_cancels_the_order(
    db: Database, tmp_path: Path, shop: FakeShopify
) -> None:
    placed = shop.state.add_order(1003)
    runtime = shopify_runtime(db, tmp_path, shop)
    sync_one(runtime, "shop")
    shop.state.cancel(placed)
    sync_one(runtime, "shop")
    assert _orders(db)["1003"].status == OrderStatus.CANCELLED


def test_an_order_the_merchant_fulfils_in_shopify_is_held_not_sent_again(
    db: Database, tmp_path: Path, shop: FakeShopify
) -> None:
    """Shipped from stock in Shopify's admin during the countdown: the financial status
    stays `paid`, so podops read nothing and sent it to the provider as well."""
    placed = shop.state.add_order(1004)
    runtime = shopify_runtime(db, tmp_path, shop)
    sync_one(runtime, "shop")
    assert _orders(db)["1004"].status == OrderStatus.PENDING
    shop.state.fulfil_by_hand(placed)
    sync_one(runtime, "shop")
    held = _orders(db)["1004"]
    assert held.status == OrderStatus.ON_HOLD and held.store_status == "fulfilled"
    assert "the shop set it to 'fulfilled'" in (held.hold_reason or "")


def test_an_order_the_merchant_fulfils_after_submission_tells_staff(
    db: Database, tmp_path: Path, shop: FakeShopify
) -> None:
    placed = shop.state.add_order(1007)
    runtime = shopify_runtime(db, tmp_path, shop)
    sync_one(runtime, "shop")
    with db.unit_of_work() as session:
        order = services.get_order(session, "1007")
        services.begin_submit(session, order, services.plan_fulfillments(session, order), SYSTEM)
    with db.unit_of_work() as session:
        order = services.get_order(session, "1007")
        services.mark_submitted(session, order, order.parts[0], SYSTEM, provider_order_id="P-1")
    shop.state.fulfil_by_hand(placed)
    sync_one(runtime, "shop")
    order = _orders(db)["1007"]
    assert order.status == OrderStatus.SUBMITTED
    assert any("the shop set it to 'fulfilled' after submission" in p for p in order.problems)


def test_a_first_sync_skips_orders_the_merchant_already_fulfilled(
    db: Database, tmp_path: Path, shop: FakeShopify
) -> None:
    done = shop.state.add_order(1005, updated_at=datetime.now(UTC) - timedelta(days=2))
    shop.state.fulfil_by_hand(done)
    shop.state.add_order(1006)
    part = shop.state.add_order(1008, lines=[{"sku": "TEE-1"}, {"sku": "MUG-1"}])
    shop.state.fulfil_by_hand(part, first=1)
    report = sync_one(shopify_runtime(db, tmp_path, shop), "shop")
    assert report.created == 2 and report.skipped == {"fulfilled": 1}
    orders = _orders(db)
    assert sorted(orders) == ["1006", "1008"]
    held = orders["1008"]  # the rest is still to make: received, held for a person
    assert held.status == OrderStatus.ON_HOLD and held.store_status == "partially_fulfilled"
    assert "fulfilled some of its items itself" in (held.hold_reason or "")


def test_pages_shrink_to_fit_shopify_cost_limit(
    db: Database, tmp_path: Path, shop: FakeShopify
) -> None:
    for number in range(30):
        shop.state.add_order(2000 + number)
    runtime = shopify_runtime(db, tmp_path, shop)
    report = sync_one(runtime, "shop")
    assert report.created == 30 and report.error is None
    assert runtime.store_client("shop").page_size < 250  # type: ignore[attr-defined]


def test_a_failed_pass_keeps_the_cursor_and_resumes_after_the_last_stored_page(
    db: Database, tmp_path: Path, shop: FakeShopify
) -> None:
    for number in range(5):
        shop.state.add_order(
            3000 + number, updated_at=datetime.now(UTC) - timedelta(minutes=10 - number)
        )
    runtime = shopify_runtime(db, tmp_path, shop)
    client = runtime.store_client("shop")
    client.page_size = 2  # type: ignore[attr-defined]
    shop.state.fail_after_queries = 1
    report = sync_one(runtime, "shop")
    assert report.error is not None and "Internal error" in report.error
    assert report.created == 2
    with db.reading() as session:
        store = session.scalar(select(Store).where(Store.key == "shop"))
        assert store is not None and store.sync_cursor is None
        assert "Shopify refused orders" in (store.last_error or "")
    shop.state.fail_after_queries = None
    asked_before = len(shop.state.queries)
    report = sync_one(runtime, "shop")
    assert report.error is None and report.created == 3
    assert len(shop.state.queries) - asked_before == 2  # pages 2 and 3 only
    assert len(_orders(db)) == 5


def test_status_warns_when_the_first_sync_reaches_past_60_days(
    db: Database, tmp_path: Path, shop: FakeShopify
) -> None:
    runtime = shopify_runtime(db, tmp_path, shop, first_sync_days=90)
    [note] = shopify_window_notes(runtime.settings, {})
    assert "read_all_orders" in note and "90 days" in note
    assert shopify_window_notes(runtime.settings, {"shop": datetime.now(UTC)}) == []
