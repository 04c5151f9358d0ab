"""The rules of one parcel, shared by `services.record_tracking` and the bulk import.

Which units a parcel holds, whether its number is new on the order, how carrier
and number are written, which lifecycle step it makes and which messages the
store must get: decided here once, on plain data (`OrderLines`), so recording
one parcel through the ORM and 5,000 through multi-row statements follow the
very same rules. Only the way rows reach the database differs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from podops.carriers import normalize_carrier, normalize_tracking_number
from podops.errors import DomainRefusal, InvalidInput
from podops.outbox import Outgoing
from podops.outbox.messages import store_status_message, store_tracking_message
from podops.status import Action, OrderStatus, transition

MAX_NUMBER = 64


class DuplicateTracking(DomainRefusal):
    """This tracking number is already recorded on this order."""


@dataclass(frozen=True, slots=True)
class ShipLine:
    """Which line (its position, or its SKU) and how many units a parcel holds.

    `quantity=None` means every unit still open on that line."""

    line: int | str
    quantity: int | None = None


@dataclass(slots=True)
class LineState:
    id: int
    position: int
    sku: str
    reference: str
    quantity: int
    open: int


@dataclass(slots=True)
class RecordedParcel:
    """A parcel already on an order: its carrier and its units per line position."""

    carrier: str
    units: dict[int, int] = field(default_factory=dict)


@dataclass(slots=True)
class OrderLines:
    """An order as the parcels recorded so far left it: status, numbers, open units."""

    id: int
    number: str
    status: OrderStatus
    lines: list[LineState]
    numbers: dict[str, str] = field(default_factory=dict)
    """Tracking number -> carrier of every parcel already on the order."""
    version: int = 0
    shipped_at: datetime | None = None
    store: str = ""
    recorded: dict[str, RecordedParcel] = field(default_factory=dict)
    """Tracking number -> the parcel as recorded before this import (bulk only)."""

    @property
    def label(self) -> str:
        return f"order {self.number}"


@dataclass(frozen=True, slots=True)
class ParcelPlan:
    """What recording one parcel does: units per line and the lifecycle step."""

    carrier: str
    number: str
    lines: list[tuple[LineState, int]]
    before: OrderStatus
    after: OrderStatus
    action: Action
    everything: bool

    def event_detail(self, shared_with: Sequence[str] = ()) -> dict[str, Any]:
        """The parcel's audit detail; `shared_with`: other orders that have its number."""
        detail: dict[str, Any] = {
            "carrier": self.carrier,
            "tracking_number": self.number,
            "lines": {line.reference: qty for line, qty in self.lines},
        }
        if shared_with:
            detail["shared_with"] = list(shared_with)
        return detail


def normalize_number(text: str) -> str:
    """A tracking number without spaces or dashes, upper case; refused if empty or huge."""
    number = normalize_tracking_number(text)
    if not number:
        raise InvalidInput("the tracking number is empty")
    if len(number) > MAX_NUMBER:
        raise InvalidInput(f"the tracking number is {len(number)} characters; that is not one")
    return number


def normalize_parcel(carrier: str, number: str) -> tuple[str, str]:
    """(canonical carrier name, normalized number), or InvalidInput with the reason."""
    carrier_name = normalize_carrier(carrier)
    if not carrier_name:
        raise InvalidInput("name the carrier (for example UPS, USPS, FedEx)")
    return carrier_name, normalize_number(number)


def _find_line(state: OrderLines, line: int | str) -> LineState:
    if isinstance(line, int):
        matches = [item for item in state.lines if item.position == line]
        missing = f"{state.label} has no line {line}"
    else:
        wanted = line.strip().upper()
        matches = [item for item in state.lines if item.sku.upper() == wanted]
        matches = [item for item in matches if item.open > 0] or matches
        missing = f"{state.label} has no line with SKU {line.strip()}"
    if not matches:
        raise InvalidInput(missing)
    return matches[0]


def allocate(state: OrderLines, wanted: Sequence[ShipLine] | None) -> list[tuple[LineState, int]]:
    """The units the parcel holds; without `wanted`, every unit not yet shipped."""
    if wanted is None:
        every = [(item, item.open) for item in state.lines if item.open > 0]
        if not every:
            raise DomainRefusal(f"every item of {state.label} is already shipped")
        return every
    allocation: list[tuple[LineState, int]] = []
    for ship in wanted:
        item = _find_line(state, ship.line)
        quantity = item.open if ship.quantity is None else ship.quantity
        if ship.quantity is None and item.open == 0:
            raise DomainRefusal(f"{item.reference} ({item.sku}) is already shipped")
        if quantity <= 0:
            raise InvalidInput(f"quantity for {item.reference} must be at least 1")
        if quantity > item.open:
            raise InvalidInput(
                f"{item.reference} ({item.sku}) has {item.open} unit(s) left to ship, "
                f"not {quantity}"
            )
        allocation.append((item, quantity))
    return allocation


def plan_parcel(
    state: OrderLines, carrier: str, number: str, wanted: Sequence[ShipLine] | None
) -> ParcelPlan:
    """Check one parcel against the order's state; on success, advance that state."""
    if number in state.numbers:
        raise DuplicateTracking(
            f"tracking {number} is already recorded on {state.label} ({state.numbers[number]})"
        )
    lines = allocate(state, wanted)
    taking: dict[int, int] = {}
    for line, qty in lines:
        taking[line.id] = taking.get(line.id, 0) + qty
    everything = all(line.open == taking.get(line.id, 0) for line in state.lines)
    action = Action.SHIP_ALL if everything else Action.SHIP_PART
    step = transition(state.status, action, order_label=state.label)
    for line, qty in lines:
        line.open -= qty
    state.numbers[number] = carrier
    state.status = step.after
    return ParcelPlan(carrier, number, lines, step.before, step.after, action, everything)


def repeat_conflict(
    state: OrderLines,
    recorded: RecordedParcel,
    carrier: str,
    line: int | str | None,
    qty: int | None,
) -> str:
    """Why a row naming a parcel already recorded on the order is not that parcel
    ('' when it repeats it: the same carrier, and the line and units it names)."""
    if normalize_carrier(carrier) != normalize_carrier(recorded.carrier):
        return f"it was recorded with {recorded.carrier}, not {carrier}"
    if isinstance(line, int):
        positions = [line]
    elif line:
        positions = [i.position for i in state.lines if i.sku.upper() == line.strip().upper()]
    else:
        positions = list(recorded.units)
    held = sum(recorded.units.get(position, 0) for position in positions)
    named = f"line {line}" if isinstance(line, int) else (line.strip() if line else "the order")
    if line and not held:
        return f"that parcel holds no unit of {named}"
    if qty is not None and qty != held:
        return f"that parcel holds {held} unit(s) of {named}, not {qty}"
    return ""


def shared_warning(number: str, others: Sequence[str]) -> str:
    """The warning for a tracking number that other orders already have."""
    return (
        f"tracking {number} is also on order {' and '.join(others)}: one parcel for "
        "several orders, or a typo?"
    )


def store_messages(order_id: int, shipment_id: int, everything: bool) -> list[Outgoing]:
    """What the store must hear about this parcel: its tracking, and "completed" with the last."""
    messages = [store_tracking_message(order_id, shipment_id)]
    if everything:
        messages.append(store_status_message(order_id, "completed"))
    return messages
