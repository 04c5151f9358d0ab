"""Push-back through the outbox: tracking and status reach the shop once, our order
completes when the shop accepts it, and a shop that is down only delays it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update

from podops import services
from podops.db import Database
from podops.events import Actor, Channel
from podops.intake.passes import receive_batch
from podops.models import Event, Order, OutboxMessage
from podops.runtime.root import Runtime
from podops.settings import StoreConfig
from podops.status import OrderStatus
from providers.sandbox_store import SandboxStore
from sync.intake import sync_one
from sync.pushback import drain, jobs
from tests.factories import STAFF, SYSTEM, incoming
from tests.fakes.woocommerce import FakeWooCommerce
from tests.fakes.woocommerce_orders import sample_order
from tests.intake.conftest import make_runtime, store_config


def shipped(runtime: Runtime, number: str) -> None:
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, number)
        services.begin_submit(session, order, services.plan_fulfillments(session, order), SYSTEM)
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, number)
        services.mark_submitted(
            session, order, order.parts[0], SYSTEM, provider_order_id=f"P-{number}"
        )
    with runtime.db.unit_of_work() as session:
        services.record_tracking(session, number, "UPS", "1Z999AA10123456784", STAFF)


def _from_shop(shop: FakeWooCommerce, runtime: Runtime, order_id: int = 1001) -> str:
    shop.add(sample_order(order_id, created=datetime.now(UTC) - timedelta(hours=1)))
    sync_one(runtime, "main")
    return str(order_id)


def _status(runtime: Runtime, number: str) -> OrderStatus:
    with runtime.db.unit_of_work() as session:
        return OrderStatus(services.get_order(session, number).status)


def _redeliver_everything(db: Database) -> None:
    """As if the outbox delivered every message a second time (at-least-once)."""
    with db.unit_of_work() as session:
        session.execute(
            update(OutboxMessage).values(delivered_at=None, next_attempt_at=datetime.now(UTC))
        )


def test_tracking_and_completion_reach_the_shop_once(
    shop: FakeWooCommerce, runtime: Runtime
) -> None:
    number = _from_shop(shop, runtime)
    shipped(runtime, number)
    assert drain(runtime).delivered == 2
    tracking = shop.state.trackings[1001]
    assert [(t["tracking_number"], t["tracking_provider"]) for t in tracking] == [
        ("1Z999AA10123456784", "UPS")
    ]
    assert "1Z999AA10123456784" in tracking[0]["tracking_link"]
    assert shop.state.orders[1001]["status"] == "completed"
    assert _status(runtime, number) == OrderStatus.COMPLETED
    with runtime.db.unit_of_work() as session:
        who = session.scalar(select(Event.channel).where(Event.action == "complete"))
        assert who == Channel.STORE.value
    _redeliver_everything(runtime.db)
    assert drain(runtime).delivered == 2
    assert len(shop.state.trackings[1001]) == 1
    assert shop.state.count("PUT", "/orders/1001") == 1
    assert shop.state.count("POST", "/shipment-trackings") == 1


def test_without_the_tracking_extension_a_customer_note_carries_the_link(
    db: Database, tmp_path: Path, shop: FakeWooCommerce
) -> None:
    shop.state.tracking_extension = False
    runtime = make_runtime(
        db, tmp_path, {"main": store_config(shop.url, has_shipment_tracking=False)}
    )
    number = _from_shop(shop, runtime)
    shipped(runtime, number)
    drain(runtime)
    _redeliver_everything(runtime.db)
    drain(runtime)
    notes = shop.state.notes[1001]
    assert len(notes) == 1 and notes[0]["customer_note"] is True
    assert (
        "UPS" in notes[0]["note"]
        and "https://www.ups.com/track?tracknum=1Z999AA10123456784" in notes[0]["note"]
    )


def test_a_shop_that_is_down_delays_push_back_and_loses_nothing(
    shop: FakeWooCommerce, runtime: Runtime
) -> None:
    number = _from_shop(shop, runtime)
    shipped(runtime, number)
    shop.state.down = True
    report = drain(runtime)
    assert report.delivered == 0 and report.retried == 1
    assert _status(runtime, number) == OrderStatus.SHIPPED
    with runtime.db.unit_of_work() as session:
        errors = session.scalars(select(OutboxMessage.last_error)).all()
        assert any(e and "503" in e for e in errors)
        session.execute(update(OutboxMessage).values(next_attempt_at=datetime.now(UTC)))
    shop.state.down = False
    assert drain(runtime).delivered == 2
    assert _status(runtime, number) == OrderStatus.COMPLETED


def test_a_staff_cancellation_is_pushed_to_the_shop(
    shop: FakeWooCommerce, runtime: Runtime
) -> None:
    number = _from_shop(shop, runtime)
    with runtime.db.unit_of_work() as session:
        services.cancel(session, number, STAFF, "out of stock")
    drain(runtime)
    assert shop.state.orders[1001]["status"] == "cancelled"
    assert sync_one(runtime, "main").updated == 1  # the shop's echo is recorded, nothing else
    assert _status(runtime, number) == OrderStatus.CANCELLED


def test_outside_orders_complete_with_nothing_to_push(db: Database, tmp_path: Path) -> None:
    runtime = make_runtime(db, tmp_path, {"etsy": StoreConfig(platform="csv")})
    with runtime.db.unit_of_work() as session:
        receive_batch(
            session,
            "etsy",
            [incoming("E-1", store="etsy")],
            runtime.policy,
            fulfil_statuses=None,
            platform="csv",
            actor=Actor("csv:t", Channel.CSV),
        )
    shipped(runtime, "E-1")
    assert drain(runtime).delivered == 2
    assert _status(runtime, "E-1") == OrderStatus.COMPLETED


def test_the_sandbox_store_records_what_was_pushed(db: Database, tmp_path: Path) -> None:
    runtime = make_runtime(db, tmp_path, {"demo": StoreConfig(platform="sandbox")})
    report = sync_one(runtime, "demo")
    assert report.created > 20
    with runtime.db.unit_of_work() as session:
        order = session.scalars(select(Order).where(Order.status == OrderStatus.PENDING)).first()
        assert order is not None
        number = order.number
    shipped(runtime, f"demo:{number}")
    drain(runtime)
    sandbox = runtime.store_client("demo")
    assert isinstance(sandbox, SandboxStore)
    pushed = sandbox.pushed()
    assert [(p["order"], p.get("status"), p.get("tracking")) for p in pushed] == [
        (order.external_id, None, "1Z999AA10123456784"),
        (order.external_id, "completed", None),
    ]
    assert (tmp_path / "sandbox-store-demo.jsonl").exists()
    assert _status(runtime, f"demo:{number}") == OrderStatus.COMPLETED


def test_the_drain_job_runs_every_few_seconds(runtime: Runtime) -> None:
    (spec,) = jobs(runtime)
    assert spec.trigger == "interval" and spec.trigger_args["seconds"] <= 5


def test_outside_orders_of_an_unconfigured_csv_store_complete(db: Database, tmp_path: Path) -> None:
    """`podops orders import` without a csv store in the config files orders under `outside`."""
    runtime = make_runtime(db, tmp_path, {})
    for store, platform, number in (("outside", "csv", "O-1"), ("ghost", "woocommerce", "G-1")):
        with runtime.db.unit_of_work() as session:
            receive_batch(
                session,
                store,
                [incoming(number, store=store)],
                runtime.policy,
                fulfil_statuses=None,
                platform=platform,
            )
        shipped(runtime, number)
    drain(runtime)
    assert _status(runtime, "O-1") == OrderStatus.COMPLETED
    assert _status(runtime, "G-1") == OrderStatus.SHIPPED, "an unknown shop is still refused"
    with runtime.db.unit_of_work() as session:
        errors = session.scalars(select(OutboxMessage.last_error)).all()
    assert any(e and "no store named 'ghost'" in e for e in errors)


def test_a_shop_without_the_tracking_extension_still_completes(
    shop: FakeWooCommerce, runtime: Runtime
) -> None:
    """`has_shipment_tracking` defaults to true; the shop's 404 must not park the tracking."""
    shop.state.tracking_extension = False
    number = _from_shop(shop, runtime)
    shipped(runtime, number)
    assert drain(runtime).delivered == 2
    assert _status(runtime, number) == OrderStatus.COMPLETED
    (note,) = shop.state.notes[1001]
    assert "1Z999AA10123456784" in note["note"] and note["customer_note"] is True
