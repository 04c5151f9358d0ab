"""Remakes: lines made again for an order that shipped (a misprint, a lost parcel).

Personalized goods are remade, not returned. A remake is a fulfillment of kind
`remake`: the chosen lines and units (by default every unit that shipped), sent
under its own reference (`main--1234_P3`, so the provider never sees the first
one again), to the provider that made them first, linked to that fulfillment
(`remake_of_id`), with the reason and who pays. It is not a countdown order: it
leaves at the next countdown tick (a remake is urgent, and the customer already
waited once), claimed and looked up by its reference before any retry like any
fulfillment (`podops.fulfillment.countdown`).

The order's own status does not move: the store heard "shipped"/"completed" once
and is never told it again nor taken back. Staff read the remake beside the order
(`remake_state`); its parcel reaches the store as one more tracking number, and
never counts as a unit of the order shipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from podops import events
from podops.carriers import tracking_url
from podops.errors import InvalidInput
from podops.events import Actor, EventName
from podops.fulfillment_status import (
    TO_SEND,
    FulfillmentKind,
    FulfillmentStatus,
    ship_step,
    transition,
)
from podops.models import (
    Fulfillment,
    FulfillmentLine,
    LineItem,
    Order,
    Shipment,
    ShipmentLine,
    utcnow,
)
from podops.outbox import enqueue
from podops.outbox.messages import store_tracking_message
from podops.services.lookup import get_order
from podops.services.order_changes import notify
from podops.status import OrderStatus
from podops.tracking.parcels import normalize_parcel

REASONS: tuple[str, ...] = ("misprint", "damaged in transit", "lost", "customer error")
"""Why a remake is made; the reports count remakes by these words."""
PAYERS: tuple[str, ...] = ("provider", "carrier", "shop")
"""Who pays for a remake."""
REMAKABLE: frozenset[OrderStatus] = frozenset(
    {OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED, OrderStatus.COMPLETED}
)
"""Orders with units that left: only those can be remade."""
OPEN: frozenset[FulfillmentStatus] = frozenset(
    set(FulfillmentStatus) - {FulfillmentStatus.SHIPPED, FulfillmentStatus.CANCELLED}
)
"""A remake still being made: a second one of the same line is refused meanwhile."""


@dataclass(frozen=True, slots=True)
class RemakeLine:
    """One line to remake, by position; `quantity` None: every unit of it that shipped."""

    position: int
    quantity: int | None = None


def parse_reason(text: str) -> str:
    """A reason staff typed, as one of `REASONS` (case and spacing forgiven)."""
    word = " ".join(text.replace("_", " ").replace("-", " ").lower().split())
    if word not in REASONS:
        raise InvalidInput(
            f"{text.strip()!r} is not a remake reason; use one of: {', '.join(REASONS)}"
        )
    return word


def parse_payer(text: str) -> str:
    """Who pays, as one of `PAYERS`."""
    word = text.strip().lower()
    if word not in PAYERS:
        raise InvalidInput(
            f"{text.strip()!r} is not who pays for a remake; use one of: {', '.join(PAYERS)}"
        )
    return word


def remake(
    session: Session,
    reference: str | Order,
    actor: Actor,
    *,
    reason: str,
    paid_by: str,
    lines: Sequence[RemakeLine] = (),
) -> list[Fulfillment]:
    """Make `lines` of a shipped order again (none named: every unit that shipped), one
    remake fulfillment per provider that made them; refused with the reason before
    anything changes."""
    reason, paid_by = parse_reason(reason), parse_payer(paid_by)
    order = (
        reference
        if isinstance(reference, Order)
        else get_order(session, reference, for_update=True)
    )
    _check_shipped(order)
    wanted = _wanted(order, lines)
    _check_not_in_progress(order, wanted)
    groups: dict[tuple[str, int | None], list[tuple[LineItem, int, str | None]]] = {}
    for item, quantity in wanted:
        original, sku = _original(order, item)
        provider = original.provider if original is not None else item.provider
        if provider is None:
            raise InvalidInput(
                f"line {item.reference} has no provider (no routing rule places its SKU "
                f"{item.sku!r}); add a rule, then ask again"
            )
        key = (provider, original.id if original is not None else None)
        groups.setdefault(key, []).append((item, quantity, sku))
    created = [
        _new_remake(order, provider, of, made, reason, paid_by)
        for (provider, of), made in groups.items()
    ]
    session.flush()
    event = events.record(
        session,
        order,
        actor,
        EventName.REMAKE,
        reason=reason,
        paid_by=paid_by,
        lines={item.reference: quantity for item, quantity in wanted},
        now={part.reference: part.provider for part in created},
        remake_of=[r for r in (_reference_of(order, part) for part in created) if r] or None,
    )
    notify(session, order, event)
    return created


def _check_shipped(order: Order) -> None:
    status = OrderStatus(order.status)
    if status in REMAKABLE and order.quantity_shipped > 0:
        return
    if status == OrderStatus.CANCELLED:
        why = "it was cancelled"
    elif status == OrderStatus.RETURNED:
        why = "it came back as a return; a remake is for an order the customer kept"
    else:
        why = f"it is {status.label} and nothing of it has shipped yet"
    raise InvalidInput(f"{order.label} cannot be remade: {why}")


def _wanted(order: Order, lines: Sequence[RemakeLine]) -> list[tuple[LineItem, int]]:
    """(line, units) to remake; refused when a line or quantity goes beyond what shipped."""
    if not lines:
        found = [(item, item.quantity_shipped) for item in order.items if item.quantity_shipped]
        return found
    by_position = {item.position: item for item in order.items}
    wanted: dict[int, tuple[LineItem, int]] = {}
    for line in lines:
        item = by_position.get(line.position)
        if item is None:
            have = ", ".join(str(p) for p in sorted(by_position))
            raise InvalidInput(f"{order.label} has no line {line.position} (its lines: {have})")
        if line.position in wanted:
            raise InvalidInput(f"line {item.reference} is named twice")
        if item.quantity_shipped <= 0:
            raise InvalidInput(f"line {item.reference} has not shipped: there is nothing to remake")
        quantity = item.quantity_shipped if line.quantity is None else line.quantity
        if quantity < 1:
            raise InvalidInput(f"a remake of line {item.reference} needs a quantity of 1 or more")
        if quantity > item.quantity_shipped:
            raise InvalidInput(
                f"line {item.reference}: {quantity} to remake, but {item.quantity_shipped} "
                f"of it shipped"
            )
        wanted[line.position] = (item, quantity)
    return list(wanted.values())


def _check_not_in_progress(order: Order, wanted: list[tuple[LineItem, int]]) -> None:
    """One remake of a line at a time: asked twice (a double click, two people), the
    second is refused instead of making the goods twice."""
    ids = {item.id for item, _ in wanted}
    for part in remakes(order):
        if FulfillmentStatus(part.status) not in OPEN:
            continue
        same = [line.line_item.reference for line in part.lines if line.line_item_id in ids]
        if same:
            raise InvalidInput(
                f"{', '.join(same)} of {order.label} is already being remade ({part.label}, "
                f"{FulfillmentStatus(part.status).label}); wait until it ships"
            )


def _original(order: Order, item: LineItem) -> tuple[Fulfillment | None, str | None]:
    """The fulfillment of the order's own lines that made `item` (the shipped one first),
    and the provider SKU it was sent; None when staff shipped it by hand."""
    made = [
        (part, line)
        for part in order.fulfillments
        if part.kind == FulfillmentKind.ORDER and part.status != FulfillmentStatus.CANCELLED
        for line in part.lines
        if line.line_item_id == item.id
    ]
    made.sort(key=lambda pl: pl[0].status != FulfillmentStatus.SHIPPED)
    if not made:
        return None, item.provider_sku
    part, line = made[0]
    return part, line.provider_sku or item.provider_sku


def _new_remake(
    order: Order,
    provider: str,
    remake_of_id: int | None,
    lines: list[tuple[LineItem, int, str | None]],
    reason: str,
    paid_by: str,
) -> Fulfillment:
    part = Fulfillment(
        seq=max((f.seq for f in order.fulfillments), default=0) + 1,
        kind=FulfillmentKind.REMAKE,
        status=FulfillmentStatus.WAITING,
        provider=provider,
        submit_attempts=0,
        remake_of_id=remake_of_id,
        reason=reason,
        paid_by=paid_by,
    )
    for item, quantity, sku in lines:
        part.lines.append(FulfillmentLine(line_item=item, quantity=quantity, provider_sku=sku))
    order.fulfillments.append(part)
    order.updated_at = utcnow()  # the order's version guards its fulfillments too
    return part


def _reference_of(order: Order, part: Fulfillment) -> str | None:
    original = next((f for f in order.fulfillments if f.id == part.remake_of_id), None)
    return original.reference if original is not None else None


def remakes(order: Order) -> list[Fulfillment]:
    """The order's remakes, oldest first."""
    return [f for f in order.fulfillments if f.kind == FulfillmentKind.REMAKE]


