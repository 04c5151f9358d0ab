"""Recording many parcels at once (a pasted Tracking tab, a CSV file).

The rules are `podops.tracking.parcels`, the same ones `services.record_tracking`
follows (allocation, duplicate numbers, lifecycle step, audit event, store and
Slack messages through the outbox). Only the database work is done in bulk:
the orders are read as plain columns in a few queries, every row is checked in
memory against the state the rows before it left, and the results are written
with one multi-row statement per table (orders keep their optimistic version
check), so 5,000 rows take well under a second instead of a minute. Each row
succeeds or fails on its own; a refused row changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from podops.carriers import tracking_url
from podops.errors import ConcurrentModification, DomainRefusal, InvalidInput
from podops.events import Actor
from podops.models import Event, LineItem, Order, OutboxMessage, Shipment, ShipmentLine, Store
from podops.outbox import Outgoing, Topic
from podops.outbox.messages import event_message
from podops.services.order_changes import NOTIFY_ACTIONS
from podops.status import OrderStatus
from podops.tracking.parcels import (
    LineState,
    OrderLines,
    ParcelPlan,
    ShipLine,
    plan_parcel,
    store_messages,
)
from podops.tracking.rows import TrackingInput

CHUNK = 500


@dataclass(frozen=True, slots=True)
class TrackingOutcome:
    row: int
    ok: bool
    message: str
    order: str = ""
    order_id: int | None = None


@dataclass(frozen=True, slots=True)
class _Parcel:
    state: OrderLines
    plan: ParcelPlan


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


def record_trackings(
    session: Session, inputs: Sequence[TrackingInput], actor: Actor, now: datetime
) -> list[TrackingOutcome]:
    """Record each row's parcel, or say why not; one outcome per input, in order."""
    orders = _load_orders(session, inputs)
    outcomes: list[TrackingOutcome] = []
    parcels: list[_Parcel] = []
    for item in inputs:
        try:
            state, position = _resolve(orders, item)
            plan = plan_parcel(state, item.carrier, item.number, _wanted(state, position, item))
        except DomainRefusal as exc:
            outcomes.append(TrackingOutcome(item.row, False, exc.message))
            continue
        parcels.append(_Parcel(state, plan))
        outcomes.append(TrackingOutcome(item.row, True, "", state.number, state.id))
    if parcels:
        _write(session, parcels, actor, now)
    return outcomes


def _wanted(state: OrderLines, position: int | None, item: TrackingInput) -> list[ShipLine] | None:
    """What a row asks for: a line by reference or SKU, a quantity of the one open line, or all."""
    if position is not None:
        return [ShipLine(position, item.quantity)]
    if item.sku:
        return [ShipLine(item.sku, item.quantity)]
    if item.quantity is None:
        return None
    open_lines = [line for line in state.lines if line.open > 0]
    if len(open_lines) > 1:
        raise InvalidInput(
            f"{state.label} has several lines; say which with the sku or a line "
            f"reference like {state.number}-01"
        )
    if not open_lines:
        raise DomainRefusal(f"every item of {state.label} is already shipped")
    return [ShipLine(open_lines[0].position, item.quantity)]


def _load_orders(session: Session, inputs: Sequence[TrackingInput]) -> dict[str, list[OrderLines]]:
    """The orders the rows name, by number, as plain state (three column queries a chunk)."""
    numbers: set[str] = set()
    for item in inputs:
        numbers.add(item.reference.split(":")[-1])
        line = item.line_reference()
        if line:
            numbers.add(line[0].split(":")[-1])
    found: dict[str, list[OrderLines]] = {}
    ordered = sorted(numbers)
    for start in range(0, len(ordered), CHUNK):
        states = _load_chunk(session, ordered[start : start + CHUNK])
        for state in states.values():
            found.setdefault(state.number, []).append(state)
    return found


def _load_chunk(session: Session, numbers: list[str]) -> dict[int, OrderLines]:
    orders = select(
        Order.id, Order.number, Order.status, Order.version, Order.shipped_at, Store.key
    ).join(Store, Order.store_id == Store.id)
    states: dict[int, OrderLines] = {}
    for oid, number, status, version, shipped, store in session.execute(
        orders.where(Order.number.in_(numbers))
    ):
        states[oid] = OrderLines(
            oid, number, OrderStatus(status), [], version=version, shipped_at=shipped, store=store
        )
    if not states:
        return states
    items = (
        select(
            LineItem.order_id,
            LineItem.id,
            LineItem.position,
            LineItem.sku,
            LineItem.quantity,
            LineItem.quantity_shipped,
        )
        .where(LineItem.order_id.in_(list(states)))
        .order_by(LineItem.order_id, LineItem.position, LineItem.id)
    )
    for oid, iid, position, sku, quantity, units_shipped in session.execute(items):
        state = states[oid]
        reference = f"{state.number}-{position:02d}"
        state.lines.append(
            LineState(iid, position, sku, reference, quantity, quantity - units_shipped)
        )
    parcels = select(Shipment.order_id, Shipment.tracking_number, Shipment.carrier).where(
        Shipment.order_id.in_(list(states))
    )
    for oid, number, carrier in session.execute(parcels):
        states[oid].numbers[number] = carrier
    return states


def _pick(orders: dict[str, list[OrderLines]], reference: str) -> OrderLines | None:
    store, _, number = reference.rpartition(":")
    matches = [o for o in orders.get(number, []) if not store or o.store == store]
    if len(matches) > 1:
        choices = ", ".join(f"{o.store}:{o.number}" for o in matches)
        raise DomainRefusal(f"order {number} exists in several stores; say which: {choices}")
    return matches[0] if matches else None


def _resolve(
    orders: dict[str, list[OrderLines]], item: TrackingInput
) -> tuple[OrderLines, int | None]:
    """The order, and the line position when the reference names a line."""
    order = _pick(orders, item.reference)
    if order is not None:
        return order, None
    line = item.line_reference()
    if line is not None:
        order = _pick(orders, line[0])
        if order is not None:
            return order, line[1]
    raise DomainRefusal(f"no order {item.reference}")


def _write(session: Session, parcels: list[_Parcel], actor: Actor, now: datetime) -> None:
    """Shipments, lines, quantities, statuses, events and outbox: one statement each.

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
    touched = {p.state.id: p.state for p in parcels}
    _update_items(session, touched)
    _update_orders(session, touched, now)
    events = _table(Event)
    returned = session.execute(
        insert(events).returning(events.c.id, events.c.order_id, events.c.detail),
        [
            {
                "order_id": p.state.id,
                "at": now,
                "actor": actor.name,
                "channel": actor.channel.value,
                "action": p.plan.action.value,
                "from_status": p.plan.before.value,
                "to_status": p.plan.after.value,
                "detail": p.plan.event_detail(),
            }
            for p in parcels
        ],
    )
    by_number = {(oid, detail["tracking_number"]): eid for eid, oid, detail in returned}
    event_ids = [by_number[(p.state.id, p.plan.number)] for p in parcels]
    _enqueue_all(session, parcels, shipment_ids, event_ids, now)


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
    parcels: list[_Parcel],
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
