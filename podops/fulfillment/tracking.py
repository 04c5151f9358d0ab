"""Bringing a provider's view of a fulfillment home: production, parcels, cancellation.

Every change goes through a service (`record_provider_status`,
`record_cancelled_at_provider`, `start_production`, `record_tracking`), so each
writes its event and its outbox messages (tracking to the store, notices to
Slack). Applying the same provider answer twice changes nothing: parcels
already recorded are skipped, and a parcel refused once is reported once.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from podops import events, services
from podops.carriers import normalize_tracking_number, provider_carrier
from podops.errors import DomainRefusal, InvalidInput
from podops.events import Actor, EventName
from podops.fulfillment_status import FulfillmentKind, FulfillmentStatus
from podops.models import Event, Fulfillment, Order
from podops.ports.fulfillment import ProviderOrder, ProviderShipment, ProviderStatus
from podops.refs import LineRef
from podops.services.shipping import ShipLine

log = logging.getLogger(__name__)

CANCELLABLE = (
    FulfillmentStatus.SUBMITTED,
    FulfillmentStatus.IN_PRODUCTION,
    FulfillmentStatus.CANCEL_REQUESTED,
)
"""Where a provider's own cancellation is recorded (a parcel already left otherwise)."""


def apply_provider_order(
    session: Session, order: Order, part: Fulfillment, remote: ProviderOrder, actor: Actor
) -> list[str]:
    """Apply what the provider reports of one fulfillment; return what changed, in words."""
    changes: list[str] = []
    services.record_provider_cost(part, remote)
    change = services.record_provider_status(session, order, part, remote, actor)
    if change:
        changes.append(change)
    status = FulfillmentStatus(part.status)
    if remote.status == ProviderStatus.CANCELLED and status in CANCELLABLE:
        services.record_cancelled_at_provider(session, order, part, remote, actor)
        return ["cancelled"]
    if remote.status == ProviderStatus.IN_PRODUCTION and status == FulfillmentStatus.SUBMITTED:
        services.start_production(session, order, part, actor, provider_status=remote.raw_status)
        changes.append("in production")
    known = {shipment.tracking_number for shipment in order.shipments}
    for parcel in remote.shipments:
        if _normalized(parcel.tracking_number) in known:
            continue
        change = _record_parcel(session, order, part, parcel, actor)
        if change:
            changes.append(change)
            known.add(_normalized(parcel.tracking_number))
    return changes


def _record_parcel(
    session: Session, order: Order, part: Fulfillment, parcel: ProviderShipment, actor: Actor
) -> str | None:
    carrier = provider_carrier(parcel.carrier, parcel.tracking_number)
    try:
        if part.kind == FulfillmentKind.REMAKE:
            services.record_remake_parcel(
                session,
                order,
                part,
                carrier,
                parcel.tracking_number,
                actor,
                units=_remake_units(order, part, parcel),
                shipped_at=parcel.shipped_at,
            )
            return f"remake shipped {carrier} {parcel.tracking_number}"
        lines = _ship_lines(order, part, parcel)
        services.record_tracking(
            session,
            order,
            carrier,
            parcel.tracking_number,
            actor,
            lines=lines,
            shipped_at=parcel.shipped_at,
            fulfillment=part,
        )
    except DomainRefusal as exc:
        if _already_rejected(session, order, parcel.tracking_number, exc.message):
            return None  # the same answer on every poll: staff were told once
        log.warning("tracking for %s not recorded: %s", order.label, exc.message)
        events.record(
            session,
            order,
            actor,
            EventName.TRACKING_REJECTED,
            tracking_number=parcel.tracking_number,
            carrier=parcel.carrier,
            reason=exc.message,
            fulfillment=part.reference,
        )
        return None
    return f"shipped {carrier} {parcel.tracking_number}"


def _already_rejected(session: Session, order: Order, number: str, reason: str) -> bool:
    earlier = session.scalars(
        select(Event.detail).where(
            Event.order_id == order.id, Event.action == EventName.TRACKING_REJECTED
        )
    )
    return any(d.get("tracking_number") == number and d.get("reason") == reason for d in earlier)


def _ship_lines(order: Order, part: Fulfillment, parcel: ProviderShipment) -> list[ShipLine]:
    """The lines a parcel holds, from the provider's line ids or its unit count; only
    the fulfillment's own lines (a provider of one part never ships another's)."""
    mine = [line.line_item for line in part.lines]
    if parcel.lines:
        positions = {item.position for item in mine}
        found = [ShipLine(_position(order, ref), qty) for ref, qty in parcel.lines.items()]
        for ship in found:
            if ship.line not in positions:
                raise DomainRefusal(
                    f"{part.provider} named line {ship.line} of {order.label}, which "
                    f"{part.label} does not make"
                )
        return found
    remaining = sum(i.quantity_open for i in mine) if parcel.quantity is None else parcel.quantity
    lines = []
    for item in mine:
        take = min(item.quantity_open, remaining)
        if take > 0:
            lines.append(ShipLine(item.position, take))
            remaining -= take
    if not lines:
        raise DomainRefusal(f"every item of {part.label} of {order.label} is already shipped")
    return lines


def _remake_units(
    order: Order, part: Fulfillment, parcel: ProviderShipment
) -> dict[int, int] | None:
    """Line item id -> units of a remake's parcel, from the provider's line ids (None:
    the parcel holds what the remake has left to ship)."""
    if not parcel.lines:
        return None
    mine = {line.line_item.position: line.line_item_id for line in part.lines}
    units = {}
    for ref, quantity in parcel.lines.items():
        position = _position(order, ref)
        if position not in mine:
            raise DomainRefusal(
                f"{part.provider} named line {position} of {order.label}, which remake "
                f"{part.label} does not make"
            )
        units[mine[position]] = quantity
    return units


def _position(order: Order, line_reference: str) -> int:
    try:
        line = LineRef.parse_label(line_reference)
    except InvalidInput:
        line = None
    if line is None or line.order.number != order.number:
        raise DomainRefusal(f"the provider named line {line_reference!r}, not one of {order.label}")
    return line.position


def _normalized(number: str) -> str:
    return normalize_tracking_number(number)
