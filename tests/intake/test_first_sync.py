"""The first sync reads a window, not the shop's whole history, and a pass that
fails on page N resumes at page N: every order arrives once, and the cursor only
moves when a pass completes."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from podops.db import Database
from podops.intake.passes import IntakeReport
from podops.models import Order, Store
from podops.ports.store import OrderPage
from podops.runtime.root import Runtime
from sync.intake import sync_one
from tests.fakes.woocommerce import FakeWooCommerce
from tests.fakes.woocommerce_orders import sample_order
from tests.intake.conftest import FAST_RETRY, make_runtime, store_config

NOW = datetime.now(UTC)


@pytest.fixture(autouse=True)
def _now_is_when_the_test_runs() -> None:
    """The store's cursor follows the wall clock, so "now" must be the test's
    own moment, not the suite's collection time (minutes earlier under load)."""
    global NOW
    NOW = datetime.now(UTC)


def _fill(shop: FakeWooCommerce, count: int) -> None:
    start = NOW - timedelta(days=2)
    shop.add(*(sample_order(1000 + i, created=start + timedelta(seconds=i)) for i in range(count)))


def _cursor(db: Database) -> datetime | None:
    with db.unit_of_work() as session:
        return session.scalar(select(Store.sync_cursor).where(Store.key == "main"))


def _orders(db: Database) -> int:
    with db.unit_of_work() as session:
        return session.scalar(select(func.count()).select_from(Order)) or 0


def _fail_page_3(shop: FakeWooCommerce) -> object:
    def on_page(report: IntakeReport, page: OrderPage) -> None:
        if page.page == 2:
            shop.fail_next(FAST_RETRY.attempts, status=500, method="GET")

    return on_page


def test_a_pass_that_fails_on_page_3_resumes_at_page_3(
    shop: FakeWooCommerce, runtime: Runtime, db: Database
) -> None:
    _fill(shop, 450)
    failed = sync_one(runtime, "main", on_page=_fail_page_3(shop))  # type: ignore[arg-type]
    assert failed.error and failed.pages == 2
    assert _cursor(db) is None, "the cursor moves only when a pass completes"
    assert _orders(db) == 200
    shop.state.pages.clear()
    resumed = sync_one(runtime, "main")
    assert resumed.error is None
    assert shop.state.pages == [3, 4, 5]
    assert Counter(shop.state.served) == Counter(range(1000, 1450)), "every order once"
    assert _orders(db) == 450 and _cursor(db) is not None
    shop.state.pages.clear()
    sync_one(runtime, "main")
    assert shop.state.pages == [1], "a completed pass leaves no position behind"


def test_a_list_that_shrank_while_paused_is_read_again_from_page_1(
    shop: FakeWooCommerce, runtime: Runtime, db: Database
) -> None:
    _fill(shop, 450)
    sync_one(runtime, "main", on_page=_fail_page_3(shop))  # type: ignore[arg-type]
    with shop.state.lock:
        del shop.state.orders[1000]  # deleted in the shop: later orders move back a place
    shop.state.pages.clear()
    assert sync_one(runtime, "main").error is None
    assert shop.state.pages == [3, 1, 2, 3, 4, 5]
    assert _orders(db) == 450, "the order that moved back onto page 2 was not missed"


def test_the_first_sync_reads_the_last_30_days_only(
    shop: FakeWooCommerce, runtime: Runtime, db: Database
) -> None:
    shop.add(
        sample_order(1001, created=NOW - timedelta(days=45)),
        sample_order(1002, created=NOW - timedelta(days=10)),
    )
    assert sync_one(runtime, "main").fetched == 1
    assert shop.state.served == [1002]


def test_the_first_sync_window_is_a_setting_and_0_reads_everything(
    shop: FakeWooCommerce, db: Database, tmp_path: Path
) -> None:
    shop.add(
        sample_order(1001, created=NOW - timedelta(days=400)),
        sample_order(1002, created=NOW - timedelta(days=45)),
    )
    stores = {
        "wide": store_config(shop.url, first_sync_days=60),
        "all": store_config(shop.url, first_sync_days=0),
    }
    runtime = make_runtime(db, tmp_path, stores)
    assert sync_one(runtime, "wide").fetched == 1
    assert sync_one(runtime, "all").fetched == 2
