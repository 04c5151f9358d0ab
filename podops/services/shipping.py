"""After submission: production, tracking (partial by line), completion (returns:
`services.returns`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from podops.carriers import tracking_url
from podops.events import Actor
from podops.models import Fulfillment, Order, Shipment, ShipmentLine, utcnow
from podops.outbox import enqueue
from podops.services.fulfillments import ship_parts, step
from podops.services.lookup import get_order
from podops.services.order_changes import apply
from podops.status import Action, OrderStatus
from podops.tracking.parcels import (
    DuplicateTracking,
    LineState,
    OrderLines,
    ShipLine,
    normalize_parcel,
    plan_parcel,
    shared_warning,
    store_messages,
)

__all__ = [
    "DuplicateTracking",
    "ShipLine",
    "complete",
    "is_fully_shipped",
    "order_lines",
    "record_tracking",
    "start_production",
    "tracking_warning",
]


def start_production(
    session: Session, order: Order, part: Fulfillment, actor: Actor, *, provider_status: str
) -> Order:
    """The provider started making the fulfillment; the order is in production with
    its first fulfillment that is."""
    step(session, order, part, Action.START_PRODUCTION, actor, provider_status=provider_status)
    return order


def order_lines(order: Order) -> OrderLines:
    """The plain state `podops.tracking.parcels` decides on, read from a loaded order."""
    return OrderLines(
        id=order.id,
        number=order.number,
        status=OrderStatus(order.status),
        lines=[
            LineState(i.id, i.position, i.sku, i.reference, i.quantity, i.quantity_open)
            for i in order.items
        ],
        numbers={s.tracking_number: s.carrier for s in order.shipments},
        version=order.version,
        shipped_at=order.shipped_at,
    )


def record_tracking(
    session: Session,
    reference: str | Order,
    carrier: str,
    number: str,
    actor: Actor,
    *,
    lines: list[ShipLine] | None = None,
    shipped_at: datetime | None = None,
    fulfillment: Fulfillment | None = None,
) -> Shipment:
    """Record one parcel. Without `lines` it holds every unit not yet shipped.
    `fulfillment`: the one whose provider reported the parcel; each fulfillment at
    a provider follows the units of its lines (`services.fulfillments.ship_parts`).

    A number other orders already have is accepted (one parcel for several orders
    is legitimate) and named in the event (`shared_with`); `tracking_warning` is
    what the person who recorded it is told."""
    order = (
        reference
        if isinstance(reference, Order)
        else get_order(session, reference, for_update=True)
    )
    carrier_name, number = normalize_parcel(carrier, number)
    parcel = plan_parcel(order_lines(order), carrier_name, number, lines)
    others = orders_sharing(session, order.id, number)
    items = {item.id: item for item in order.items}
    shipment = Shipment(
        order=order,
        carrier=carrier_name,
        tracking_number=number,
        tracking_url=tracking_url(carrier_name, number),
        shipped_at=shipped_at or utcnow(),
        channel=actor.channel.value,
        lines=[ShipmentLine(line_item=items[line.id], quantity=qty) for line, qty in parcel.lines],
        fulfillment_id=fulfillment.id if fulfillment is not None else None,
    )
    session.add(shipment)
    for line, qty in parcel.lines:
        items[line.id].quantity_shipped += qty
    detail = parcel.event_detail(others)
    if fulfillment is not None and len(order.fulfillments) > 1:
        detail["fulfillment"] = fulfillment.reference
    ship_parts(order, detail)
    apply(session, order, parcel.action, actor, **detail)
    if parcel.everything:
        order.shipped_at = shipment.shipped_at
    session.flush()
    for message in store_messages(order.id, shipment.id, parcel.everything):
        enqueue(session, message)
    return shipment


def orders_sharing(session: Session, order_id: int, number: str) -> list[str]:
    """Numbers of the other orders that have a parcel with this tracking number."""
    query = (
        select(Order.number)
        .join(Shipment, Shipment.order_id == Order.id)
        .where(Shipment.tracking_number == number, Order.id != order_id)
        .distinct()
        .order_by(Order.number)
    )
    return list(session.scalars(query))


def tracking_warning(session: Session, shipment: Shipment) -> str:
    """What to tell the person who recorded `shipment` when other orders have its number."""
    others = orders_sharing(session, shipment.order_id, shipment.tracking_number)
    return shared_warning(shipment.tracking_number, others) if others else ""


def complete(session: Session, reference: str | Order, actor: Actor) -> Order:
    """The store has been told: the order is done."""
    order = (
        reference
        if isinstance(reference, Order)
        else get_order(session, reference, for_update=True)
    )
    apply(session, order, Action.COMPLETE, actor)
    order.completed_at = utcnow()
    return order


def is_fully_shipped(order: Order) -> bool:
    return OrderStatus(order.status) in (OrderStatus.SHIPPED, OrderStatus.COMPLETED)
