"""Recording many parcels at once (a pasted Tracking tab, a CSV file).

The rules are `podops.tracking.parcels`, the same ones `services.record_tracking`
follows (allocation, duplicate numbers, lifecycle step, audit event, store and
Slack messages through the outbox). Only the database work is done in bulk:
the orders are read as plain columns in a few queries, every row is checked in
memory against the state the rows before it left, and the accepted parcels are
written by `services.record_parcels`, one multi-row statement per table (orders
keep their optimistic version check), so 5,000 rows take well under a second
instead of a minute. Each row succeeds or fails on its own; a refused row
changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from podops import services
from podops.errors import DomainRefusal, InvalidInput
from podops.events import Actor
from podops.models import LineItem, Order, Shipment, ShipmentLine, Store
from podops.refs import LineRef, OrderRef
from podops.services.bulk_tracking import PlannedParcel
from podops.status import OrderStatus
from podops.tracking.parcels import (
    LineState,
    OrderLines,
    RecordedParcel,
    ShipLine,
    plan_parcel,
    repeat_conflict,
    shared_warning,
)
from podops.tracking.rows import TrackingInput

CHUNK = 500


@dataclass(frozen=True, slots=True)
class TrackingOutcome:
    """One row's result: recorded (`message` may warn), already recorded, or refused."""

    row: int
    ok: bool
    message: str
    order: str = ""
    order_id: int | None = None
    already: bool = False


def record_trackings(
    session: Session, inputs: Sequence[TrackingInput], actor: Actor, now: datetime
) -> list[TrackingOutcome]:
    """Record each row's parcel, or say why not; one outcome per input, in order.

    A row that repeats a parcel already recorded (same order, number, carrier,
    line and units) is `already` recorded, not an error; one that contradicts it
    is refused."""
    orders = _load_orders(session, inputs)
    outcomes: list[TrackingOutcome] = []
    parcels: list[tuple[int, PlannedParcel]] = []
    for item in inputs:
        try:
            state, position = _resolve(orders, item)
            repeated = _repeated(state, position, item)
            if repeated is not None:
                outcomes.append(repeated)
                continue
            plan = plan_parcel(state, item.carrier, item.number, _wanted(state, position, item))
        except DomainRefusal as exc:
            outcomes.append(TrackingOutcome(item.row, False, exc.message))
            continue
        parcels.append((len(outcomes), PlannedParcel(state, plan)))
        outcomes.append(TrackingOutcome(item.row, True, "", state.number, state.id))
    if parcels:
        planned = _with_shared(session, [parcel for _, parcel in parcels])
        for (index, _), parcel in zip(parcels, planned, strict=True):
            if parcel.shared:
                warning = shared_warning(parcel.plan.number, parcel.shared)
                outcomes[index] = replace(outcomes[index], message=warning)
        services.record_parcels(session, planned, actor, now)
    return outcomes


def _repeated(
    state: OrderLines, position: int | None, item: TrackingInput
) -> TrackingOutcome | None:
    """The outcome of a row naming a parcel recorded before (None for a new number)."""
    recorded = state.recorded.get(item.number)
    if recorded is None:
        return None
    line = position if position is not None else (item.sku or None)
    conflict = repeat_conflict(state, recorded, item.carrier, line, item.quantity)
    if conflict:
        raise DomainRefusal(
            f"tracking {item.number} is already recorded on {state.label}, {conflict}"
        )
    message = f"already recorded on {state.label}"
    return TrackingOutcome(item.row, True, message, state.number, state.id, already=True)


