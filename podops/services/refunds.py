"""The store refunded some of a known order's items: make only what is still paid for.

Before submission a line's quantity becomes what is left after the refunds, a line
refunded in full is removed (its label stays free; the others keep theirs), and an
order left with nothing to make is cancelled. After submission the provider already
has the order: staff get a visible problem and a notice, once per refund.
(New orders are received with their refunds applied: `services.new_orders`.)
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from podops import events
from podops.events import Actor, EventName
from podops.incoming import IncomingOrder
from podops.models import LineItem, Order
from podops.services.order_changes import apply, notify
from podops.status import BEFORE_SUBMISSION, Action, OrderStatus

REFUND_REASON = "refunded in the store"


def left_to_make(order: Order, incoming: IncomingOrder) -> dict[LineItem, int]:
    """Lines whose quantity the store's refunds lower, with what is left to make."""
    refunded = {i.external_id: i for i in incoming.items if i.refunded_quantity > 0}
    lowered: dict[LineItem, int] = {}
    for line in order.items:
        item = refunded.get(line.external_id) if line.external_id else None
        if item is not None:
            left = max(0, item.quantity - item.refunded_quantity)
            if line.quantity > left:
                lowered[line] = left
    return lowered


def apply_refunds(session: Session, order: Order, incoming: IncomingOrder, actor: Actor) -> bool:
    """Follow the store's line refunds; True if the order changed."""
    lowered = left_to_make(order, incoming)
    status = OrderStatus(order.status)
    if not lowered or status in (OrderStatus.CANCELLED, OrderStatus.CANCEL_REQUESTED):
        return False
    change = ", ".join(
        f"line {line.reference} {line.quantity} -> {left}" for line, left in lowered.items()
    )
    if status not in BEFORE_SUBMISSION:
        return _refunded_after_submission(session, order, actor, change)
    events.record(session, order, actor, EventName.STORE_REFUND, change=change)
    for line, left in lowered.items():
        if left == 0:
            order.items.remove(line)
        else:
            line.quantity = left
    if not order.items:
        order.cancel_reason = REFUND_REASON
        apply(session, order, Action.CANCEL, actor, reason=REFUND_REASON)
    return True


def _refunded_after_submission(session: Session, order: Order, actor: Actor, change: str) -> bool:
    problem = (
        f"{REFUND_REASON} after submission to {order.provider} ({change}): "
        "reduce or cancel it at the provider"
    )
    if problem in order.problems:
        return False
    order.problems = [*order.problems, problem]
    event = events.record(
        session, order, actor, EventName.STORE_REFUNDED_AFTER_SUBMISSION, problem=problem
    )
    notify(session, order, event)
    return True
