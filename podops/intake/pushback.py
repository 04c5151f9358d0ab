"""Push-back bookkeeping: what podops told the shop (status, tracking) is written
to the order's timeline, and a completion the shop accepted completes the order."""

from __future__ import annotations

from sqlalchemy.orm import Session

from podops import events
from podops.events import EventName
from podops.intake.passes import store_actor
from podops.models import Order
from podops.ports.store import PushResult
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
    """The shop accepted the status: a shipped order becomes completed on our side too."""
    record_push(session, order, f"status {status}", result)
    if status == "completed" and OrderStatus(order.status) == OrderStatus.SHIPPED:
        complete(session, order, store_actor(order.store.key))
