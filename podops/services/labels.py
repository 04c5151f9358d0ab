"""Shipping labels on orders: the claim before buying, each step's record, the bought
label as a parcel, a void, and the tracker's delivery.

Buying happens outside any transaction (`podops.labels.desk`); these services are
the short transactions around it. A label's row exists before anything is bought
and holds `open_order_id` while it is in flight: the unique index on it (and the
look for an open label under the order's lock) lets one label of an order be in
flight, so two staff pressing "buy" at once get one label. A bought label is
recorded by `record_tracking`, as `podops track` records a parcel: the store gets
the tracking, the last parcel completes the order.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from podops import events
from podops.errors import DomainRefusal
from podops.events import Actor, EventName
from podops.fulfillment_status import FulfillmentKind, FulfillmentStatus
from podops.fulfillment_status import transition as fulfillment_transition
from podops.models import Label, LineItem, Order, OutboxMessage, Shipment, utcnow
from podops.outbox import Topic, enqueue
from podops.outbox.messages import store_reopen_message
from podops.ports.labels import PostageLabel
from podops.refs import OrderRef
from podops.services.lookup import get_order
from podops.services.order_changes import apply
from podops.services.shipping import record_tracking
from podops.status import Action, OrderStatus
from podops.tracking.parcels import LineState, OrderLines, ShipLine, allocate

STALE_AFTER = timedelta(minutes=2)
"""A label in flight this long without news was left by a process that died: the
next request resumes it (looking its shipment up before any buy)."""
LABELLABLE = frozenset(
    {OrderStatus.SUBMITTED, OrderStatus.IN_PRODUCTION, OrderStatus.PARTIALLY_SHIPPED}
)
IN_FLIGHT = ("claimed", "created", "buying")


class LabelInFlight(DomainRefusal):
    """Another label of this order is being bought right now."""


@dataclass(frozen=True, slots=True)
class LabelClaim:
    """What the desk needs to buy one label, read in the claim's transaction."""

    label_id: int
    token: str
    order: OrderRef
    store: str
    lines: tuple[tuple[int, int, str], ...]
    """(line item id, units, product key) in the parcel."""
    reference: str
    service_shipment_id: str | None
    """Set when resuming a label whose shipment exists: look it up before buying."""


def in_flight_key(order: Order) -> int | None:
    """The value that keeps one label of `order` in flight (the guard)."""
    return order.id


def labelled_lines(order: Order, manual: Collection[str]) -> list[LineItem]:
    """The order's lines a shop-made (manual provider) fulfillment holds."""
    ids = {
        line.line_item_id
        for part in order.fulfillments
        if part.kind == FulfillmentKind.ORDER
        and part.status != FulfillmentStatus.CANCELLED
        and part.provider in manual
        for line in part.lines
    }
    return [item for item in order.items if item.id in ids]


def refusal(order: Order, manual: Collection[str]) -> str | None:
    """Why `order` cannot have a label now (None: it can)."""
    status = OrderStatus(order.status)
    if status in (OrderStatus.CANCELLED, OrderStatus.CANCEL_REQUESTED):
        return f"{order.label} is {status.label}: no label"
    if status in (OrderStatus.SHIPPED, OrderStatus.COMPLETED, OrderStatus.RETURNED):
        return f"{order.label} is {status.label}: every item already has its parcel"
    made_here = any(item.provider in manual for item in order.items)
    if status not in LABELLABLE and made_here:
        return f"{order.label} is {status.label}: submit it first (`podops submit`)"
    mine = labelled_lines(order, manual) if status in LABELLABLE else []
    if not mine:
        providers = order.provider or "none yet"
        return (
            f"{order.label} is not made by the shop (provider: {providers}); labels are "
            "for orders of the manual provider"
        )
    if all(item.quantity_open == 0 for item in mine):
        return f"{order.label} is fully labelled: every item it makes has its parcel"
    return None


def claim_label(
    session: Session,
    reference: str | OrderRef,
    actor: Actor,
    *,
    manual: Collection[str],
    lines: list[ShipLine] | None = None,
    rate_rule: str = "",
    now: datetime | None = None,
) -> LabelClaim:
    """Check the order and take its label slot; resume a label a dead process left."""
    now = now or utcnow()
    order = get_order(session, reference, for_update=True)
    why = refusal(order, manual)
    if why:
        raise DomainRefusal(why)
    key = in_flight_key(order)
    open_label = (
        session.scalars(select(Label).where(Label.open_order_id == key)).first()
        if key is not None
        else None
    )
    if open_label is not None:
        if now - open_label.claimed_at < STALE_AFTER:
            raise LabelInFlight(
                f"a label for {order.label} is being bought right now (asked by "
                f"{open_label.requested_by}); it shows on the order when done"
            )
        return _resume(open_label, order, actor, now)
    mine = labelled_lines(order, manual)
    state = OrderLines(
        id=order.id,
        number=order.number,
        status=OrderStatus(order.status),
        lines=[
            LineState(i.id, i.position, i.sku, i.reference, i.quantity, i.quantity_open)
            for i in mine
        ],
    )
    taken = allocate(state, lines)
    keys = {item.id: item.product_key for item in mine}
    label = Label(
        order_id=order.id,
        open_order_id=key,
        state="claimed",
        token=secrets.token_hex(8),
        requested_by=actor.name,
        channel=actor.channel.value,
        claimed_at=now,
        lines=[[line.id, qty] for line, qty in taken],
        rate_rule=rate_rule,
    )
    session.add(label)
    try:
        session.flush()
    except IntegrityError as exc:
        raise LabelInFlight(f"a label for {order.label} is being bought right now") from exc
    return _claim(label, order, keys)


