"""Read-only questions the scheduler, the CLI, Slack and the sheet ask most."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, bindparam, false, func, or_, select
from sqlalchemy.orm import Session, selectinload

from podops.fulfillment_status import FulfillmentKind, FulfillmentStatus
from podops.models import Event, Fulfillment, LineItem, Order, Store
from podops.order_views import VIEW_STATUSES, OrderView
from podops.status import NOT_SHIPPED, OrderStatus


def status_among(statuses: Collection[OrderStatus]) -> ColumnElement[bool]:
    """`orders.status IN ('a', 'b')` with the statuses written into the SQL, not bound:
    PostgreSQL then sees that a partial index on open statuses covers the query
    (`ix_orders_open_placed_at`), even in a plan it keeps for a prepared statement."""
    values = sorted(str(s) for s in statuses)
    return Order.status.in_(bindparam(None, values, expanding=True, literal_execute=True))


def written(value: str) -> ColumnElement[str]:
    """A value written into the SQL (see `status_among`): for a partial index's predicate."""
    return bindparam(None, value, literal_execute=True)


def due_for_submission(session: Session, now: datetime, limit: int = 100) -> list[Order]:
    """Pending orders whose countdown has run out, oldest first."""
    query = (
        select(Order)
        .where(Order.status == OrderStatus.PENDING, Order.submit_at <= now)
        .order_by(Order.submit_at)
        .limit(limit)
    )
    return list(session.scalars(query))


def list_orders(
    session: Session,
    *,
    statuses: Sequence[OrderStatus] | None = None,
    not_shipped: bool = False,
    store: str | None = None,
    views: Sequence[OrderView] = (),
    limit: int = 100,
) -> list[Order]:
    """Newest first; `statuses` and `views` together: an order in any of them."""
    query = select(Order).options(selectinload(Order.items), selectinload(Order.store))
    wanted = set(statuses or [])
    if not_shipped:
        wanted = (wanted & NOT_SHIPPED) if wanted else set(NOT_SHIPPED)
    if wanted or views:
        conditions: list[ColumnElement[bool]] = [status_among(wanted)] if wanted else []
        conditions += [in_view(view) for view in views]
        query = query.where(or_(*conditions))
    if store:
        query = query.join(Store).where(Store.key == store)
    query = query.order_by(Order.placed_at.desc(), Order.id.desc()).limit(limit)
    return list(session.scalars(query))


def in_view(view: OrderView) -> ColumnElement[bool]:
    """The condition for orders in `view` (`podops.order_views`)."""
    condition = Order.status.in_(sorted(VIEW_STATUSES[view]))
    if view == OrderView.RETURNED:
        some_back = select(LineItem.order_id).where(LineItem.quantity_returned > 0)
        return or_(condition, Order.id.in_(some_back))
    return condition if VIEW_STATUSES[view] else false()


def count_not_shipped(session: Session) -> int:
    query = select(func.count()).select_from(Order).where(status_among(NOT_SHIPPED))
    return int(session.scalar(query) or 0)


def counts_by_status(session: Session) -> dict[OrderStatus, int]:
    rows = session.execute(select(Order.status, func.count()).group_by(Order.status)).all()
    return {OrderStatus(status): int(count) for status, count in rows}


def timeline(session: Session, order: Order, limit: int = 200) -> list[Event]:
    query = (
        select(Event).where(Event.order_id == order.id).order_by(Event.at, Event.id).limit(limit)
    )
    return list(session.scalars(query))


def remake_counts(
    session: Session, start: datetime | None = None, end: datetime | None = None
) -> list[tuple[str, str, int]]:
    """(reason, who pays, how many) of the remakes asked for in [start, end), most first;
    a remake cancelled before it was made does not count."""
    query = (
        select(Fulfillment.reason, Fulfillment.paid_by, func.count())
        .where(
            Fulfillment.kind == written(FulfillmentKind.REMAKE.value),  # partial index
            Fulfillment.status != FulfillmentStatus.CANCELLED,
        )
        .group_by(Fulfillment.reason, Fulfillment.paid_by)
    )
    if start is not None:
        query = query.where(Fulfillment.created_at >= start)
    if end is not None:
        query = query.where(Fulfillment.created_at < end)
    rows = [(str(r or "?"), str(p or "?"), int(n)) for r, p, n in session.execute(query)]
    return sorted(rows, key=lambda row: (-row[2], row[0], row[1]))
