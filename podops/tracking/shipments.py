"""Each parcel of an order as staff read it (`podops orders show`): carrier, number,
tracking link, the units it holds, and the packing slip of the fulfillment it left
from (the manual provider hands one back when the order is "submitted": staff print
it and ship the parcel themselves).

A slip is found through the audit log: the `ready_to_download` event recorded right
after a fulfillment's `submit_ok` carries its documents, and `submit_ok` names the
fulfillment. A parcel staff recorded by hand names no fulfillment: it gets the slip of
the order's only fulfillment that has one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from podops.events import EventName
from podops.models import Event, Order


@dataclass(frozen=True, slots=True)
class ShipmentRow:
    carrier: str
    number: str
    link: str
    shipped_at: datetime
    lines: dict[str, int]
    """Line label (`1234-01`) -> units in the parcel."""
    packing_slip: str
    """The link to its fulfillment's packing slip ("" when there is none)."""
    part: str = ""
    """Its fulfillment (`main-1234`), when a provider reported it."""


def packing_slips(session: Session, order: Order) -> dict[str, str]:
    """Fulfillment reference -> the link to its packing slip, the latest submission's."""
    events = session.scalars(
        select(Event)
        .where(
            Event.order_id == order.id,
            Event.action.in_([EventName.SUBMIT_OK, EventName.READY_TO_DOWNLOAD]),
        )
        .order_by(Event.id)
    )
    slips: dict[str, str] = {}
    submitted: str | None = None
    only = order.fulfillments[0].reference if len(order.fulfillments) == 1 else None
    for event in events:
        if event.action == EventName.SUBMIT_OK:
            submitted = str(event.detail.get("fulfillment") or only or "")
        elif submitted and event.detail.get("packing_slip"):
            slips[submitted] = str(event.detail["packing_slip"])
    return slips


def shipment_rows(session: Session, order: Order) -> list[ShipmentRow]:
    """The order's parcels, oldest first, each with its tracking link and packing slip."""
    slips = packing_slips(session, order)
    parts = {part.id: part.reference for part in order.fulfillments}
    sole = next(iter(slips.values())) if len(slips) == 1 else ""
    rows = []
    for shipment in order.shipments:
        part = parts.get(shipment.fulfillment_id or -1, "")
        rows.append(
            ShipmentRow(
                carrier=shipment.carrier,
                number=shipment.tracking_number,
                link=shipment.tracking_url,
                shipped_at=shipment.shipped_at,
                lines={line.line_item.reference: line.quantity for line in shipment.lines},
                packing_slip=slips.get(part, "") if part else sole,
                part=part,
            )
        )
    return rows
