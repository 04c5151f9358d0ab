"""WooCommerce webhooks through the real Starlette app: signed, forged, truncated,
replayed, pinged, deleted."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from podops import services
from podops.app import Runtime
from podops.models import Event, InboundDelivery, Order
from podops.status import OrderStatus
from podops.web import build_asgi_app
from sync.webhooks import routes, signature_for
from tests.asgi_client import AsgiClient
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
    body = json.dumps(sample_order(1001)).encode()
    deliver(web, body, delivery="abc")
    cancelled = json.dumps(sample_order(1001, status="cancelled")).encode()
    assert deliver(web, cancelled, topic="order.updated", delivery="abc")[1]["result"] == (
        "duplicate delivery"
    )
    assert _stored(runtime) == (1, 1)
    with runtime.db.unit_of_work() as session:
        assert services.get_order(session, "1001").status == OrderStatus.PENDING


PLACED = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


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
    assert _update(web, "3", 20) == "unchanged"  # same status: only the time is kept
    assert _update(web, "2", 5, "cancelled") == "unchanged"
    status, store_status, actions = _state(runtime)
    assert (status, store_status) == (OrderStatus.PENDING, "processing")
    assert "store_status" not in actions and "cancel" not in actions
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
