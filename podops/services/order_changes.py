"""The one path every lifecycle step takes: table, status, event, notification.

Every service moves an order with `apply`; staff hear of the steps in
`NOTIFY_ACTIONS` through the outbox (`notify`). `clean_text` bounds what people
type (reasons, notes) before it is stored.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from podops import events
from podops.events import Actor, EventName
from podops.models import Event, Order
from podops.outbox import enqueue
from podops.outbox.messages import event_message
from podops.status import UNDER_HOLD, Action, OrderStatus, Step, transition
from podops.status import can_apply as can_apply_step

# Changes staff want to hear about in Slack (threaded under the order's alert).
NOTIFY_ACTIONS: frozenset[Action] = frozenset(
    {
        Action.HOLD,
        Action.RELEASE,
        Action.RELEASE_TO_DESIGN,
        Action.FLAG_DESIGN,
        Action.SUBMIT_OK,
        Action.SUBMIT_FAIL,
        Action.SHIP_PART,
        Action.SHIP_ALL,
        Action.COMPLETE,
        Action.CANCEL,
        Action.REQUEST_CANCEL,
        Action.CONFIRM_CANCEL,
        Action.REFUSE_CANCEL,
        Action.RETURN,
        Action.FULFILLED_BY_SHOP,
        Action.UNSHIP_PART,
        Action.UNSHIP_ALL,
    }
)


def apply(
    session: Session,
    order: Order,
    action: Action,
    actor: Actor,
    **detail: Any,
) -> Step:
    """Move `order` by `action` (or refuse), write the event, schedule the notice.

    A design step on a held order moves the status under the hold instead
    (`status.UNDER_HOLD`): the hold stays until a person releases it."""
    if OrderStatus(order.status) == OrderStatus.ON_HOLD and action in UNDER_HOLD:
        return _apply_under_hold(session, order, action, actor, **detail)
    step = transition(OrderStatus(order.status), action, order_label=order.label)
    order.status = step.after
    event = events.record(
        session,
        order,
        actor,
        EventName.of(action),
        before=step.before.value,
        after=step.after.value,
        **detail,
    )
    if action in NOTIFY_ACTIONS:
        notify(session, order, event)
    return step


def _apply_under_hold(
    session: Session, order: Order, action: Action, actor: Actor, **detail: Any
) -> Step:
    under = OrderStatus(order.held_from or OrderStatus.PENDING)
    step = transition(under, action, order_label=f"{order.label} (under its hold)")
    order.held_from = step.after.value
    event = events.record(
        session,
        order,
        actor,
        EventName.of(action),
        under_hold=f"{step.before.value} -> {step.after.value}",
        held=order.hold_reason,
        **detail,
    )
    if action in NOTIFY_ACTIONS:
        notify(session, order, event)
    return step


def can_apply(order: Order, action: Action) -> bool:
    """Whether `apply(order, action)` would take the step (held orders: under the hold)."""
    under = OrderStatus(order.held_from or OrderStatus.PENDING)
    return can_apply_step(action, OrderStatus(order.status), under)


def notify(session: Session, order: Order, event: Event) -> None:
    session.flush()
    enqueue(session, event_message(order.id, event.id))


def clean_text(value: str, *, field: str, limit: int = 500) -> str:
    """Trim and bound free text a person typed (reasons, notes)."""
    from podops.errors import InvalidInput

    text = " ".join(value.split())
    if len(text) > limit:
        raise InvalidInput(f"{field} is {len(text)} characters; at most {limit} are allowed")
    return text
