"""Push-back bookkeeping: what podops told the shop (status, tracking) is written
to the order's timeline, and a completion the shop accepted completes the order.

"completed" makes WooCommerce e-mail the customer, so it goes out only after
every parcel's tracking reached the store (by the Shipment Tracking extension
or a customer note): a tracking still retrying, or parked after failures,
holds the completion back (`completion_waits_for`), and `podops status` lists
such orders (`held_completions`).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from podops import events
from podops.events import EventName
from podops.intake.passes import store_actor
from podops.models import Order, OutboxMessage, utcnow
from podops.outbox import Topic
from podops.ports.store import STAFF_HOLD_STATUSES, PushResult
from podops.services.shipping import complete
from podops.status import OrderStatus


def record_push(
    session: Session, order: Order, what: str, result: PushResult, **detail: str
) -> None:
    """Audit what was pushed to the shop (or why nothing was), for `orders show` and Slack."""
    events.record(
        session,
        order,
        store_actor(order.store.key),
        EventName.STORE_PUSH,
        what=what,
        result=result.value,
        **detail,
    )


def status_pushed(session: Session, order: Order, status: str, result: PushResult) -> None:
    """The shop accepted the status: a shipped order becomes completed on our side too.
    A staff hold told to a shop that does not take holds leaves no trace."""
    if status in STAFF_HOLD_STATUSES and result == PushResult.NOTHING_TO_PUSH:
        return
    record_push(session, order, f"status {status}", result)
    if status == "completed" and OrderStatus(order.status) == OrderStatus.SHIPPED:
        complete(session, order, store_actor(order.store.key))


def tracking_not_in_store(session: Session, order_id: int) -> list[OutboxMessage]:
    """The order's tracking messages that have not reached the store (waiting or parked)."""
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.order_id == order_id,
                OutboxMessage.topic == Topic.STORE_TRACKING,
                OutboxMessage.delivered_at.is_(None),
            )
            .order_by(OutboxMessage.id)
        )
    )


def completion_waits_for(session: Session, order: Order) -> str | None:
    """Why "completed" must not reach the store yet (None: it may go)."""
    waiting = tracking_not_in_store(session, order.id)
    if not waiting:
        return None
    parked = [m for m in waiting if m.dead_at is not None]
    if parked:
        return (
            f"completion of {order.label} held back: its tracking did not reach the store "
            f"({parked[0].last_error or 'parked'}); fix it and requeue the parked message"
        )
    return f"completion of {order.label} waits for its tracking to reach the store first"


def completion_may_go(session: Session, order_id: int, *, delivered: int) -> None:
    """The tracking message `delivered` reached the store: a completion it held back is
    due now (not after its back-off), if no other tracking of the order is missing."""
    if any(m.id != delivered for m in tracking_not_in_store(session, order_id)):
        return
    held = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.order_id == order_id,
            OutboxMessage.topic == Topic.STORE_STATUS,
            OutboxMessage.delivered_at.is_(None),
            OutboxMessage.dead_at.is_(None),
        )
    )
    for message in held:
        if message.payload.get("status") == "completed":
            message.next_attempt_at = utcnow()


def held_completions(session: Session, limit: int = 20) -> list[tuple[str, str]]:
    """(order number, why) of completions a parked tracking holds back."""
    parked_tracking = (
        select(OutboxMessage.order_id)
        .where(OutboxMessage.topic == Topic.STORE_TRACKING, OutboxMessage.dead_at.is_not(None))
        .where(OutboxMessage.delivered_at.is_(None))
    )
    rows = session.execute(
        select(Order.number, OutboxMessage.payload, OutboxMessage.order_id)
        .join(Order, Order.id == OutboxMessage.order_id)
        .where(
            OutboxMessage.topic == Topic.STORE_STATUS,
            OutboxMessage.delivered_at.is_(None),
            OutboxMessage.order_id.in_(parked_tracking),
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    found = []
    for number, payload, order_id in rows:
        if payload.get("status") != "completed":
            continue
        [first, *_] = [m for m in tracking_not_in_store(session, order_id) if m.dead_at]
        found.append((number, first.last_error or "tracking parked"))
    return found