def _with_shared(session: Session, parcels: list[PlannedParcel]) -> list[PlannedParcel]:
    """The parcels, each with the other orders (recorded before, or rows above it)
    that have its tracking number."""
    numbers = sorted({parcel.plan.number for parcel in parcels})
    owners: dict[str, dict[int, str]] = {}
    for start in range(0, len(numbers), CHUNK):
        query = (
            select(Shipment.tracking_number, Order.id, Order.number)
            .join(Order, Shipment.order_id == Order.id)
            .where(Shipment.tracking_number.in_(numbers[start : start + CHUNK]))
        )
        for number, order_id, order_number in session.execute(query):
            owners.setdefault(number, {})[order_id] = order_number
    result = []
    for parcel in parcels:
        holders = owners.setdefault(parcel.plan.number, {})
        others = tuple(n for oid, n in holders.items() if oid != parcel.state.id)
        holders[parcel.state.id] = parcel.state.number
        result.append(replace(parcel, shared=others))
    return result


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
            f"reference like {LineRef(OrderRef(state.store, state.number), 1).label}"
        )
    if not open_lines:
        raise DomainRefusal(f"every item of {state.label} is already shipped")
    return [ShipLine(open_lines[0].position, item.quantity)]


def _load_orders(session: Session, inputs: Sequence[TrackingInput]) -> dict[str, list[OrderLines]]:
    """The orders the rows name, by number, as plain state (three column queries a chunk)."""
    numbers: set[str] = set()
    for item in inputs:
        numbers.update(ref.number for ref in item.order_references())
        numbers.update(line.order.number for line in item.line_references())
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
        reference = LineRef(OrderRef(state.store, state.number), position).label
        state.lines.append(
            LineState(iid, position, sku, reference, quantity, quantity - units_shipped)
        )
    parcels = (
        select(
            Shipment.order_id,
            Shipment.tracking_number,
            Shipment.carrier,
            LineItem.position,
            ShipmentLine.quantity,
        )
        .outerjoin(ShipmentLine, ShipmentLine.shipment_id == Shipment.id)
        .outerjoin(LineItem, ShipmentLine.line_item_id == LineItem.id)
        .where(Shipment.order_id.in_(list(states)))
    )
    for oid, number, carrier, position, units in session.execute(parcels):
        states[oid].numbers[number] = carrier
        recorded = states[oid].recorded.setdefault(number, RecordedParcel(carrier))
        if position is not None:
            recorded.units[position] = recorded.units.get(position, 0) + (units or 0)
    return states


def _pick(orders: dict[str, list[OrderLines]], wanted: OrderRef) -> OrderLines | None:
    number = wanted.number
    matches = [o for o in orders.get(number, []) if wanted.names_store(o.store)]
    if len(matches) > 1:
        choices = ", ".join(OrderRef(o.store, o.number).staff for o in matches)
        raise DomainRefusal(f"order {number} exists in several stores; say which: {choices}")
    return matches[0] if matches else None


def _pasted_form(orders: dict[str, list[OrderLines]], state: OrderLines) -> str:
    """What to paste to name `state` alone: its number with its store, else the number."""
    ref = OrderRef(state.store, state.number)
    for text in (ref.staff, ref.number):
        try:
            named = {o.id for o in (_pick(orders, r) for r in OrderRef.pasted_readings(text)) if o}
        except DomainRefusal:
            continue
        if named == {state.id}:
            return text
    return ref.staff


def _resolve(
    orders: dict[str, list[OrderLines]], item: TrackingInput
) -> tuple[OrderLines, int | None]:
    """The order, and the line position when the reference names a line (an order's
    own number first), from the first tier of readings that names one; readings that
    name two orders are refused with what to type for each, never guessed."""
    for wanted_orders, wanted_lines in item.reference_tiers():
        for found in (
            [(_pick(orders, wanted), None) for wanted in wanted_orders],
            [(_pick(orders, line.order), line.position) for line in wanted_lines],
        ):
            named = {order.id: (order, position) for order, position in found if order}
            if len(named) > 1:
                choices = " or ".join(_pasted_form(orders, o) for o, _ in named.values())
                raise DomainRefusal(f"{item.reference} names more than one order; type {choices}")
            if named:
                return next(iter(named.values()))
    raise DomainRefusal(f"no order {item.reference}")
