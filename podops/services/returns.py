"""Returns: goods that came back from the customer (rarer than remakes for personalized
goods, and reported apart from them: a return makes nothing again).

A return names the order, or some of its lines and units, and a reason. Only units
that shipped can come back, and only once: asking for more than shipped (less what
came back already), for an order nothing of which shipped, or for a cancelled order
is refused with the reason before anything changes. A return that brings back the
order's last units moves it to `returned` through the lifecycle table (the store
heard "shipped"/"completed" and may hear about the return, see below); a return of
some units leaves the status where it is and the lines carry what came back
(`LineItem.quantity_returned`), which `orders list --status returned`, `find`, the
sheet and the daily summary read.

The store is told through the outbox (`Topic.STORE_RETURN`) where its platform can
take a return honestly: WooCommerce gets a private order note (a refund is not a
return, and WooCommerce's REST API has no returns); the others record that nothing
was pushed (`sync/pushback.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from podops import events
from podops.errors import InvalidInput
from podops.events import Actor, EventName
from podops.models import LineItem, Order, Return, ReturnLine, utcnow
from podops.outbox import enqueue
from podops.outbox.messages import store_return_message
from podops.refs import OrderRef
from podops.services.lookup import get_order
from podops.services.order_changes import apply, clean_text, notify
from podops.status import Action, OrderStatus

RETURNABLE: frozenset[OrderStatus] = frozenset(
    {OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED, OrderStatus.COMPLETED}
)
"""Orders with units that left: only those can come back."""
MAX_REASON = 300


@dataclass(frozen=True, slots=True)
class ReturnWanted:
    """One line to take back, by position; `quantity` None: every unit of it that
    shipped and has not come back yet."""

    position: int
    quantity: int | None = None


def return_order(
    session: Session,
    reference: str | OrderRef | Order,
    actor: Actor,
    reason: str,
    *,
    lines: Sequence[ReturnWanted] = (),
) -> Return:
    """Record goods that came back: `lines` (none named: every unit that shipped and is
    not back yet), with `reason`; refused with the reason before anything changes."""
    reason = clean_text(reason, field="the reason of a return", limit=MAX_REASON)
    if not reason:
        raise InvalidInput("say why the goods came back (the reason of the return)")
    order = (
        reference
        if isinstance(reference, Order)
        else get_order(session, reference, for_update=True)
    )
    _check_returnable(order)
    wanted = _wanted(order, lines)
    for item, quantity in wanted:
        item.quantity_returned += quantity
    everything = order.quantity_returned >= order.quantity_total and all(
        i.quantity_shipped == i.quantity for i in order.items
    )
    record = Return(
        order=order,
        reason=reason,
        actor=actor.name,
        channel=actor.channel.value,
        whole_order=everything,
        lines=[ReturnLine(line_item=item, quantity=qty) for item, qty in wanted],
    )
    session.add(record)
    detail: dict[str, Any] = {
        "reason": reason,
        "lines": {item.reference: qty for item, qty in wanted},
    }
    if everything:
        apply(session, order, Action.RETURN, actor, **detail)
    else:
        order.updated_at = utcnow()  # the order's version guards its lines too
        session.flush()
        event = events.record(session, order, actor, EventName.RETURN_LINES, **detail)
        notify(session, order, event)
    session.flush()
    enqueue(session, store_return_message(order.id, record.id))
    return record


def _check_returnable(order: Order) -> None:
    status = OrderStatus(order.status)
    if status in RETURNABLE and order.quantity_shipped > 0:
        if order.quantity_returned < order.quantity_shipped:
            return
        why = "every unit that shipped has already come back"
    elif status == OrderStatus.CANCELLED:
        why = "it was cancelled"
    elif status == OrderStatus.RETURNED:
        why = "it has already come back as a return"
    else:
        why = f"it is {status.label} and nothing of it has shipped yet"
    raise InvalidInput(f"{order.label} cannot be returned: {why}")


def _wanted(order: Order, lines: Sequence[ReturnWanted]) -> list[tuple[LineItem, int]]:
    """(line, units) coming back; refused when a line or quantity goes beyond what
    shipped and is not back yet."""
    if not lines:
        return [(item, _out(item)) for item in order.items if _out(item) > 0]
    by_position = {item.position: item for item in order.items}
    wanted: dict[int, tuple[LineItem, int]] = {}
    for line in lines:
        item = by_position.get(line.position)
        if item is None:
            have = ", ".join(str(p) for p in sorted(by_position))
            raise InvalidInput(f"{order.label} has no line {line.position} (its lines: {have})")
        if line.position in wanted:
            raise InvalidInput(f"line {item.reference} is named twice")
        if item.quantity_shipped <= 0:
            raise InvalidInput(
                f"line {item.reference} has not shipped: nothing of it can come back"
            )
        out = _out(item)
        if out <= 0:
            raise InvalidInput(
                f"line {item.reference}: all {item.quantity_shipped} unit(s) that shipped "
                "have already come back"
            )
        quantity = out if line.quantity is None else line.quantity
        if quantity < 1:
            raise InvalidInput(f"a return of line {item.reference} needs a quantity of 1 or more")
        if quantity > out:
            already = f", {item.quantity_returned} already back" if item.quantity_returned else ""
            raise InvalidInput(
                f"line {item.reference}: {quantity} to return, but {item.quantity_shipped} "
                f"of it shipped{already}"
            )
        wanted[line.position] = (item, quantity)
    return list(wanted.values())


def _out(item: LineItem) -> int:
    """Units of the line with the customer: shipped and not back."""
    return item.quantity_shipped - item.quantity_returned


def returns_in_words(order: Order) -> str:
    """`1234-01 x1 (wrong size); 1234-02 x2 (damaged)`: what came back, "" when nothing."""
    return "; ".join(
        ", ".join(f"{line.line_item.reference} x{line.quantity}" for line in record.lines)
        + f" ({record.reason})"
        for record in order.returns
    )
