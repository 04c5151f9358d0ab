"""A known order came again from its shop: follow what the shop changed.

- a new shipping address is followed (`services.address.follow_store_address`):
  applied before submission, sent to the provider after it;
- cancelled / refunded / failed / deleted in the shop cancels ours before
  submission, and raises a visible problem after it; items refunded in part are
  followed by `services.refunds`;
- a status outside the store's `fulfil_statuses` (on-hold, pending payment,
  completed by hand) holds ours before submission, the reason naming the shop
  status, so podops never sends what the shop stopped; when the shop puts it
  back to a fulfil status and podops had held it for that reason (not staff),
  it is released. After submission staff get a visible problem instead.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from podops import events
from podops.errors import ConcurrentModification
from podops.events import Actor, EventName
from podops.incoming import IncomingOrder
from podops.models import Order
from podops.services.address import follow_store_address
from podops.services.order_changes import apply, notify
from podops.services.orders import hold_order, release_order
from podops.services.refunds import apply_refunds
from podops.status import BEFORE_SUBMISSION, Action, OrderStatus

STORE_CANCEL_STATUSES = frozenset({"cancelled", "refunded", "failed", "trash"})
SHOP_HOLD_PREFIX = "the shop set it to"
"""Start of the hold reason podops writes itself; only such holds are undone by the shop."""

_SHOP_HOLDABLE = frozenset(
    {OrderStatus.PENDING, OrderStatus.NEEDS_DESIGN, OrderStatus.SUBMIT_FAILED}
)
_IN_FLIGHT = frozenset(
    {
        OrderStatus.SUBMITTING,
        OrderStatus.SUBMITTED,
        OrderStatus.IN_PRODUCTION,
        OrderStatus.CANCEL_REQUESTED,
        OrderStatus.PARTIALLY_SHIPPED,
    }
)


def shop_hold_reason(store_status: str) -> str:
    return (
        f"{SHOP_HOLD_PREFIX} {store_status!r}: podops will not send it to the provider; "
        "it is released when the shop sets it back"
    )


def note_store_change(session: Session, order: Order, changed: datetime) -> None:
    """Remember the store's newest change time, under the order's version: a
    concurrent older delivery about to change the status then fails its own
    version check (and is retried, and then found older) instead of winning."""
    table: Any = Order.__table__
    version = order.version
    result = session.execute(
        update(table)
        .where(table.c.id == order.id, table.c.version == version)
        .values(store_modified_at=changed, version=version + 1)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise ConcurrentModification(
            f"{order.label} was changed by someone else at the same moment; try again"
        )
    set_committed_value(order, "store_modified_at", changed)
    set_committed_value(order, "version", version + 1)


def apply_store_update(
    session: Session,
    order: Order,
    incoming: IncomingOrder,
    actor: Actor,
    fulfil_statuses: Collection[str] | None = None,
) -> bool:
    """Follow a status change made in the shop; True if the order changed.

    A delivery older than the newest one applied is ignored: WooCommerce retries
    webhooks, so "cancelled" may arrive after the "processing" of a reopened order.
    `fulfil_statuses=None` (outside orders) means the shop's status never holds.
    """
    seen, changed = order.store_modified_at, incoming.modified_at
    if changed is not None and seen is not None and changed < seen:
        return False
    moved = _follow_status(session, order, incoming, actor, fulfil_statuses)
    moved = follow_store_address(session, order, incoming, actor) or moved
    moved = _refunds_unread(session, order, incoming, actor) or moved
    return apply_refunds(session, order, incoming, actor) or moved


def _refunds_unread(session: Session, order: Order, incoming: IncomingOrder, actor: Actor) -> bool:
    """The shop lists refunds podops could not read: what is left to make is unknown,
    so an order not yet sent is held for a person (not undone by the shop)."""
    if not incoming.refunds_unread or OrderStatus(order.status) not in _SHOP_HOLDABLE:
        return False
    hold_order(
        session,
        order,
        actor,
        f"the shop refunded some of it and podops could not read what "
        f"({incoming.refunds_unread[:200]}): check the refunds in the shop, then release it",
    )
    return True


def _follow_status(
    session: Session,
    order: Order,
    incoming: IncomingOrder,
    actor: Actor,
    fulfil_statuses: Collection[str] | None,
) -> bool:
    seen, changed = order.store_modified_at, incoming.modified_at
    if incoming.store_status == order.store_status:
        if changed is not None and (seen is None or changed > seen):
            note_store_change(session, order, changed)
        return False
    before = order.store_status
    order.store_status = incoming.store_status
    if changed is not None:
        order.store_modified_at = changed
    if incoming.store_status in STORE_CANCEL_STATUSES:
        _cancelled_in_shop(session, order, incoming.store_status, actor)
        return True
    events.record(
        session, order, actor, EventName.STORE_STATUS, previous=before, now=incoming.store_status
    )
    if fulfil_statuses is not None:
        if incoming.store_status in fulfil_statuses:
            _back_in_shop(session, order, actor)
        else:
            _stopped_in_shop(session, order, incoming.store_status, actor)
    return True


def _cancelled_in_shop(session: Session, order: Order, store_status: str, actor: Actor) -> None:
    reason = f"{store_status} in the store"
    status = OrderStatus(order.status)
    if status in BEFORE_SUBMISSION:
        order.cancel_reason = reason
        apply(session, order, Action.CANCEL, actor, reason=reason)
    elif status not in (OrderStatus.CANCELLED, OrderStatus.CANCEL_REQUESTED):
        problem = f"{reason} after submission to {order.provider}: cancel at the provider"
        _problem(session, order, actor, EventName.STORE_CANCELLED_AFTER_SUBMISSION, problem)


def _stopped_in_shop(session: Session, order: Order, store_status: str, actor: Actor) -> None:
    """The shop no longer wants this order made (on-hold, pending payment...)."""
    status = OrderStatus(order.status)
    if status in _SHOP_HOLDABLE:
        hold_order(session, order, actor, shop_hold_reason(store_status))
    elif status in _IN_FLIGHT and store_status != "completed":
        problem = (
            f"the shop set it to {store_status!r} after submission to {order.provider}: "
            "check with the shop, and hold or cancel it at the provider"
        )
        _problem(session, order, actor, EventName.STORE_HELD_AFTER_SUBMISSION, problem)


def _back_in_shop(session: Session, order: Order, actor: Actor) -> None:
    """Undo a hold podops made because of the shop; a staff hold stays."""
    if OrderStatus(order.status) == OrderStatus.ON_HOLD and (order.hold_reason or "").startswith(
        SHOP_HOLD_PREFIX
    ):
        release_order(session, order, actor)


def _problem(session: Session, order: Order, actor: Actor, action: EventName, problem: str) -> None:
    order.problems = [*order.problems, problem]
    event = events.record(session, order, actor, action, problem=problem)
    notify(session, order, event)
