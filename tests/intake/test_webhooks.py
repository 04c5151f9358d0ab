"""WooCommerce webhooks through the real Starlette app: signed, forged, truncated,
replayed, pinged, deleted."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from podops import services
from podops.db import Database
from podops.errors import ConcurrentModification
from podops.intake.passes import receive_batch
from podops.models import Event, InboundDelivery, Order
from podops.runtime.root import Runtime
from podops.runtime.web import build_asgi_app
from podops.services.receiving import UNWATCHED_REASON, ensure_store
from podops.status import OrderStatus
from providers.woocommerce_mapping import map_order_safely
from sync.intake import sync_one
from sync.webhooks import routes, signature_for
from tests.asgi_client import AsgiClient
from tests.conftest import PG_URL
from tests.fakes.woocommerce import FakeWooCommerce
from tests.fakes.woocommerce_orders import sample_order
from tests.intake.conftest import WEBHOOK_SECRET

URL = "/webhooks/woocommerce/main"


@pytest.fixture
def web(runtime: Runtime) -> AsgiClient:
    return AsgiClient(build_asgi_app(runtime, [routes]))


def deliver(
    web: AsgiClient,
    body: bytes,
    *,
    topic: str = "order.created",
    delivery: str = "d-1",
    signature: str | None = None,
    url: str = URL,
) -> tuple[int, dict[str, object]]:
    headers = {
        "content-type": "application/json",
        "x-wc-webhook-topic": topic,
        "x-wc-webhook-resource": "order",
        "x-wc-webhook-delivery-id": delivery,
        "x-wc-webhook-signature": signature or signature_for(body, WEBHOOK_SECRET),
    }
    response = web.post(url, content=body, headers=headers)
    return response.status_code, response.json()


def _stored(runtime: Runtime) -> tuple[int, int]:
    with runtime.db.unit_of_work() as session:
        orders = session.scalar(select(func.count()).select_from(Order)) or 0
        deliveries = session.scalar(select(func.count()).select_from(InboundDelivery)) or 0
    return orders, deliveries


def test_a_signed_delivery_creates_the_order(web: AsgiClient, runtime: Runtime) -> None:
    status, answer = deliver(web, json.dumps(sample_order(1001)).encode())
    assert (status, answer["result"]) == (200, "created")
    with runtime.db.unit_of_work() as session:
        assert services.get_order(session, "1001").status == OrderStatus.PENDING


def test_an_old_order_before_the_first_poll_is_held_not_sent(
    web: AsgiClient, runtime: Runtime, shop: FakeWooCommerce
) -> None:
    """A shop switched to podops was fulfilling by hand: an old order that comes by
    webhook before podops' first pass is held, like the first poll would; later ones
    follow the countdown."""
    old = sample_order(1001, created=datetime.now(UTC) - timedelta(days=3))
    deliver(web, json.dumps(old).encode(), topic="order.updated", delivery="1")
    with runtime.db.unit_of_work() as session:
        held = services.get_order(session, "1001")
        assert held.status == OrderStatus.ON_HOLD and held.hold_reason == UNWATCHED_REASON
    sync_one(runtime, "main")
    late = sample_order(1002, created=datetime.now(UTC) - timedelta(days=3))
    deliver(web, json.dumps(late).encode(), topic="order.updated", delivery="2")
    with runtime.db.unit_of_work() as session:
        assert services.get_order(session, "1002").status == OrderStatus.PENDING


def test_a_forged_delivery_gets_401_and_stores_nothing(web: AsgiClient, runtime: Runtime) -> None:
    body = json.dumps(sample_order(1001)).encode()
    assert deliver(web, body, signature=signature_for(body, "guessed"))[0] == 401
    assert (
        web.post(URL, content=body, headers={"x-wc-webhook-topic": "order.created"}).status_code
        == 401
    )
    assert _stored(runtime) == (0, 0)


def test_a_truncated_body_fails_the_signature(web: AsgiClient, runtime: Runtime) -> None:
    body = json.dumps(sample_order(1001)).encode()
    assert deliver(web, body[:-20], signature=signature_for(body, WEBHOOK_SECRET))[0] == 401
    assert _stored(runtime) == (0, 0)


def test_a_replayed_delivery_changes_nothing(web: AsgiClient, runtime: Runtime) -> None:
    """A replay is the same topic and the same bytes again (under any delivery id)."""
    body = json.dumps(sample_order(1001)).encode()
    deliver(web, body, delivery="abc")
    for delivery in ("abc", "another-id", ""):
        assert deliver(web, body, delivery=delivery)[1]["result"] == "duplicate delivery"
    assert _stored(runtime) == (1, 1)
    with runtime.db.unit_of_work() as session:
        assert services.get_order(session, "1001").status == OrderStatus.PENDING


def test_a_bulk_action_under_one_delivery_id_is_applied_to_every_order(
    web: AsgiClient, runtime: Runtime
) -> None:
    """WooCommerce's delivery id is the webhook id and the current second: a bulk
    cancel of three orders within one second sends three deliveries under one id."""
    for order_id in (1001, 1002, 1003):
        deliver(web, json.dumps(sample_order(order_id, created=PLACED)).encode(), delivery="new")
    same_second = PLACED + timedelta(minutes=30)
    answers = [
        deliver(
            web,
            json.dumps(
                sample_order(order_id, status="cancelled", created=PLACED, modified=same_second)
            ).encode(),
            topic="order.updated",
            delivery="wh7-1767225600",
        )[1]["result"]
        for order_id in (1001, 1002, 1003)
    ]
    assert answers == ["updated"] * 3
    with runtime.db.unit_of_work() as session:
        for number in ("1001", "1002", "1003"):
            assert services.get_order(session, number).status == OrderStatus.CANCELLED


PLACED = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)  # within its countdown


def _update(web: AsgiClient, delivery: str, minutes: int, status: str = "processing") -> str:
    """Deliver order 1001 as the shop showed it `minutes` after it was placed."""
    body = sample_order(
        1001, status=status, created=PLACED, modified=PLACED + timedelta(minutes=minutes)
    )
    body["shipping"]["address_2"] = f"as of minute {minutes}"
    answer = deliver(web, json.dumps(body).encode(), topic="order.updated", delivery=delivery)
    return str(answer[1]["result"])


def _state(runtime: Runtime) -> tuple[OrderStatus, str | None, set[str]]:
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, "1001")
        actions = set(session.scalars(select(Event.action).where(Event.order_id == order.id)))
        return OrderStatus(order.status), order.store_status, actions


def test_a_late_retry_of_a_cancellation_does_not_cancel_a_reopened_order(
    web: AsgiClient, runtime: Runtime
) -> None:
    """Cancelled at 10:05, reopened (and its address fixed) at 10:20; the retry of the
    10:05 webhook arrives last."""
    deliver(web, json.dumps(sample_order(1001, created=PLACED)).encode(), delivery="1")
    assert _update(web, "3", 20) == "updated"  # same status, its new address followed
    assert _update(web, "2", 5, "cancelled") == "unchanged"
    status, store_status, actions = _state(runtime)
    assert (status, store_status) == (OrderStatus.PENDING, "processing")
    assert "store_status" not in actions and "cancel" not in actions
    with runtime.db.unit_of_work() as session:  # the older delivery's address is not taken
        assert services.get_order(session, "1001").shipping_address["address_2"] == (
            "as of minute 20"
        )
    assert _update(web, "4", 60, "cancelled") == "updated"
    assert _state(runtime)[0] == OrderStatus.CANCELLED


def test_an_older_status_never_replaces_a_newer_one(web: AsgiClient, runtime: Runtime) -> None:
    deliver(web, json.dumps(sample_order(1001, created=PLACED)).encode(), delivery="1")
    assert _update(web, "3", 30, "on-hold") == "updated"
    assert _update(web, "2", 10, "processing") == "unchanged"
    assert _state(runtime)[1] == "on-hold"


def test_a_late_retry_after_a_deletion_changes_nothing(web: AsgiClient, runtime: Runtime) -> None:
    deliver(web, json.dumps(sample_order(1001, created=PLACED)).encode(), delivery="1")
    gone = deliver(web, b'{"id": 1001}', topic="order.deleted", delivery="3")
    assert gone[1]["result"] == "cancelled"
    assert _update(web, "2", 5, "on-hold") == "unchanged"
    status, store_status, actions = _state(runtime)
    assert (status, store_status) == (OrderStatus.CANCELLED, "trash")
    assert "store_status" not in actions


def test_the_unsigned_ping_is_answered(web: AsgiClient, runtime: Runtime) -> None:
    response = web.post(
        URL, content=b"webhook_id=17", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 200
    assert _stored(runtime) == (0, 0)


def test_unknown_stores_and_unreadable_bodies_are_refused(web: AsgiClient) -> None:
    body = json.dumps(sample_order(1001)).encode()
    assert deliver(web, body, url="/webhooks/woocommerce/nope")[0] == 404
    assert deliver(web, b"{not json")[0] == 400
    assert deliver(web, b"[1, 2]")[0] == 400


def test_updates_and_deletions_reach_a_known_order(web: AsgiClient, runtime: Runtime) -> None:
    deliver(web, json.dumps(sample_order(1001)).encode(), delivery="1")
    deliver(web, json.dumps(sample_order(1002)).encode(), delivery="2")
    refunded = json.dumps(sample_order(1001, status="refunded")).encode()
    assert deliver(web, refunded, topic="order.updated", delivery="3")[1]["result"] == "updated"
    gone = deliver(web, b'{"id": 1002}', topic="order.deleted", delivery="4")
    assert gone[1]["result"] == "cancelled"
    with runtime.db.unit_of_work() as session:
        assert services.get_order(session, "1001").status == OrderStatus.CANCELLED
        assert services.get_order(session, "1002").status == OrderStatus.CANCELLED


def test_an_order_not_to_fulfil_is_skipped(web: AsgiClient, runtime: Runtime) -> None:
    pending_payment = json.dumps(sample_order(1001, status="pending")).encode()
    assert deliver(web, pending_payment)[1]["result"] == "skipped (status pending)"
    assert _stored(runtime)[0] == 0


def _on_order_insert(db: Database, action: Callable[[], None]) -> Callable[..., None]:
    """Run `action` just before this database's next INSERT into orders (once per call)."""

    def before(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO ORDERS"):
            action()

    event.listen(db.engine, "before_cursor_execute", before)
    return before


@pytest.mark.skipif(not PG_URL, reason="SQLite serialises writers: the race cannot happen there")
def test_a_poll_storing_the_same_new_order_at_once_does_not_fail_the_webhook(
    web: AsgiClient, runtime: Runtime, db_url: str, shop: FakeWooCommerce
) -> None:
    """PostgreSQL: the poll commits the order between the webhook's look-up and its insert."""
    order = sample_order(1001)
    shop.add(order)
    with runtime.db.unit_of_work() as session:
        ensure_store(session, "main")
    poller = Database(db_url)
    fired: list[int] = []

    def poll_now() -> None:
        if not fired:
            fired.append(1)
            with poller.unit_of_work() as session:
                receive_batch(
                    session,
                    "main",
                    [map_order_safely(order, "main", runtime.settings.stores["main"])],
                    runtime.policy,
                    fulfil_statuses=["processing"],
                    platform="woocommerce",
                )

    hook = _on_order_insert(runtime.db, poll_now)
    try:
        status, answer = deliver(web, json.dumps(order).encode())
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", hook)
        poller.dispose()
    assert fired and status == 200 and answer["result"] == "unchanged"
    assert _stored(runtime) == (1, 1)


def test_a_delivery_that_keeps_colliding_is_left_to_the_poll(
    web: AsgiClient, runtime: Runtime, shop: FakeWooCommerce, caplog: pytest.LogCaptureFixture
) -> None:
    """WooCommerce disables a webhook after 5 failed deliveries: answer 200, the poll applies it."""
    order = sample_order(1001)
    shop.add(order)

    def collide() -> None:
        raise ConcurrentModification("order 1001 was changed by someone else at the same moment")

    hook = _on_order_insert(runtime.db, collide)
    try:
        with caplog.at_level(logging.WARNING, logger="sync.webhooks"):
            status, answer = deliver(web, json.dumps(order).encode())
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", hook)
    assert (status, answer["result"]) == (200, "deferred to the next poll")
    assert _stored(runtime) == (0, 0), "nothing half-stored; the delivery id is not used up"
    assert any("deferred to the next poll" in r.getMessage() for r in caplog.records)
    assert sync_one(runtime, "main").created == 1


@pytest.mark.skipif(not PG_URL, reason="SQLite serialises writers: the race cannot happen there")
def test_a_webhook_storing_the_same_new_order_at_once_does_not_abort_the_poll(
    runtime: Runtime, db_url: str, shop: FakeWooCommerce
) -> None:
    order = sample_order(1001)
    shop.add(order, sample_order(1002))
    with runtime.db.unit_of_work() as session:
        ensure_store(session, "main")
    webhook = Database(db_url)
    fired: list[int] = []

    def webhook_now() -> None:
        if not fired:
            fired.append(1)
            with webhook.unit_of_work() as session:
                receive_batch(
                    session,
                    "main",
                    [map_order_safely(order, "main", runtime.settings.stores["main"])],
                    runtime.policy,
                    fulfil_statuses=["processing"],
                    platform="woocommerce",
                )

    hook = _on_order_insert(runtime.db, webhook_now)
    try:
        report = sync_one(runtime, "main")
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", hook)
        webhook.dispose()
    assert fired and report.error is None
    assert (report.created, report.unchanged) == (1, 1)
    assert _stored(runtime)[0] == 2
