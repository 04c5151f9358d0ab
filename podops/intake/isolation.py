"""One order never blocks the others.

A page of orders (or one webhook's order) is stored in one transaction. If the
database refuses it because of what one order holds (a value the bounds in
`podops.incoming` did not foresee), each order is stored in its own
transaction; an order that still fails is received as a stub held for staff,
with the reason and without the details it could not store, and only if even
that fails is it refused, named in the report with the reason. Either way the
rest of the page is stored and the cursor moves on: later polls no longer stop
at the same page.

Conflicts with a concurrent writer are not handled here (`passes.retry_conflicts`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.exc import DataError, IntegrityError, StatementError

from podops.incoming import IncomingOrder

if TYPE_CHECKING:
    from podops.intake.passes import IntakeReport

log = logging.getLogger(__name__)

UNSTORABLE = (StatementError, ValueError, ArithmeticError)
"""What one order's content can make a write raise (IntegrityError excepted: a conflict)."""


def unstorable(exc: BaseException) -> bool:
    return isinstance(exc, UNSTORABLE) and not isinstance(exc, IntegrityError)


def reason(exc: BaseException) -> str:
    """Why the database refused, without the statement's parameters (customer data)."""
    kind = "a value the database refused" if isinstance(exc, DataError) else type(exc).__name__
    return f"podops could not store this order as the store sent it ({kind})"


def stub(order: IncomingOrder, exc: BaseException, now: datetime) -> IncomingOrder:
    """The order without its details, held for staff with the reason."""
    return replace(
        order,
        placed_at=now,
        customer_name="",
        customer_email="",
        customer_phone="",
        shipping_address={},
        note="",
        items=[],
        problems=[f"{reason(exc)}; received without its details: check it in the store"],
    )


Receive = Callable[[list[IncomingOrder]], "IntakeReport"]


def receive_isolated(
    orders: list[IncomingOrder], receive: Receive, empty: IntakeReport, now: datetime
) -> IntakeReport:
    """`receive` the orders together; if their content is refused, each on its own.

    `receive` runs one transaction (and its conflict retries); `empty` collects the
    per-order reports."""
    try:
        return receive(orders)
    except Exception as exc:
        if not unstorable(exc) or len(orders) == 0:
            raise
        log.warning("intake %s: a page was refused (%s); storing its orders one by one",
                    empty.store, type(exc).__name__)  # fmt: skip
    for order in orders:
        outcome = _one(order, receive, empty.store, now)
        if isinstance(outcome, str):
            empty.fetched += 1
            empty.refused.append((order.number, outcome))
        else:
            empty.merge(outcome)
    return empty


def _one(order: IncomingOrder, receive: Receive, store: str, now: datetime) -> IntakeReport | str:
    """The order's report, or why it was refused."""
    try:
        return receive([order])
    except Exception as exc:
        if not unstorable(exc):
            raise
        first = exc
    log.warning("intake %s: order %s refused (%s); stored as a stub held for staff",
                store, order.external_id, type(first).__name__)  # fmt: skip
    try:
        return receive([stub(order, first, now)])
    except Exception as exc:
        if not unstorable(exc):
            raise
    log.error("intake %s: order %s refused, also as a stub", store, order.external_id)
    return reason(first)
