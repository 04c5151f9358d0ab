"""Push-back: the outbox handlers that tell the shop what became of its orders.

`Topic.STORE_STATUS` sets the shop's order status (completed, cancelled);
`Topic.STORE_TRACKING` attaches a parcel's tracking. Delivery is at least
once; the store adapters look before they write, so a repeat is harmless.
"completed" waits until every tracking of the order reached the store (the
customer's completion e-mail then carries it): a tracking still retrying or
parked holds it back, without using up its attempts, and a tracking delivered
makes a held completion due at once. Once the shop accepts "completed", our
order is completed too (audited as the store). A shop that is down raises a
retryable StoreError: the outbox backs off and tries again. The drain job runs every few seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.orm import Session, object_session

from podops.errors import ConfigError, StoreError
from podops.intake.pushback import (
    completion_may_go,
    completion_waits_for,
    record_push,
    status_pushed,
)
from podops.jobs import JobSpec
from podops.models import Order, OutboxMessage, Shipment
from podops.outbox import MAX_ATTEMPTS, DrainReport, Handler, OutboxDispatcher, Topic
from podops.ports.store import PushResult, StoreClient, TrackingPush

if TYPE_CHECKING:
    from podops.ports.context import Stores

STORE_TOPICS = [Topic.STORE_STATUS, Topic.STORE_TRACKING]
DRAIN_EVERY_S = 5
BATCH = 200


class ClientFor(Protocol):
    """Stores.store_client: a store's adapter by name (and its row's platform)."""

    def __call__(self, name: str, *, stored_platform: str | None = None) -> StoreClient: ...


class StorePush:
    """Outbox handlers for the store topics, given a way to find each store's client."""

    def __init__(self, client_for: ClientFor) -> None:
        self.client_for = client_for
        self.unreachable: dict[str, str] = {}
        """Stores that failed retryably in this drain: their other messages wait,
        instead of each paying the client's full retries against a shop that is down."""

    def handlers(self) -> dict[str, Handler]:
        return {Topic.STORE_STATUS: self.push_status, Topic.STORE_TRACKING: self.push_tracking}

    def push_status(self, message: OutboxMessage) -> None:
        session, order = self._order(message)
        if order is None:
            return
        status = str(message.payload["status"])
        if status == "completed":
            waiting = completion_waits_for(session, order)
            if waiting is not None:
                # Not attempted: waiting never uses up the message's attempts.
                message.attempts = min(message.attempts, MAX_ATTEMPTS - 1)
                raise StoreError(waiting, retryable=True)
        result = self._push(order, lambda client: client.push_status(order.external_id, status))
        status_pushed(session, order, status, result)

    def push_tracking(self, message: OutboxMessage) -> None:
        session, order = self._order(message)
        shipment = session.get(Shipment, message.payload["shipment_id"])
        if order is None or shipment is None:
            return
        parcel = TrackingPush(
            carrier=shipment.carrier,
            number=shipment.tracking_number,
            url=shipment.tracking_url,
            shipped_at=shipment.shipped_at,
        )
        result = self._push(order, lambda client: client.push_tracking(order.external_id, parcel))
        record_push(
            session, order, f"tracking {shipment.carrier} {shipment.tracking_number}", result
        )
        completion_may_go(session, order.id, delivered=message.id)

    def _order(self, message: OutboxMessage) -> tuple[Session, Order | None]:
        session = object_session(message)
        assert session is not None, "the dispatcher hands over attached messages"
        return session, session.get(Order, message.payload["order_id"])

    def _push(self, order: Order, call: Callable[[StoreClient], PushResult]) -> PushResult:
        key = order.store.key
        if key in self.unreachable:
            raise StoreError(self.unreachable[key], retryable=True)
        try:
            return call(self._client(order))
        except StoreError as exc:
            if exc.retryable:
                self.unreachable[key] = exc.message
            raise

    def _client(self, order: Order) -> StoreClient:
        try:
            return self.client_for(order.store.key, stored_platform=order.store.platform)
        except ConfigError as exc:
            raise StoreError(
                f"cannot push to store {order.store.key!r}: {exc}", retryable=False
            ) from exc


def drain(runtime: Stores, *, rounds: int = 20) -> DrainReport:
    """Deliver every due store message (in batches), and say what happened."""
    dispatcher = OutboxDispatcher(runtime.db, StorePush(runtime.store_client).handlers())
    total = DrainReport()
    for _ in range(rounds):
        report = dispatcher.drain(limit=BATCH, topics=STORE_TOPICS)
        total.delivered += report.delivered
        total.retried += report.retried
        total.dead += report.dead
        if report.delivered + report.retried + report.dead < BATCH:
            break
    return total


def jobs(runtime: Stores) -> list[JobSpec]:
    return [
        JobSpec(
            name="store.pushback",
            func=partial(drain, runtime),
            trigger="interval",
            trigger_args={"seconds": DRAIN_EVERY_S},
        )
    ]
