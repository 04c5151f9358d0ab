"""Whether a line's design (fields, photo, crop, accepted resolution) may still change here.

Before submission every line's may. After it, a line no provider has yet may too:
the line of a split order's part that failed at its provider (staff fix what the
provider refused, then `podops retry`), a line routed after the rest left, and the
lines of a remake not sent yet. A line at a provider may not (its provider prints
the files it has; a provider that takes design changes gets them through
`podops.fulfillment.late_design` instead). Every staff surface asks here through the
services, so a refusal never names a provider that does not have the line.
"""

from __future__ import annotations

from podops.fulfillment_status import FulfillmentStatus
from podops.models import LineItem, Order
from podops.services.fulfillments import lines_to_send
from podops.services.remakes import REMAKABLE, lines_to_remake
from podops.status import BEFORE_SUBMISSION, OrderStatus

GOING_ON = frozenset(
    {OrderStatus.SUBMITTED, OrderStatus.IN_PRODUCTION, OrderStatus.PARTIALLY_SHIPPED}
)
"""An order part of which is at a provider while a part of it may wait to go."""


def unsent_lines(order: Order) -> list[LineItem]:
    """After submission, the lines no provider has yet (empty before it: every line)."""
    status = OrderStatus(order.status)
    found: list[LineItem] = []
    if status in GOING_ON:
        found += lines_to_send(order)
    if status in REMAKABLE:
        found += [item for item in lines_to_remake(order) if item not in found]
    return found


def design_may_change(order: Order, item: LineItem) -> bool:
    """Whether `item`'s design may still change here (see the module docstring)."""
    if OrderStatus(order.status) in BEFORE_SUBMISSION:
        return True
    return any(line.id == item.id for line in unsent_lines(order))


def design_locked(order: Order, item: LineItem, what: str = "design") -> str:
    """Why `item`'s `what` can no longer change (only when `design_may_change` is False)."""
    status = OrderStatus(order.status)
    if unsent_lines(order):  # other lines still wait: say which ones may change
        waiting = ", ".join(line.reference for line in unsent_lines(order))
        where = provider_of(order, item)
        return (
            f"line {item.reference} of {order.label} is at its provider"
            + (f" ({where})" if where else "")
            + f"; its {what} can no longer be changed (only the lines not sent yet can: "
            f"{waiting})"
        )
    return (
        f"{order.label} is {status.label}; its {what} can no longer be changed "
        "(it was sent to the provider)"
    )


def provider_of(order: Order, item: LineItem) -> str:
    """`cc, part 1`: the provider (and part) that has the line ("" : none has it)."""
    sent = [
        part
        for part in order.fulfillments
        if part.provider_order_id
        and part.status not in (FulfillmentStatus.CANCELLED, FulfillmentStatus.SUBMIT_FAILED)
        and any(line.line_item_id == item.id for line in part.lines)
    ]
    return "; ".join(f"{part.provider}, {part.label}" for part in sent)
