"""Orders the shop already fulfilled by hand: recorded, never sent anywhere.

A store's first sync finds old orders the shop may have made and shipped
itself before podops watched it; they wait on hold. Releasing one would send
it to a provider and cancelling it would push "cancelled" to the store, so
staff record it as fulfilled by the shop instead: the order is completed, no
provider hears of it, and the store's status is left as it is. With a
tracking number, the parcel is recorded (every unit) and only its tracking is
pushed to the store.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from podops.carriers import tracking_url
from podops.errors import InvalidInput
from podops.events import Actor
from podops.fulfillment_status import TO_SEND
from podops.models import Order, Shipment, ShipmentLine, utcnow
from podops.outbox import enqueue
from podops.outbox.messages import store_tracking_message
from podops.refs import OrderRef
from podops.services.fulfillments import step
from podops.services.lookup import get_order
from podops.services.order_changes import apply
from podops.services.orders import end_hold
from podops.status import Action
from podops.tracking.parcels import normalize_parcel


def record_fulfilled_by_shop(
    session: Session,
    reference: str | OrderRef,
    actor: Actor,
    *,
    carrier: str = "",
    number: str = "",
) -> Order:
    """Complete an order the shop fulfilled itself; with `carrier` and `number`, record
    its parcel and push that tracking (and nothing else) to the store."""
    order = get_order(session, reference, for_update=True)
    if bool(carrier.strip()) != bool(number.strip()):
        raise InvalidInput("give both the carrier and the tracking number (or neither)")
    parcel = normalize_parcel(carrier, number) if carrier.strip() else None
    detail = {"carrier": parcel[0], "tracking_number": parcel[1]} if parcel else {}
    apply(session, order, Action.FULFILLED_BY_SHOP, actor, **detail)
    for part in [p for p in order.parts if p.status in TO_SEND]:  # planned, never sent
        step(session, order, part, Action.CANCEL, actor, silent=True, settle=False)
    end_hold(order)
    order.completed_at = utcnow()
    if parcel is not None:
        _record_parcel(session, order, parcel[0], parcel[1], actor)
    return order


def _record_parcel(session: Session, order: Order, carrier: str, number: str, actor: Actor) -> None:
    """Every open unit in one parcel; the store hears of the tracking only."""
    open_lines = [(item, item.quantity_open) for item in order.items if item.quantity_open > 0]
    shipment = Shipment(
        order=order,
        carrier=carrier,
        tracking_number=number,
        tracking_url=tracking_url(carrier, number),
        shipped_at=utcnow(),
        channel=actor.channel.value,
        lines=[ShipmentLine(line_item=item, quantity=qty) for item, qty in open_lines],
    )
    session.add(shipment)
    for item, qty in open_lines:
        item.quantity_shipped += qty
    order.shipped_at = shipment.shipped_at
    session.flush()
    enqueue(session, store_tracking_message(order.id, shipment.id))
