"""Polling a shop: countdown per store, skipped statuses, shop-side cancellations,
flagged-not-dropped orders, and a shop that is down losing nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from podops import services
from podops.db import Database
from podops.models import Event, Order, Store
from podops.runtime.root import Runtime
from podops.status import OrderStatus
from sync.intake import jobs, sync_one
from tests.factories import SYSTEM
from tests.fakes.woocommerce import FakeWooCommerce
from tests.fakes.woocommerce_orders import sample_order
from tests.intake.conftest import make_runtime, store_config

AN_HOUR_AGO = datetime.now(UTC) - timedelta(hours=1)


def _order(order_id: int, **kwargs: object) -> dict[str, object]:
    return sample_order(
        order_id, created=AN_HOUR_AGO + timedelta(seconds=order_id % 1000), **kwargs
    )  # type: ignore[arg-type]


def _status(db: Database, number: str) -> OrderStatus:
    with db.unit_of_work() as session:
        return OrderStatus(services.get_order(session, number).status)


def test_processing_orders_enter_the_countdown_and_others_are_counted(
    shop: FakeWooCommerce, runtime: Runtime
) -> None:
    shop.add(_order(1001), _order(1002, status="on-hold"), _order(1003, status="completed"))
    report = sync_one(runtime, "main")
    assert (report.fetched, report.created) == (3, 1)
    assert dict(report.skipped) == {"on-hold": 1, "completed": 1}
    assert _status(runtime.db, "1001") == OrderStatus.PENDING
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, "1001")
        assert order.submit_at == order.placed_at + timedelta(hours=24)
        assert order.total == order.total.__class__("43.90")
        assert order.items[0].personalization == {"name": "Zoë"}


def test_an_on_hold_order_is_imported_once_the_shop_moves_it_to_processing(
    shop: FakeWooCommerce, runtime: Runtime
) -> None:
    shop.add(_order(1002, status="on-hold"))
    assert sync_one(runtime, "main").created == 0
    shop.state.touch(1002, status="processing")
    assert sync_one(runtime, "main").created == 1


def test_a_second_poll_changes_nothing(shop: FakeWooCommerce, runtime: Runtime) -> None:
    shop.add(*(_order(1000 + i) for i in range(120)))
    assert sync_one(runtime, "main").created == 120
    again = sync_one(runtime, "main")
    assert (again.created, again.updated) == (0, 0)
    with runtime.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 120
        store = session.scalar(select(Store).where(Store.key == "main"))
        assert store is not None and store.last_synced_at is not None and store.sync_cursor


def test_a_cancellation_in_the_shop_cancels_a_waiting_order(
    shop: FakeWooCommerce, runtime: Runtime
) -> None:
    shop.add(_order(1001))
    sync_one(runtime, "main")
    shop.state.touch(1001, status="cancelled")
    assert sync_one(runtime, "main").updated == 1
    assert _status(runtime.db, "1001") == OrderStatus.CANCELLED


def test_a_refund_after_submission_raises_an_alert(shop: FakeWooCommerce, runtime: Runtime) -> None:
    shop.add(_order(1001))
    sync_one(runtime, "main")
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, "1001")
        services.begin_submit(session, order, services.plan_fulfillments(session, order), SYSTEM)
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, "1001")
        services.mark_submitted(session, order, order.parts[0], SYSTEM, provider_order_id="P-1")
    shop.state.touch(1001, status="refunded")
    sync_one(runtime, "main")
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, "1001")
        assert order.status == OrderStatus.SUBMITTED
        assert any("refunded in the store" in p for p in order.problems)
        actions = session.scalars(select(Event.action).where(Event.order_id == order.id)).all()
        assert "store_cancelled_after_submission" in actions


def test_bad_orders_are_imported_and_flagged_with_the_reason(
    shop: FakeWooCommerce, runtime: Runtime
) -> None:
    blank = {k: "" for k in ("first_name", "last_name", "address_1", "city", "postcode", "country")}
    absurd = [
        {"id": 1, "key": "Name", "value": {"first": "x"}, "display_key": "Name"},
        {"id": 2, "key": "Message", "value": "x" * 501},
    ]
    shop.add(
        _order(1001, shipping=blank),
        _order(1002, sku="HAT-RED"),
        _order(1003, meta=absurd),
        _order(1004, meta=[{"id": 1, "key": "Name", "value": "bad\x07bell"}]),
    )
    report = sync_one(runtime, "main")
    assert report.created == 4 and sorted(report.flagged) == ["1001", "1002", "1003", "1004"]
    with runtime.db.unit_of_work() as session:
        problems = {
            n: services.get_order(session, n).problems for n in ("1001", "1002", "1003", "1004")
        }
    assert "no shipping address" in problems["1001"]
    assert "line 1: no routing rule for SKU HAT-RED" in problems["1002"]
    assert problems["1003"] == [
        "line 1: meta 'Name' is not text",
        "line 1: meta 'Message' is not text",
    ]
    assert problems["1004"] == ["line 1: meta 'Name' is not text"]
    assert _status(runtime.db, "1003") == OrderStatus.ON_HOLD


def test_a_shop_that_is_down_delays_intake_and_loses_nothing(
    shop: FakeWooCommerce, runtime: Runtime
) -> None:
    shop.add(*(_order(1000 + i) for i in range(5)))
    sync_one(runtime, "main")
    now = datetime.now(UTC)
    shop.add(*(sample_order(2000 + i, created=now + timedelta(seconds=i)) for i in range(150)))
    shop.state.down = True
    down = sync_one(runtime, "main")
    assert down.error and "503" in down.error
    with runtime.db.unit_of_work() as session:
        store = session.scalar(select(Store).where(Store.key == "main"))
        assert store is not None and store.last_error == down.error
    shop.state.down = False
    shop.fail_next(1, status=500)
    recovered = sync_one(runtime, "main")
    assert recovered.error is None and recovered.created == 150
    with runtime.db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 155
        store = session.scalar(select(Store).where(Store.key == "main"))
        assert store is not None and store.last_error is None


def test_each_store_has_its_own_countdown_and_poll_job(
    db: Database, tmp_path: Path, shop: FakeWooCommerce
) -> None:
    rt = make_runtime(
        db,
        tmp_path,
        {
            "main": store_config(shop.url),
            "rush": store_config(shop.url, countdown_hours=2, poll_minutes=1),
        },
    )
    rt.__dict__["policy"] = rt.policy.__class__.from_settings(rt.settings)
    shop.add(_order(1001))
    sync_one(rt, "rush")
    with rt.db.unit_of_work() as session:
        order = services.get_order(session, "rush:1001")
        assert order.submit_at == order.placed_at + timedelta(hours=2)
    specs = {spec.name: spec.trigger_args["minutes"] for spec in jobs(rt)}
    assert specs == {"intake.main": 5.0, "intake.rush": 1.0}


def test_a_sequential_number_plugin_s_number_is_received_and_reachable(
    shop: FakeWooCommerce, runtime: Runtime
) -> None:
    """WooCommerce sends `number` apart from `id`; plugins make it `2024/5001`."""
    shop.add({**_order(1001), "number": "2024/5001"})
    assert sync_one(runtime, "main").created == 1
    assert _status(runtime.db, "2024/5001") == OrderStatus.PENDING
    assert _status(runtime.db, "main:2024/5001") == OrderStatus.PENDING
