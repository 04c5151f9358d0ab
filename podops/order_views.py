"""The portal's views of orders: by shipment state, cancelled and returned.

One table says which orders each view holds, read by `podops orders list --state`,
`/order find ... --state` and the sheet's filter views (`podops.sheet.rows`), so the
three agree. "Returned" holds orders that came back whole *and* orders with some
units back (`LineItem.quantity_returned`).
"""

from __future__ import annotations

from enum import StrEnum

from podops.errors import InvalidInput
from podops.status import OrderStatus

S = OrderStatus


class OrderView(StrEnum):
    NOT_SHIPPED = "not shipped"
    PARTIALLY_SHIPPED = "partially shipped"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"
    RETURNED = "returned"


VIEW_STATUSES: dict[OrderView, frozenset[OrderStatus]] = {
    OrderView.NOT_SHIPPED: frozenset(
        {
            S.RECEIVED,
            S.PENDING,
            S.ON_HOLD,
            S.NEEDS_DESIGN,
            S.SUBMITTING,
            S.SUBMIT_FAILED,
            S.SUBMITTED,
            S.IN_PRODUCTION,
            S.CANCEL_REQUESTED,
        }
    ),
    OrderView.PARTIALLY_SHIPPED: frozenset({S.PARTIALLY_SHIPPED}),
    OrderView.SHIPPED: frozenset({S.SHIPPED, S.COMPLETED}),
    OrderView.CANCELLED: frozenset({S.CANCELLED}),
    OrderView.RETURNED: frozenset({S.RETURNED}),
}
"""The statuses each view holds; RETURNED also holds orders with some units back."""


def parse_view(text: str) -> OrderView:
    """`not-shipped`, `not_shipped`, `Not shipped` -> OrderView.NOT_SHIPPED."""
    word = " ".join(text.replace("_", " ").replace("-", " ").lower().split())
    try:
        return OrderView(word)
    except ValueError:
        known = ", ".join(v.value.replace(" ", "-") for v in OrderView)
        raise InvalidInput(f"{text.strip()!r} is not an order state; use one of: {known}") from None
