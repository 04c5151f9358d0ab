"""Many parcels recorded at once (a pasted Tracking tab, a CSV file).

`podops.tracking.bulk` checks each row against `podops.tracking.parcels` (the
rules `record_tracking` follows) and hands the accepted parcels here. They are
written with one multi-row statement per table: shipments, their lines, the
lines' shipped quantities, the fulfillments' and orders' statuses (each guarded
by its version, as an ORM flush would be), one lifecycle event per parcel, and the outbox
messages `record_tracking` schedules (Slack notice, store), so 5,000 rows take
well under a second instead of a minute.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from podops.carriers import tracking_url
from podops.errors import ConcurrentModification
from podops.events import Actor, EventName
from podops.fulfillment_status import TRACKED, FulfillmentStatus, ship_step, transition
from podops.models import (
    Event,
    Fulfillment,
    FulfillmentLine,
    LineItem,
    Order,
    OutboxMessage,
    Shipment,
    ShipmentLine,
)
from podops.outbox import Outgoing, Topic
from podops.outbox.messages import event_message
from podops.services.order_changes import NOTIFY_ACTIONS
from podops.status import OrderStatus
from podops.tracking.parcels import OrderLines, ParcelPlan, store_messages

CHUNK = 500


@dataclass(frozen=True, slots=True)
class PlannedParcel:
    """One accepted parcel: its order's state after it, and what it ships."""

    state: OrderLines
    plan: ParcelPlan
    shared: tuple[str, ...] = ()
    """Numbers of the other orders that already have this tracking number."""


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


def record_parcels(
    session: Session, parcels: list[PlannedParcel], actor: Actor, now: datetime
) -> None:
    """Shipments, lines, quantities, statuses, events and outbox: one statement each."""
    shipment_ids = _insert_shipments(session, parcels, actor, now)
    touched = {p.state.id: p.state for p in parcels}
    _update_items(session, touched)
    _update_parts(session, touched, now)
    _update_orders(session, touched, now)
    event_ids = _insert_events(session, parcels, actor, now)
    _enqueue_all(session, parcels, shipment_ids, event_ids, now)


def _insert_shipments(
    session: Session, parcels: list[PlannedParcel], actor: Actor, now: datetime
) -> list[int]:
    """The parcels and their lines; the new ids in the parcels' order.

    New ids are matched back by (order, tracking number), unique per order, rather
    than by parameter order: SQLite would insert row by row to keep that order."""
    shipments = _table(Shipment)
    returned = session.execute(
        insert(shipments).returning(
            shipments.c.id, shipments.c.order_id, shipments.c.tracking_number
        ),
        [
            {
                "order_id": p.state.id,
                "carrier": p.plan.carrier,
                "tracking_number": p.plan.number,
                "tracking_url": tracking_url(p.plan.carrier, p.plan.number),
                "shipped_at": now,
                "channel": actor.channel.value,
            }
            for p in parcels
        ],
    )
    by_number = {(oid, number): sid for sid, oid, number in returned}
    shipment_ids = [by_number[(p.state.id, p.plan.number)] for p in parcels]
    session.execute(
        insert(_table(ShipmentLine)),
        [
            {"shipment_id": sid, "line_item_id": line.id, "quantity": qty}
            for sid, p in zip(shipment_ids, parcels, strict=True)
            for line, qty in p.plan.lines
        ],
    )
    return shipment_ids


def _insert_events(
    session: Session, parcels: list[PlannedParcel], actor: Actor, now: datetime
) -> list[int]:
    """The lifecycle event of each parcel (`ship_part` / `ship_all`); ids in order."""
    events = _table(Event)
    returned = session.execute(
        insert(events).returning(events.c.id, events.c.order_id, events.c.detail),
        [
            {
                "order_id": p.state.id,
                "at": now,
                "actor": actor.name,
                "channel": actor.channel.value,
                "action": EventName.of(p.plan.action).value,
                "from_status": p.plan.before.value,
                "to_status": p.plan.after.value,
                "detail": p.plan.event_detail(p.shared),
            }
            for p in parcels
        ],
    )
    by_number = {(oid, detail["tracking_number"]): eid for eid, oid, detail in returned}
    return [by_number[(p.state.id, p.plan.number)] for p in parcels]


def _update_items(session: Session, touched: dict[int, OrderLines]) -> None:
    table = _table(LineItem)
    statement = (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(quantity_shipped=bindparam("b_shipped"))
    )
    rows = [
        {"b_id": line.id, "b_shipped": line.quantity - line.open}
        for state in touched.values()
        for line in state.lines
    ]
    session.connection().execute(statement, rows)