def _resume(label: Label, order: Order, actor: Actor, now: datetime) -> LabelClaim:
    label.token = secrets.token_hex(8)
    label.claimed_at = now
    label.requested_by = actor.name
    keys = {item.id: item.product_key for item in order.items}
    return _claim(label, order, keys)


def _claim(label: Label, order: Order, keys: dict[int, str]) -> LabelClaim:
    return LabelClaim(
        label_id=label.id,
        token=label.token,
        order=OrderRef.of(order),
        store=order.store.key,
        lines=tuple((int(i), int(q), keys.get(int(i), "")) for i, q in label.lines),
        reference=f"{OrderRef.of(order).provider}-L{label.id}",
        service_shipment_id=label.service_shipment_id,
    )


def _mine(session: Session, claim: LabelClaim) -> Label:
    label = session.get(Label, claim.label_id, with_for_update=True)
    if label is None or label.token != claim.token or label.state not in IN_FLIGHT:
        raise LabelInFlight("this label was taken over by another request; nothing was bought")
    return label


def note_step(
    session: Session,
    claim: LabelClaim,
    state: str,
    *,
    service_shipment_id: str | None = None,
    rate_id: str | None = None,
) -> None:
    """A step of the buy, stored before the next outside call (the shipment's id above
    all: a lost answer is then looked up, never bought again)."""
    label = _mine(session, claim)
    label.state = state
    label.claimed_at = utcnow()
    if service_shipment_id is not None:
        label.service_shipment_id = service_shipment_id
    if rate_id is not None:
        label.rate_id = rate_id


def fail_label(session: Session, claim: LabelClaim, reason: str) -> None:
    """Nothing was bought: the order stays as it was, the slot is free again."""
    label = _mine(session, claim)
    label.state = "failed"
    label.open_order_id = None
    label.error = reason[:2000]


def record_bought(
    session: Session,
    claim: LabelClaim,
    bought: PostageLabel,
    files: dict[str, str],
    actor: Actor,
) -> tuple[Label, Shipment]:
    """The label is bought: its parcel goes on the order as `podops track` records one
    (store push, completion with the last parcel)."""
    label = _mine(session, claim)
    order = get_order(session, claim.order, for_update=True)
    lines = [ShipLine(_position(order, line_id), qty) for line_id, qty, _key in claim.lines]
    part = next(
        (f for f in order.parts if any(line.line_item_id == claim.lines[0][0] for line in f.lines)),
        None,
    )
    shipment = record_tracking(
        session, order, bought.carrier, bought.tracking_code, actor, lines=lines, fulfillment=part
    )
    if bought.tracking_url:
        shipment.tracking_url = bought.tracking_url
    label.state = "bought"
    label.open_order_id = None
    label.carrier = bought.carrier
    label.service = bought.service
    label.price = bought.price
    label.currency = bought.currency
    label.tracking_number = shipment.tracking_number
    label.tracker_id = bought.tracker_id or None
    label.files = files
    label.shipment_id = shipment.id
    label.bought_at = utcnow()
    label.error = None
    events.record(
        session,
        order,
        actor,
        EventName.LABEL_BOUGHT,
        carrier=bought.carrier,
        service=bought.service,
        price=f"{bought.price} {bought.currency}",
        tracking_number=shipment.tracking_number,
    )
    return label, shipment


def _position(order: Order, line_id: int) -> int:
    return next(item.position for item in order.items if item.id == line_id)


def bought_label(session: Session, reference: str | OrderRef, tracking: str | None) -> Label:
    """The order's bought label (the one with `tracking`, or its only one)."""
    order = get_order(session, reference)
    found = list(
        session.scalars(
            select(Label)
            .where(Label.order_id == order.id, Label.state == "bought")
            .order_by(Label.id)
        )
    )
    if tracking:
        wanted = tracking.replace(" ", "").upper()
        found = [label for label in found if label.tracking_number == wanted]
    if not found:
        raise DomainRefusal(
            f"{order.label} has no bought label{' ' + tracking if tracking else ''}"
        )
    if len(found) > 1:
        numbers = ", ".join(str(label.tracking_number) for label in found)
        raise DomainRefusal(f"{order.label} has several labels ({numbers}): say which tracking")
    return found[0]


