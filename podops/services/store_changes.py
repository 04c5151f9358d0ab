"""A known order came again from its shop: follow what the shop changed.

- a new shipping address is followed (`services.address.follow_store_address`):
  applied before submission, sent to the provider after it;
- cancelled / refunded / failed / deleted in the shop cancels ours before
  submission, and raises a visible problem after it; items refunded in part are
  followed by `services.refunds`;
- items the shop added, removed or changed in number (not by a refund) since podops
  received the order are not followed (podops keeps the lines it received, with
  their designs): before submission the order is held saying what changed, after
  it staff get a visible problem; each change is told once;
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

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from podops import events
from podops.errors import ConcurrentModification
from podops.events import Actor, EventName
from podops.incoming import IncomingOrder
from podops.models import Event, Order
from podops.services.address import follow_store_address
from podops.services.order_changes import apply, notify
from podops.services.orders import hold_order, release_order
from podops.services.refunds import apply_refunds
from podops.status import BEFORE_SUBMISSION, Action, OrderStatus

STORE_CANCEL_STATUSES = frozenset({"cancelled", "refunded", "failed", "trash"})
SHOP_FULFILLED = frozenset({"fulfilled", "partially_fulfilled"})
"""Shopify's fulfillment states: podops' own parcels once some shipped, else the shop
fulfilled it itself."""
SHOP_HOLD_PREFIX = "the shop set it to"
"""Start of the hold reason podops writes itself; only such holds are undone by the shop."""

_SHOP_HOLDABLE = frozenset(
    {OrderStatus.PENDING, OrderStatus.NEEDS_DESIGN, OrderStatus.SUBMIT_FAILED}
)
REFUNDS_UNREAD_PROBLEM = "the shop refunded some of it and podops could not read what"
_REFUNDS_SETTLED = frozenset({OrderStatus.CANCELLED, OrderStatus.CANCEL_REQUESTED})
"""Nothing more is made: a refund podops cannot read changes nothing there."""
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
    moved = _items_changed(session, order, incoming, actor) or moved
    return apply_refunds(session, order, incoming, actor) or moved


ITEMS_CHANGED = "the shop changed its items"
_ITEMS_TOLD = frozenset(BEFORE_SUBMISSION | _IN_FLIGHT)
"""Where a change of items still matters: not yet made, or being made."""


def item_changes(order: Order, incoming: IncomingOrder) -> list[str]:
    """What the shop's items now say against the lines podops has: items added,
    removed, or with another number of units not explained by a refund."""
    if not incoming.items or any(not item.external_id for item in incoming.items):
        return []  # an order the store sent unreadable says nothing about its items
    known = {line.external_id: line for line in order.items if line.external_id}
    sent = {item.external_id for item in incoming.items}
    changes: list[str] = []
    for item in incoming.items:
        left = item.quantity - item.refunded_quantity
        line = known.get(item.external_id)
        if line is None:
            if left > 0:
                changes.append(f"{item.sku or item.name or 'an item'} x{left} added")
        elif left > line.quantity or (left < line.quantity and item.refunded_quantity == 0):
            changes.append(f"{line.sku} {line.quantity} -> {left}")
    changes.extend(
        f"{line.sku} x{line.quantity} removed" for key, line in known.items() if key not in sent
    )
    return changes


def _items_changed(session: Session, order: Order, incoming: IncomingOrder, actor: Actor) -> bool:
    """Tell staff once per change what the shop changed in the items (see the module)."""
    status = OrderStatus(order.status)
    changes = item_changes(order, incoming) if status in _ITEMS_TOLD else []
    change = ", ".join(changes)
    if not changes or change in _told_changes(session, order):
        return False
    if status in BEFORE_SUBMISSION:
        problem = (
            f"{ITEMS_CHANGED} ({change}): podops keeps the items it received; make the "
            "difference by hand, or cancel and import the order again"
        )
    else:
        problem = (
            f"{ITEMS_CHANGED} after submission to {order.provider} ({change}): "
            "change it at the provider"
        )
        order.problems = [*order.problems, problem]
    event = events.record(
        session, order, actor, EventName.STORE_ITEMS_CHANGED, change=change, problem=problem
    )
    if status in _SHOP_HOLDABLE:
        hold_order(session, order, actor, f"{problem}; then release it")
    notify(session, order, event)
    return True


def _told_changes(session: Session, order: Order) -> set[str]:
    details = session.scalars(
        select(Event.detail).where(
            Event.order_id == order.id, Event.action == EventName.STORE_ITEMS_CHANGED
        )
    )
    return {str(detail.get("change")) for detail in details if isinstance(detail, dict)}


def _refunds_unread(session: Session, order: Order, incoming: IncomingOrder, actor: Actor) -> bool:
    """The shop lists refunds podops could not read: what is left to make is unknown,
    so an order not yet sent is held for a person (not undone by the shop); one the
    provider already has (or a person holds) gets a visible problem and a notice
    instead, once: nothing else would tell staff that it may be made in full."""
    status = OrderStatus(order.status)
    if not incoming.refunds_unread or status in _REFUNDS_SETTLED:
        return False
    if status in _SHOP_HOLDABLE:
        hold_order(
            session,
            order,
            actor,
            f"{REFUNDS_UNREAD_PROBLEM} ({incoming.refunds_unread[:200]}): check the refunds "
            "in the shop, then release it",
        )
        return True
    if status in BEFORE_SUBMISSION:
        problem = f"{REFUNDS_UNREAD_PROBLEM}: check the refunds in the shop before releasing it"
    else:
        problem = (
            f"{REFUNDS_UNREAD_PROBLEM} after submission to {order.provider}: check the "
            "refunds in the shop, then reduce or cancel it at the provider"
        )
    if problem in order.problems:
        return False
    order.problems = [*order.problems, problem]
    event = events.record(
        session,
        order,
        actor,
        EventName.STORE_REFUNDS_UNREAD,
        problem=problem,
        error=incoming.refunds_unread[:200],
    )
    notify(session, order, event)
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
    elif status in _IN_FLIGHT and not _our_parcels(status, store_status):
        problem = (
            f"the shop set it to {store_status!r} after submission to {order.provider}: "
            "check with the shop, and hold or cancel it at the provider"
        )
        _problem(session, order, actor, EventName.STORE_HELD_AFTER_SUBMISSION, problem)


def _our_parcels(status: OrderStatus, store_status: str) -> bool:
    """The shop's status tells of the parcels podops pushed (not a stop): completed, or
    fulfilled in Shopify once podops shipped some. Shopify fulfilled before any parcel
    of ours was fulfilled by the shop itself: staff are told."""
    if store_status == "completed":
        return True
    return store_status in SHOP_FULFILLED and status == OrderStatus.PARTIALLY_SHIPPED


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