def _update_parts(session: Session, touched: dict[int, OrderLines], now: datetime) -> None:
    """Each fulfillment at a provider follows its lines' shipped units, as
    `services.fulfillments.ship_parts` does for one parcel (one statement per chunk)."""
    parts, part_lines = _table(Fulfillment), _table(FulfillmentLine)
    ids = list(touched)
    found: dict[int, tuple[int, str, int, list[tuple[int, int]]]] = {}
    for start in range(0, len(ids), CHUNK):
        query = (
            select(
                parts.c.id,
                parts.c.order_id,
                parts.c.status,
                parts.c.version,
                part_lines.c.line_item_id,
                part_lines.c.quantity,
            )
            .join(part_lines, part_lines.c.fulfillment_id == parts.c.id)
            .where(parts.c.order_id.in_(ids[start : start + CHUNK]), parts.c.status.in_(TRACKED))
        )
        for pid, oid, status, version, line_id, quantity in session.execute(query):
            found.setdefault(pid, (oid, status, version, []))[3].append((line_id, quantity))
    rows = []
    for pid, (oid, status, version, lines) in found.items():
        shipped = {line.id: line.quantity - line.open for line in touched[oid].lines}
        units = sum(quantity for _, quantity in lines)
        done = sum(min(shipped.get(line_id, 0), quantity) for line_id, quantity in lines)
        action = ship_step(FulfillmentStatus(status), units, done)
        if action is None:
            continue
        after = transition(FulfillmentStatus(status), action, label=f"fulfillment {pid}").after
        rows.append(
            {
                "b_id": pid,
                "b_version": version,
                "b_next": version + 1,
                "b_status": after.value,
                "b_shipped_at": now if after == FulfillmentStatus.SHIPPED else None,
                "b_now": now,
            }
        )
    if not rows:
        return
    statement = (
        update(parts)
        .where(parts.c.id == bindparam("b_id"), parts.c.version == bindparam("b_version"))
        .values(
            status=bindparam("b_status"),
            shipped_at=bindparam("b_shipped_at"),
            updated_at=bindparam("b_now"),
            version=bindparam("b_next"),
        )
    )
    result = session.connection().execute(statement, rows)
    if session.get_bind().dialect.supports_sane_multi_rowcount and result.rowcount != len(rows):
        raise ConcurrentModification(
            "some of these orders were changed by someone else at the same moment; try again"
        )


def _update_orders(session: Session, touched: dict[int, OrderLines], now: datetime) -> None:
    """Each order once, guarded by its version like an ORM flush would be."""
    table = _table(Order)
    statement = (
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.version == bindparam("b_version"))
        .values(
            status=bindparam("b_status"),
            shipped_at=bindparam("b_shipped_at"),
            updated_at=bindparam("b_now"),
            version=bindparam("b_next"),
        )
    )
    rows = [
        {
            "b_id": order_id,
            "b_version": state.version,
            "b_next": state.version + 1,
            "b_status": state.status,
            "b_shipped_at": now if state.status == OrderStatus.SHIPPED else state.shipped_at,
            "b_now": now,
        }
        for order_id, state in touched.items()
    ]
    result = session.connection().execute(statement, rows)
    if session.get_bind().dialect.supports_sane_multi_rowcount and result.rowcount != len(rows):
        raise ConcurrentModification(
            "some of these orders were changed by someone else at the same moment; try again"
        )


def _enqueue_all(
    session: Session,
    parcels: list[PlannedParcel],
    shipment_ids: list[int],
    event_ids: list[int],
    now: datetime,
) -> None:
    """The outbox messages `record_tracking` schedules (Slack notice, store), in one go."""
    messages: dict[str, dict[str, object]] = {}

    def add(message: Outgoing) -> None:
        messages[message.dedup_key] = {**message.row(), "created_at": now, "next_attempt_at": now}

    for parcel, shipment_id, event_id in zip(parcels, shipment_ids, event_ids, strict=True):
        order_id = parcel.state.id
        if parcel.plan.action in NOTIFY_ACTIONS:  # as services.order_changes.notify does
            add(event_message(order_id, event_id))
        for message in store_messages(order_id, shipment_id, parcel.plan.everything):
            add(message)
    # Keys made from the ids just inserted cannot exist yet; only "completed" may repeat.
    keys = [key for key, message in messages.items() if message["topic"] == Topic.STORE_STATUS]
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        query = select(OutboxMessage.dedup_key).where(OutboxMessage.dedup_key.in_(chunk))
        for key in session.scalars(query):
            messages.pop(key, None)
    if messages:
        session.execute(insert(_table(OutboxMessage)), list(messages.values()))
