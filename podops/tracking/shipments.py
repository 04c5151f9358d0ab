"""Each parcel of an order as staff read it (`podops orders show`): carrier, number,
tracking link, the units it holds, and the packing slip of the fulfillment it left
from (the manual provider hands one back when the order is "submitted": staff print
it and ship the parcel themselves).

A slip is found through the audit log: the `ready_to_download` event recorded right
after a fulfillment's `submit_ok` carries its documents, and `submit_ok` names the
fulfillment. A parcel staff recorded by hand names no fulfillment: it gets the slip of
the order's only fulfillment that has one.

A parcel whose label podops bought (EasyPost) shows that label: carrier, service, price
and a link to its PDF (`link` turns the stored file into one: the storage port's
signed or presigned link).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from podops.events import EventName
from podops.models import Event, Label, Order


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
    label: LabelRow | None = None
    """The label podops bought for it (None: tracking recorded otherwise)."""


@dataclass(frozen=True, slots=True)
class LabelRow:
    carrier: str
    service: str
    price: str
    """`7.58 USD`."""
    link: str
    """Where staff download its PDF ("" when its file was not stored)."""

    @property
    def words(self) -> str:
        return f"{self.carrier} {self.service}, {self.price}"


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


def parcel_labels(
    session: Session, order: Order, link: Callable[[str], str] | None = None
) -> dict[int, LabelRow]:
    """Shipment id -> the bought label that made it."""
    labels = session.scalars(
        select(Label).where(Label.order_id == order.id, Label.state == "bought")
    )
    found: dict[int, LabelRow] = {}
    for label in labels:
        if label.shipment_id is None:
            continue
        pdf = str(label.files.get("pdf") or "")
        found[label.shipment_id] = LabelRow(
            carrier=label.carrier,
            service=label.service,
            price=f"{label.price} {label.currency}" if label.price is not None else "?",
            link=(link(pdf) if link is not None else pdf) if pdf else "",
        )
    return found


def shipment_rows(
    session: Session, order: Order, link: Callable[[str], str] | None = None
) -> list[ShipmentRow]:
    """The order's parcels, oldest first, each with its tracking link, packing slip and
    label; `link`: a stored label file -> the link staff open (None: its location)."""
    slips = packing_slips(session, order)
    labels = parcel_labels(session, order, link)
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
                label=labels.get(shipment.id),
            )
        )
    return rows
