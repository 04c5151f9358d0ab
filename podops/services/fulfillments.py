"""An order's fulfillments: planning them, moving one, and the order following them.

A fulfillment (`models.Fulfillment`) is what one provider makes of an order.
They are planned when the order leaves (`plan_fulfillments`): each line that
is in no live fulfillment yet goes to the one of its provider, so a mixed cart
becomes one fulfillment per provider; a line routing cannot place stays here,
held, while the others go. Each fulfillment then moves through its own table
(`podops.fulfillment_status`) with `step`, and the order takes the step its
fulfillments call for (`order_step`) through its own table, in the same call:
one event when the order has one fulfillment, otherwise the fulfillment's event
and the order's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from podops import events
from podops.errors import OrderNotFound
from podops.events import Actor, EventName
from podops.fulfillment_status import (
    AT_PROVIDER,
    TO_SEND,
    FulfillmentKind,
    FulfillmentStatus,
    order_step,
    ship_step,
    transition,
)
from podops.models import Fulfillment, FulfillmentLine, LineItem, Order, Store, utcnow
from podops.outbox import enqueue
from podops.outbox.messages import store_status_message
from podops.refs import FulfillmentRef
from podops.routing import Route
from podops.services.order_changes import apply, notify
from podops.status import Action, OrderStatus

F = FulfillmentStatus
UNROUTED_PREFIX = "no routing rule for SKU"
"""Start of the problem intake writes on a line no routing rule places."""
PART_NOTICES: frozenset[Action] = frozenset({Action.SUBMIT_FAIL, Action.REFUSE_CANCEL})
"""Steps of one fulfillment staff hear of at once, even when the order does not move."""

Router = Callable[[LineItem], Route | None]
"""Where a line without a provider goes now (the config's routing), or None."""


def part_detail(part: Fulfillment) -> dict[str, Any]:
    """What an event says about the fulfillment it concerns."""
    return {
        "fulfillment": part.reference,
        "part": part.seq,
        "provider": part.provider,
        "remake": True if part.kind == FulfillmentKind.REMAKE else None,
    }


def step(
    session: Session,
    order: Order,
    part: Fulfillment,
    action: Action,
    actor: Actor,
    *,
    silent: bool = False,
    settle: bool = True,
    **detail: Any,
) -> Action | None:
    """Move `part` by `action`, then the order if its fulfillments call for it.

    Returns the order's step (or None). `silent`: the fulfillment's step is told
    by an event the caller writes (a parcel, the whole order's cancellation);
    `settle=False`: the caller moves several and settles the order once after."""
    before = FulfillmentStatus(part.status)
    part.status = transition(before, action, label=f"{part.label} of {order.label}").after
    part.updated_at = utcnow()
    order.updated_at = utcnow()  # the order's version guards its fulfillments too
    moved = _order_step(order) if settle else None
    told = {**part_detail(part), "part_status": f"{before.value} -> {part.status}", **detail}
    if not silent and moved == action and len(order.fulfillments) == 1:
        apply(session, order, action, actor, **told)  # the order's step tells both
        _after(session, order, moved, actor)
        return moved
    if not silent:
        event = events.record(session, order, actor, EventName.of(action), **told)
        late = action == Action.SUBMIT_OK and OrderStatus(order.status) != OrderStatus.SUBMITTING
        if action in PART_NOTICES or late:
            notify(session, order, event)
    if moved is not None:
        apply(session, order, moved, actor, **order_summary(order))
        _after(session, order, moved, actor)
    return moved


def settle(session: Session, order: Order, actor: Actor) -> Action | None:
    """The step the order takes for its fulfillments as they stand now (if any)."""
    moved = _order_step(order)
    if moved is not None:
        apply(session, order, moved, actor, **order_summary(order))
        _after(session, order, moved, actor)
    return moved


def _order_step(order: Order) -> Action | None:
    return order_step(OrderStatus(order.status), [p.status for p in order_parts(order)])


def _after(session: Session, order: Order, moved: Action, actor: Actor) -> None:
    """What an order's step taken for its fulfillments brings along: the store hears
    of a cancellation; a cancellation only some providers made is a problem."""
    if moved == Action.CONFIRM_CANCEL:
        reason = order.cancel_reason or "cancelled at the provider"
        enqueue(session, store_status_message(order.id, "cancelled", reason=reason))
    elif moved == Action.REFUSE_CANCEL:
        partly_cancelled(session, order, actor, "refused to cancel the rest, which will ship")


PARTLY_CANCELLED = "partly cancelled: "
"""Start of the problem written when some of an order's fulfillments are cancelled and
the others go on: the customer gets part of the order, and staff must settle it."""


def partly_cancelled(session: Session, order: Order, actor: Actor, why: str) -> None:
    """Some fulfillments of a going order are cancelled: their lines will not be made.
    A problem on the order (once) and a notice; the store is not told "cancelled"."""
    gone = [p for p in order_parts(order) if p.status == FulfillmentStatus.CANCELLED]
    lines = [line.line_item.reference for p in gone for line in p.lines]
    if not gone or not lines or len(order_parts(order)) < 2:
        return
    problem = (
        f"{PARTLY_CANCELLED}{', '.join(p.label for p in gone)} ({', '.join(lines)}) "
        f"cancelled at {', '.join(dict.fromkeys(p.provider for p in gone))}; {why}: "
        "settle the order with the customer"
    )
    if problem in order.problems:
        return
    order.problems = [*order.problems, problem]
    event = events.record(session, order, actor, EventName.PARTLY_CANCELLED, problem=problem)
    notify(session, order, event)


def order_summary(order: Order) -> dict[str, Any]:
    """The detail of an order's step taken for its fulfillments: where each stands."""
    parts = order_parts(order)
    sent = [p for p in parts if p.status in AT_PROVIDER]
    return {
        "provider": ", ".join(dict.fromkeys(p.provider for p in sent)) or None,
        "provider_order_id": ", ".join(p.provider_order_id or "" for p in sent) or None,
        "fulfillments": {p.reference: FulfillmentStatus(p.status).value for p in parts},
    }


def order_parts(order: Order) -> list[Fulfillment]:
    """Every fulfillment of the order's own lines (cancelled ones too)."""
    return [f for f in order.fulfillments if f.kind == FulfillmentKind.ORDER]


def live_lines(order: Order) -> dict[int, Fulfillment]:
    """Line item id -> the live fulfillment that makes it."""
    return {line.line_item_id: part for part in order.parts for line in part.lines}


def lines_to_send(order: Order) -> list[LineItem]:
    """Lines that leave with the order's next claim: routed, and not at a provider."""
    placed = live_lines(order)
    return [
        item
        for item in order.items
        if item.provider is not None
        and (item.id not in placed or placed[item.id].status in TO_SEND)
    ]


def held_lines(order: Order) -> list[LineItem]:
    """Lines routing could not place: they stay here while the others go."""
    placed = live_lines(order)
    return [i for i in order.items if i.provider is None and i.id not in placed]


def route_lines(
    session: Session, order: Order, router: Router | None, actor: Actor
) -> list[LineItem]:
    """Route the lines that have no provider where routing now finds one (the config
    gained a rule): provider, its SKU and the product; their routing problem goes, an
    event says so. Returns the lines still held."""
    held = held_lines(order)
    if router is None:
        return held
    still = []
    for item in held:
        route = router(item)
        if route is None:
            still.append(item)
            continue
        item.provider = route.provider
        item.provider_sku = route.provider_sku
        item.product_key = route.product_key or item.product_key
        item.problems = [p for p in item.problems if not str(p).startswith(UNROUTED_PREFIX)]
        order.problems = [
            p
            for p in order.problems
            if not str(p).startswith(f"line {item.position}: ") or UNROUTED_PREFIX not in str(p)
        ]
        order.updated_at = utcnow()
        events.record(
            session,
            order,
            actor,
            EventName.ROUTED_AGAIN,
            line=item.reference,
            provider=route.provider,
            reason=f"line {item.reference} goes to {route.provider}: a routing rule matches "
            f"SKU {item.sku} now",
        )
    return still


def plan_fulfillments(session: Session, order: Order) -> list[Fulfillment]:
    """The fulfillments the order's next claim sends: each routed line in none yet joins
    the waiting one of its provider (made when missing); waiting ones follow their
    lines' quantities (a refund lowered them). Fulfillments left with nothing to make
    are cancelled. New ones get their ids at the session's next flush (the countdown
    flushes once for a whole batch)."""
    parts = order_parts(order)
    placed = live_lines(order)
    for item in order.items:
        if item.provider is None or item.id in placed:
            continue
        part = next((p for p in parts if p.status in TO_SEND and p.provider == item.provider), None)
        if part is None:
            part = _new_part(order, item.provider, parts)
            parts.append(part)
        part.lines.append(
            FulfillmentLine(line_item=item, quantity=0, provider_sku=item.provider_sku)
        )
    items = {item.id: item for item in order.items}
    sending = []
    for part in parts:
        if part.status not in TO_SEND:
            continue
        part.lines = [line for line in part.lines if line.line_item.id in items]
        for line in part.lines:
            line.quantity = line.line_item.quantity_open
        part.lines = [line for line in part.lines if line.quantity > 0]
        if part.lines:
            sending.append(part)
        else:  # its lines were refunded or shipped meanwhile: nothing left to make
            label = f"{part.label} of {order.label}"
            part.status = transition(
                FulfillmentStatus(part.status), Action.CANCEL, label=label
            ).after
    return sending


def _new_part(order: Order, provider: str, parts: list[Fulfillment]) -> Fulfillment:
    seq = max((f.seq for f in order.fulfillments), default=0) + 1
    part = Fulfillment(
        seq=seq,
        kind=FulfillmentKind.ORDER,
        status=F.WAITING,
        provider=provider,
        submit_attempts=0,
    )
    order.fulfillments.append(part)
    return part


def add_part(
    order: Order, provider: str, lines: Iterable[tuple[LineItem, int, str | None]]
) -> Fulfillment:
    """A new waiting fulfillment of `provider` making these (line, units, provider SKU)."""
    part = _new_part(order, provider, order_parts(order))
    for item, quantity, sku in lines:
        part.lines.append(FulfillmentLine(line_item=item, quantity=quantity, provider_sku=sku))
    return part


def ship_parts(order: Order, detail: dict[str, Any]) -> None:
    """Each fulfillment at a provider follows its lines' shipped units (a parcel was
    recorded); what moved is added to the parcel's event `detail`."""
    shipped = {item.id: item.quantity_shipped for item in order.items}
    moved = {}
    for part in order.parts:
        units = part.units
        done = sum(min(shipped.get(line.line_item_id, 0), line.quantity) for line in part.lines)
        action = ship_step(FulfillmentStatus(part.status), units, done)
        if action is None:
            continue
        part.status = transition(
            FulfillmentStatus(part.status), action, label=f"{part.label} of {order.label}"
        ).after
        if part.status == F.SHIPPED:
            part.shipped_at = utcnow()
        moved[part.reference] = FulfillmentStatus(part.status).value
    if moved and len(order.fulfillments) > 1:
        detail["fulfillments"] = moved


def lock_order(session: Session, order_id: int) -> Order | None:
    """The order with its store and fulfillments, its row locked first on PostgreSQL:
    two fulfillments of one order answered at once are recorded one after the other,
    and the second reads (in a statement after the lock) what the first wrote."""
    if session.get_bind().dialect.name == "postgresql":
        locked = select(Order.id).where(Order.id == order_id).with_for_update()
        if session.scalar(locked) is None:
            return None
    return session.get(
        Order, order_id, options=[joinedload(Order.store), joinedload(Order.fulfillments)]
    )


def fulfillment_by_reference(session: Session, reference: str) -> Fulfillment:
    """The fulfillment a provider reference names (`main-1234`, `main--1234_P2`)."""
    wanted = FulfillmentRef.parse_provider(reference)
    query = (
        select(Fulfillment)
        .join(Order, Fulfillment.order_id == Order.id)
        .join(Store, Order.store_id == Store.id)
        .where(
            Store.key == wanted.order.store,
            Order.number == wanted.order.number,
            Fulfillment.seq == wanted.seq,
        )
        .options(
            selectinload(Fulfillment.order).selectinload(Order.items),
            selectinload(Fulfillment.order).selectinload(Order.store),
        )
    )
    part = session.scalar(query)
    if part is None:
        raise OrderNotFound(reference)
    return part
