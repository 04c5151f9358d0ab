"""What the shop does to an order reaches podops before it does harm: old orders
found by a store's first sync wait for staff, a back-dated file import gets its
full countdown, and an order put on hold in the shop is held here too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from podops import services
from podops.cli.main import main
from podops.db import Database
from podops.models import Event, Order
from podops.runtime.root import Runtime
from podops.services.receiving import UNWATCHED_REASON
from podops.status import OrderStatus
from sync.intake import sync_one
from tests.factories import STAFF, SYSTEM
from tests.fakes.woocommerce import FakeWooCommerce
from tests.fakes.woocommerce_orders import sample_order

NOW = datetime.now(UTC)


@pytest.fixture(autouse=True)
def _now_is_when_the_test_runs() -> None:
    """The store's cursor follows the wall clock, so "now" must be the test's
    own moment, not the suite's collection time (minutes earlier under load)."""
    global NOW
    NOW = datetime.now(UTC)


def _order(session_db: Database, number: str) -> Order:
    with session_db.unit_of_work() as session:
        order = services.get_order(session, number)
        session.expunge(order)
        return order


def test_the_first_sync_holds_orders_already_due_and_later_syncs_do_not(
    shop: FakeWooCommerce, runtime: Runtime
) -> None:
    shop.add(
        sample_order(1001, created=NOW - timedelta(days=20)),  # inside the first-sync window
        sample_order(1002, created=NOW - timedelta(hours=1)),
    )
    report = sync_one(runtime, "main")
    assert report.created == 2 and report.flagged == ["1001"]
    old, fresh = _order(runtime.db, "1001"), _order(runtime.db, "1002")
    assert old.status == OrderStatus.ON_HOLD and old.hold_reason == UNWATCHED_REASON
    assert fresh.status == OrderStatus.PENDING
    with runtime.db.unit_of_work() as session:
        services.release(session, "1001", STAFF)
    assert _order(runtime.db, "1001").status == OrderStatus.PENDING

    shop.add(sample_order(1003, created=NOW - timedelta(days=3), modified=NOW))
    assert sync_one(runtime, "main").created == 1
    assert _order(runtime.db, "1003").status == OrderStatus.PENDING


def test_a_back_dated_file_import_gets_its_full_countdown(
    tmp_path: Path, db: Database, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "podops.toml"
    config.write_text(
        f'data_dir = "."\n[database]\nurl = "{db_url}"\n'
        '[[routing]]\nsku = "TEE-*"\nprovider = "manual"\n',
        encoding="utf-8",
    )
    orders_csv = tmp_path / "orders.csv"
    orders_csv.write_text(
        "order_number,placed_at,address1,country,sku,quantity,p:name\n"
        "ETSY-9,2026-01-02 10:00,1 Rd,GB,TEE-WHT-L,1,Ana\n",
        encoding="utf-8",
    )
    before = datetime.now(UTC)
    assert main(["--config", str(config), "orders", "import", str(orders_csv)]) == 0, (
        capsys.readouterr().out
    )
    order = _order(db, "ETSY-9")
    assert order.status == OrderStatus.PENDING
    assert order.placed_at == datetime(2026, 1, 2, 10, 0, tzinfo=UTC)
    assert order.submit_at >= before + timedelta(hours=24)


def _by_store_id(db: Database, external_id: str) -> Order:
    with db.unit_of_work() as session:
        order = session.scalars(select(Order).where(Order.external_id == external_id)).one()
        session.expunge(order)
        return order


def test_an_order_held_in_the_shop_is_held_here_until_the_shop_releases_it(
    shop: FakeWooCommerce, runtime: Runtime
) -> None:
    """Also for an order number that staff could not type as a reference."""
    raw = sample_order(1001, created=NOW - timedelta(hours=1))
    raw["number"] = "WC 1001/A"
    shop.add(raw)
    sync_one(runtime, "main")
    shop.state.touch(1001, status="on-hold")
    assert sync_one(runtime, "main").updated == 1
    held = _by_store_id(runtime.db, "1001")
    assert held.status == OrderStatus.ON_HOLD
    assert held.hold_reason is not None and "'on-hold'" in held.hold_reason
    shop.state.touch(1001, status="processing")
    sync_one(runtime, "main")
    released = _by_store_id(runtime.db, "1001")
    assert released.status == OrderStatus.PENDING and released.hold_reason is None
    assert released.submit_at > datetime.now(UTC) + timedelta(hours=22), "countdown kept"


def test_a_staff_hold_stays_when_the_shop_goes_back_to_processing(
    shop: FakeWooCommerce, runtime: Runtime
) -> None:
    shop.add(sample_order(1001, created=NOW - timedelta(hours=1)))
    sync_one(runtime, "main")
    with runtime.db.unit_of_work() as session:
        services.hold(session, "1001", STAFF, "customer asked to wait")
    shop.state.touch(1001, status="on-hold")
    sync_one(runtime, "main")
    shop.state.touch(1001, status="processing")
    sync_one(runtime, "main")
    order = _order(runtime.db, "1001")
    assert order.status == OrderStatus.ON_HOLD and order.hold_reason == "customer asked to wait"


def test_a_hold_in_the_shop_after_submission_is_a_problem_for_staff(
    shop: FakeWooCommerce, runtime: Runtime
) -> None:
    shop.add(sample_order(1001, created=NOW - timedelta(hours=1)))
    sync_one(runtime, "main")
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, "1001")
        services.begin_submit(session, order, services.plan_fulfillments(session, order), SYSTEM)
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, "1001")
        services.mark_submitted(session, order, order.parts[0], SYSTEM, provider_order_id="P-1")
    shop.state.touch(1001, status="on-hold")
    sync_one(runtime, "main")
    order = _order(runtime.db, "1001")
    assert order.status == OrderStatus.SUBMITTED
    assert any("'on-hold' after submission" in p for p in order.problems)
    with runtime.db.unit_of_work() as session:
        actions = session.scalars(select(Event.action).where(Event.order_id == order.id)).all()
    assert "store_held_after_submission" in actions
