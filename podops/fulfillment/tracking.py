"""Bringing a provider's view of an order home: production, parcels, cancellation.

Everything goes through the services (`start_production`, `record_tracking`)
or the lifecycle table, so each change writes its event and its outbox
messages (tracking to the store, notices to Slack). Applying the same provider
answer twice changes nothing: parcels already recorded are skipped.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from podops import events, services
from podops.carriers import normalize_tracking_number, provider_carrier
from podops.errors import DomainRefusal
from podops.events import Actor
from podops.models import Event, Order
from podops.outbox import enqueue
from podops.outbox.messages import store_status_message
from podops.ports.fulfillment import ProviderOrder, ProviderShipment, ProviderStatus
from podops.services.order_changes import apply, notify
from podops.services.shipping import ShipLine
from podops.status import Action, OrderStatus

log = logging.getLogger(__name__)

TRACKED_STATUSES = (
    OrderStatus.SUBMITTED,
    OrderStatus.IN_PRODUCTION,
    OrderStatus.PARTIALLY_SHIPPED,
    OrderStatus.CANCEL_REQUESTED,
)


def confirm_cancel(session: Session, order: Order, actor: Actor, message: str) -> Order:
    """The provider cancelled it: the order is cancelled, and the store is told."""
    apply(session, order, Action.CONFIRM_CANCEL, actor, provider=order.provider, detail=message)
    reason = order.cancel_reason or message
    enqueue(session, store_status_message(order.id, "cancelled", reason=reason))
    return order


def refuse_cancel(session: Session, order: Order, actor: Actor, message: str) -> Order:
    """The provider will not cancel (already in production): say so, keep tracking it."""
    apply(session, order, Action.REFUSE_CANCEL, actor, provider=order.provider, reason=message)
    order.last_error = f"cancellation refused by {order.provider}: {message}"
    return order


def apply_provider_order(
    session: Session, order: Order, remote: ProviderOrder, actor: Actor
) -> list[str]:
    """Apply what the provider reports; return what changed, in words."""
    changes: list[str] = []
    if remote.raw_status and remote.raw_status != order.provider_status:
        order.provider_status = remote.raw_status
        change = _note_status_word(session, order, remote, actor)
        if change:
            changes.append(change)
    status = OrderStatus(order.status)
    if remote.status == ProviderStatus.CANCELLED and status in TRACKED_STATUSES:
        return _provider_cancelled(session, order, remote, actor)
    if remote.status == ProviderStatus.IN_PRODUCTION and status == OrderStatus.SUBMITTED:
        services.start_production(session, order, actor, provider_status=remote.raw_status)
        changes.append("in production")
    known = {shipment.tracking_number for shipment in order.shipments}
    for parcel in remote.shipments:
        if _normalized(parcel.tracking_number) in known:
            continue
        change = _record_parcel(session, order, parcel, actor)
        if change:
            changes.append(change)
            known.add(_normalized(parcel.tracking_number))
    return changes


UNKNOWN_STATUS_PROBLEM = "provider status not understood: "


def _note_status_word(
    session: Session, order: Order, remote: ProviderOrder, actor: Actor
) -> str | None:
    """Tell staff (once per new word) when the provider says something podops does not
    understand; forget it when the provider is back to a status podops knows."""
    order.problems = [p for p in order.problems if not p.startswith(UNKNOWN_STATUS_PROBLEM)]
    if remote.status != ProviderStatus.UNRECOGNIZED:
        return None
    problem = (
        f"{UNKNOWN_STATUS_PROBLEM}{order.provider} says '{remote.raw_status}'; "
        f"check the order at {order.provider}"
    )
    order.problems = [*order.problems, problem]
    event = events.record(
        session, order, actor, "provider_status_unknown", problem=problem, status=remote.raw_status
    )
    notify(session, order, event)
    return f"unknown provider status {remote.raw_status!r}"


def _provider_cancelled(
    session: Session, order: Order, remote: ProviderOrder, actor: Actor
) -> list[str]:
    message = f"cancelled at {order.provider} ({remote.raw_status or 'cancelled'})"
    if OrderStatus(order.status) != OrderStatus.CANCEL_REQUESTED:
        apply(session, order, Action.REQUEST_CANCEL, actor, reason=message)
        order.cancel_reason = order.cancel_reason or message
    confirm_cancel(session, order, actor, message)
    return ["cancelled"]


def _record_parcel(
    session: Session, order: Order, parcel: ProviderShipment, actor: Actor
) -> str | None:
    carrier = provider_carrier(parcel.carrier, parcel.tracking_number)
    try:
        lines = _ship_lines(order, parcel)
        services.record_tracking(
            session,
            order,
            carrier,
            parcel.tracking_number,
            actor,
            lines=lines,
            shipped_at=parcel.shipped_at,
        )
    except DomainRefusal as exc:
        if _already_rejected(session, order, parcel.tracking_number, exc.message):
            return None  # the same answer on every poll: staff were told once
        log.warning("tracking for %s not recorded: %s", order.label, exc.message)
        events.record(
            session,
            order,
            actor,
            "tracking_rejected",
            tracking_number=parcel.tracking_number,
            carrier=parcel.carrier,
            reason=exc.message,
        )
        return None
    return f"shipped {carrier} {parcel.tracking_number}"


def _already_rejected(session: Session, order: Order, number: str, reason: str) -> bool:
    earlier = session.scalars(
        select(Event.detail).where(Event.order_id == order.id, Event.action == "tracking_rejected")
    )
    return any(d.get("tracking_number") == number and d.get("reason") == reason for d in earlier)


def _ship_lines(order: Order, parcel: ProviderShipment) -> list[ShipLine] | None:
    """The lines a parcel holds, from the provider's line ids or its unit count."""
    if parcel.lines:
        return [ShipLine(_position(order, ref), qty) for ref, qty in parcel.lines.items()]
    if parcel.quantity is None:
        return None
    remaining = parcel.quantity
    lines = []
    for item in order.items:
        take = min(item.quantity_open, remaining)
        if take > 0:
            lines.append(ShipLine(item.position, take))
            remaining -= take
    return lines or None


def _position(order: Order, line_reference: str) -> int:
    number, _, position = line_reference.rpartition("-")
    if number != order.number or not position.isdigit():
        raise DomainRefusal(f"the provider named line {line_reference!r}, not one of {order.label}")
    return int(position)


def _normalized(number: str) -> str:
    return normalize_tracking_number(number)