def record_void(session: Session, label_id: int, refund_status: str, actor: Actor) -> Order:
    """The carrier takes the label back: its parcel leaves the order, whose status steps
    back, and the store hears it (the tracking not yet sent is not sent; a store that
    already has it is told the order is open again)."""
    label = session.get(Label, label_id, with_for_update=True)
    if label is None or label.state != "bought":
        raise DomainRefusal("that label is not bought (voided already?)")
    order = get_order(session, OrderRef.of(label.order), for_update=True)
    shipment = session.get(Shipment, label.shipment_id) if label.shipment_id else None
    told_store = False
    if shipment is not None:
        told_store = _withdraw_store_messages(session, order, shipment)
        for parcel_line in shipment.lines:
            parcel_line.line_item.quantity_shipped -= parcel_line.quantity
        order.shipments.remove(shipment)
        session.delete(shipment)
    _unship_parts(order)
    everything_open = all(item.quantity_shipped == 0 for item in order.items)
    action = Action.UNSHIP_ALL if everything_open else Action.UNSHIP_PART
    apply(
        session,
        order,
        action,
        actor,
        tracking_number=label.tracking_number,
        refund_status=refund_status,
    )
    order.shipped_at = None
    order.completed_at = None
    label.state = "voided"
    label.voided_at = utcnow()
    label.refund_status = refund_status
    label.shipment_id = None
    if told_store:
        enqueue(session, store_reopen_message(order.id, label.id))
    return order


def _unship_parts(order: Order) -> None:
    """Each shipped fulfillment follows its lines' units back."""
    shipped = {item.id: item.quantity_shipped for item in order.items}
    for part in order.parts:
        status = FulfillmentStatus(part.status)
        if status not in (FulfillmentStatus.SHIPPED, FulfillmentStatus.PARTIALLY_SHIPPED):
            continue
        done = sum(min(shipped.get(line.line_item_id, 0), line.quantity) for line in part.lines)
        if done == part.units:
            continue
        action = Action.UNSHIP_ALL if done == 0 else Action.UNSHIP_PART
        label = f"{part.label} of {order.label}"
        part.status = fulfillment_transition(status, action, label=label).after
        if part.status != FulfillmentStatus.SHIPPED:
            part.shipped_at = None


def _withdraw_store_messages(session: Session, order: Order, shipment: Shipment) -> bool:
    """Drop the parcel's tracking push and the completion not yet sent; True when the
    store already heard of either (it must then be told the order is open again)."""
    told = False
    messages = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.order_id == order.id,
            OutboxMessage.topic.in_([Topic.STORE_TRACKING, Topic.STORE_STATUS]),
        )
    )
    withdrawn = []
    for message in messages:
        ours = message.topic == Topic.STORE_TRACKING and (
            message.payload.get("shipment_id") == shipment.id
        )
        completion = message.topic == Topic.STORE_STATUS and (
            message.payload.get("status") == "completed"
        )
        if not (ours or completion):
            continue
        if message.delivered_at is None:
            withdrawn.append(message.id)
        else:
            told = True
    if withdrawn:
        session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(withdrawn)))
    return told


def record_delivery(
    session: Session, tracking: str, status: str, at: datetime, actor: Actor
) -> Shipment | None:
    """A tracker's news on a label's parcel: its status, and the delivery date once
    delivered (the reports' "delivered"). None: no parcel has that number."""
    shipment = session.scalars(
        select(Shipment).where(Shipment.tracking_number == tracking).order_by(Shipment.id)
    ).first()
    if shipment is None:
        return None
    if shipment.delivery_status == status:
        return shipment
    shipment.delivery_status = status
    if status == "delivered" and shipment.delivered_at is None:
        shipment.delivered_at = at
        events.record(
            session,
            shipment.order,
            actor,
            EventName.PARCEL_DELIVERED,
            tracking_number=tracking,
            delivered_at=at.isoformat(),
        )
    return shipment


def labels_bought_since(session: Session, since: datetime) -> list[Label]:
    return list(
        session.scalars(
            select(Label)
            .where(Label.state == "bought", Label.bought_at >= since)
            .order_by(Label.bought_at, Label.id)
        )
    )


def order_labels(session: Session, order_ids: Collection[int]) -> dict[int, list[Label]]:
    """Bought labels per order (the sheet's Label column)."""
    found: dict[int, list[Label]] = {}
    if not order_ids:
        return found
    rows = session.scalars(
        select(Label).where(Label.order_id.in_(list(order_ids)), Label.state == "bought")
    )
    for label in rows:
        found.setdefault(label.order_id, []).append(label)
    return found


def price_words(price: Decimal | None, currency: str) -> str:
    return f"{price} {currency}" if price is not None else "?"