def waiting_remakes(order: Order) -> list[Fulfillment]:
    """The order's remakes not sent yet (the next tick, or a person, sends them)."""
    return [p for p in remakes(order) if p.status == FulfillmentStatus.WAITING]


def lines_to_remake(order: Order) -> list[LineItem]:
    """Lines of remakes not at a provider yet: their print files may still be made."""
    return [
        line.line_item for part in remakes(order) if part.status in TO_SEND for line in part.lines
    ]


def remake_state(order: Order) -> str | None:
    """What staff read beside the order's status while remakes exist: `remake part 3
    submitted`, `remake part 3 shipped` (None: no remake)."""
    found = [f for f in remakes(order) if f.status != FulfillmentStatus.CANCELLED]
    if not found:
        return None
    return ", ".join(f"remake {f.label} {FulfillmentStatus(f.status).label}" for f in found)


def record_remake_parcel(
    session: Session,
    order: Order,
    part: Fulfillment,
    carrier: str,
    number: str,
    actor: Actor,
    *,
    units: dict[int, int] | None = None,
    shipped_at: datetime | None = None,
) -> Shipment:
    """A parcel of a remake (its provider reported it): recorded against the remake, not
    the order's units (they shipped already); the store gets one more tracking number,
    never a second "completed". `units`: line item id -> units (default: all of it)."""
    carrier, number = normalize_parcel(carrier, number)
    made = {line.line_item_id: line for line in part.lines}
    done = _remake_shipped(order, part)
    if units is None:
        units = {i: line.quantity - done.get(i, 0) for i, line in made.items()}
    units = {i: q for i, q in units.items() if q > 0 and i in made}
    if not units:
        raise InvalidInput(f"every item of remake {part.label} of {order.label} is shipped")
    shipment = Shipment(
        order=order,
        carrier=carrier,
        tracking_number=number,
        tracking_url=tracking_url(carrier, number),
        shipped_at=shipped_at or utcnow(),
        channel=actor.channel.value,
        lines=[ShipmentLine(line_item=made[i].line_item, quantity=q) for i, q in units.items()],
        fulfillment_id=part.id,
    )
    session.add(shipment)
    shipped = sum(min(done.get(i, 0) + units.get(i, 0), line.quantity) for i, line in made.items())
    action = ship_step(FulfillmentStatus(part.status), part.units, shipped)
    if action is not None:
        label = f"remake {part.label} of {order.label}"
        part.status = transition(FulfillmentStatus(part.status), action, label=label).after
        if part.status == FulfillmentStatus.SHIPPED:
            part.shipped_at = shipment.shipped_at
    order.updated_at = utcnow()
    session.flush()
    event = events.record(
        session,
        order,
        actor,
        EventName.REMAKE_SHIPPED,
        fulfillment=part.reference,
        carrier=carrier,
        tracking_number=number,
        lines={made[i].line_item.reference: q for i, q in units.items()},
    )
    notify(session, order, event)
    enqueue(session, store_tracking_message(order.id, shipment.id))
    return shipment


def _remake_shipped(order: Order, part: Fulfillment) -> dict[int, int]:
    """Line item id -> units the remake's parcels so far hold."""
    done: dict[int, int] = {}
    for shipment in order.shipments:
        if shipment.fulfillment_id != part.id:
            continue
        for line in shipment.lines:
            done[line.line_item_id] = done.get(line.line_item_id, 0) + line.quantity
    return done
