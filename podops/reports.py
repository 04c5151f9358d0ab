"""Read-only numbers and snapshots for people: the daily summary, the App Home
dashboard, order cards and the countdown in words ("submits in 3h 20m"); each
event's sentence is `podops.wording`'s. Pure queries; nothing here changes
state, so the CLI, Slack and the console all show the same figures.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from podops import queries
from podops.address import check_words, one_line, shown
from podops.events import EventName
from podops.fulfillment_status import FulfillmentKind, FulfillmentStatus
from podops.models import Event, Fulfillment, LineItem, Order, Return, Shipment, Store, utcnow
from podops.photos import photo_statuses
from podops.placed_files import files_of, placements_text
from podops.ports.notify import (
    DailySummary,
    Dashboard,
    EventLine,
    EventNotice,
    ItemLine,
    NamedOrder,
    OrderCard,
    PartLine,
    TrackingLine,
)
from podops.services.fulfillments import held_lines
from podops.services.lookup import typed_form
from podops.services.new_orders import UNWATCHED_REASON
from podops.services.returns import returns_in_words
from podops.speeds import speed_words
from podops.status import BEFORE_SUBMISSION, NOT_SHIPPED, OrderStatus
from podops.wording import actor_name, describe_event, document_lines

CHART_DAYS = 14
CARD_EVENTS = 5
AGE_BUCKETS: tuple[tuple[str, int], ...] = (
    ("under 1 day", 1),
    ("1-3 days", 3),
    ("3-7 days", 7),
    ("over 7 days", 10**6),
)
PROBLEM_ACTIONS: frozenset[EventName] = frozenset(
    {
        EventName.SUBMIT_FAIL,
        EventName.FLAG_DESIGN,
        EventName.REFUSE_CANCEL,
        EventName.STORE_CANCELLED_AFTER_SUBMISSION,
        EventName.STORE_REFUNDED_AFTER_SUBMISSION,
        EventName.STORE_ITEMS_CHANGED,
        EventName.STORE_REFUNDS_UNREAD,
        EventName.PROVIDER_STATUS_UNKNOWN,
        EventName.PROVIDER_HAS_OLD_DESIGN,
        EventName.STORE_ADDRESS,
        EventName.ADDRESS_CHANGE_REFUSED,
        EventName.ADDRESS_CHECK_FAILED,
        EventName.ADDRESS_CHECK_DELAYED,
        EventName.PARTLY_CANCELLED,
    }
)
_ACTIONS_BY_STATUS: dict[OrderStatus, list[str]] = {
    OrderStatus.PENDING: ["submit", "hold", "edit", "cancel"],
    OrderStatus.ON_HOLD: ["release", "edit", "cancel"],
    OrderStatus.NEEDS_DESIGN: ["edit", "hold", "cancel"],
    OrderStatus.SUBMIT_FAILED: ["submit", "hold", "cancel"],
}


def card_actions(order: Order) -> list[str]:
    """The buttons that make sense now; an old order held at a store's first sync may
    have been fulfilled by the shop by hand ("Already fulfilled")."""
    status = OrderStatus(order.status)
    actions = list(_ACTIONS_BY_STATUS.get(status, []))
    if status == OrderStatus.ON_HOLD and (order.hold_reason or "").startswith(UNWATCHED_REASON):
        actions.insert(1, "fulfilled")
    return actions


def countdown(order: Order, now: datetime | None = None) -> str:
    """When a pending order submits, read after "submits": 'in 3h 20m', 'in 45s',
    'now' (due or overdue: it leaves at the next tick), or '' when not counting down."""
    if OrderStatus(order.status) != OrderStatus.PENDING or order.submit_at is None:
        return ""
    seconds = int((order.submit_at - (now or utcnow())).total_seconds())
    if seconds <= 0:
        return "now"
    if seconds < 60:
        return f"in {seconds}s"
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    if hours >= 48:
        return f"in {hours // 24}d {hours % 24}h"
    return f"in {hours}h {minutes:02d}m" if hours else f"in {minutes}m"


def design_state(order: Order) -> str:
    """Design readiness in words, shown beside a hold (which never changes it);
    "" when there is nothing to say."""
    status = OrderStatus(order.status)
    if status == OrderStatus.ON_HOLD:
        under = OrderStatus(order.held_from or OrderStatus.PENDING)
        if under == OrderStatus.NEEDS_DESIGN:
            return "needs design (it stays held until someone releases it)"
        return f"ready; released, it returns to {under.label}"
    return "needs design" if status == OrderStatus.NEEDS_DESIGN else ""


def after_staff_step(order: Order, now: datetime | None = None) -> str:
    """Where a staff verb (hold, release, cancel) left the order, read after "Order 1234",
    naming its status once: 'is on hold: address check', 'is cancelled', 'is back in the
    countdown, submits in 3h 20m', 'is released but still needs design'."""
    status = OrderStatus(order.status)
    if status == OrderStatus.ON_HOLD:
        return f"is on hold: {order.hold_reason}" if order.hold_reason else "is on hold"
    if status == OrderStatus.CANCEL_REQUESTED:
        return "has a cancellation request at its provider"
    if status == OrderStatus.PENDING:
        when = countdown(order, now)
        return f"is back in the countdown, submits {when}" if when else "is pending"
    if status == OrderStatus.NEEDS_DESIGN:
        return "is released but still needs design"
    return f"is {status.label}"


def local_day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return start, end


def _documents_for(session: Session, event: Event) -> dict[str, object]:
    """The documents the provider handed back with this submission (manual: the
    packing slip and print-file links), recorded right after it."""
    follow = session.scalar(
        select(Event)
        .where(
            Event.order_id == event.order_id,
            Event.action == EventName.READY_TO_DOWNLOAD,
            Event.id > event.id,
        )
        .order_by(Event.id)
        .limit(1)
    )
    return dict(follow.detail) if follow is not None else {}


def event_notice(session: Session, event_id: int) -> tuple[Order, EventNotice] | None:
    event = session.get(Event, event_id)
    if event is None or event.order_id is None:
        return None
    order = session.get(Order, event.order_id)
    if order is None:
        return None
    text = describe_event(event, order.number)
    if event.action == EventName.SUBMIT_OK:
        documents = _documents_for(session, event)
        if documents:
            text = "\n".join([f"{text}. Its files:", *document_lines(documents, order.number)])
    return order, EventNotice(order.number, text, problem=event.action in PROBLEM_ACTIONS)


def order_card(session: Session, order: Order, now: datetime | None = None) -> OrderCard:
    now = now or utcnow()
    status = OrderStatus(order.status)
    held = status == OrderStatus.ON_HOLD
    recent = list(
        session.scalars(
            select(Event)
            .where(Event.order_id == order.id)
            .order_by(Event.at.desc(), Event.id.desc())
            .limit(CARD_EVENTS)
        )
    )
    return OrderCard(
        reference=typed_form(session, order),  # what its buttons carry back
        number=order.number,
        store=order.store.key,
        status=status.value,
        status_label=status.label,
        customer_name=order.customer_name,
        customer_email=order.customer_email,
        total=f"{order.total} {order.currency}",
        submit_at=order.submit_at if status == OrderStatus.PENDING else None,
        countdown=countdown(order, now),
        hold_reason=order.hold_reason if status == OrderStatus.ON_HOLD else None,
        held_by=actor_name(order.held_by) if held and order.held_by else None,
        design=design_state(order),
        last_error=order.last_error,
        problems=[str(p) for p in order.problems],
        items=[_item_line(item) for item in order.items],
        tracking=[
            TrackingLine(s.carrier, s.tracking_number, s.tracking_url, s.shipped_at)
            for s in order.shipments
        ],
        events=[
            EventLine(e.at, actor_name(e.actor), e.action, describe_event(e, order.number))
            for e in reversed(recent)
        ],
        actions=card_actions(order),
        shipping=speed_words(order.shipping_speed, order.shipping_method_id, order.shipping_method),
        rush=order.rush,
        speed=order.shipping_speed or "",
        address=shown(order.shipping_address) if order.shipping_address else {},
        address_check=check_words(order.address_check, order.shipping_address),
        fulfillments=fulfillment_rows(order),
        returned=returns_in_words(order),
    )


def _remake_note(order: Order, part: Fulfillment) -> str:
    """`remake of part 1 (misprint, provider pays)` for a remake, "" otherwise."""
    if part.kind != FulfillmentKind.REMAKE:
        return ""
    original = next((f for f in order.fulfillments if f.id == part.remake_of_id), None)
    of = f"remake of {original.label}" if original is not None else "remake"
    return f"{of} ({part.reason}, {part.paid_by} pays)"


def fulfillment_rows(order: Order) -> list[PartLine]:
    """Each fulfillment of the order (oldest first), then the lines held here: what the
    CLI, the cards and the sheet show of a split order."""
    parcels: dict[int, list[str]] = {}
    for shipment in order.shipments:
        if shipment.fulfillment_id is not None:
            parcels.setdefault(shipment.fulfillment_id, []).append(
                f"{shipment.carrier} {shipment.tracking_number}"
            )
    rows = [
        PartLine(
            seq=part.seq,
            label=part.label,
            provider=part.provider,
            reference=part.reference,
            status=FulfillmentStatus(part.status).value,
            status_label=FulfillmentStatus(part.status).label,
            lines={line.line_item.reference: line.quantity for line in part.lines},
            provider_order_id=part.provider_order_id or "",
            error=(part.last_error or "") if part.status != FulfillmentStatus.SHIPPED else "",
            tracking=tuple(parcels.get(part.id, ())),
            remake=_remake_note(order, part),
            old_address=one_line(part.shipping_address) if part.shipping_address else "",
        )
        for part in order.fulfillments
    ]
    held = held_lines(order)
    if held:
        why = "; ".join(dict.fromkeys(str(p) for item in held for p in item.problems))
        rows.append(
            PartLine(
                seq=0,
                label="held",
                provider="",
                reference="",
                status="held",
                status_label=f"held: {why}" if why else "held",
                lines={item.reference: item.quantity_open for item in held},
                error=why,
                held=True,
            )
        )
    return rows


def _item_line(item: LineItem) -> ItemLine:
    state = "none"
    if item.print_file:
        state = "current" if item.print_file_current else "stale"
    return ItemLine(
        reference=item.reference,
        sku=item.sku,
        name=item.name,
        quantity=item.quantity,
        quantity_shipped=item.quantity_shipped,
        personalization={str(k): str(v) for k, v in item.personalization.items()},
        preview_file=item.preview_file,
        print_file_state=state,
        photos=tuple(photo_statuses(item.photos, item.image_urls)),
        placed_previews=_placed_previews(item),
    )


def _placed_previews(item: LineItem) -> tuple[tuple[str, str], ...]:
    """(placement, preview) per file of a line with several placements, else ()."""
    files = files_of(item)
    if not placements_text(files):
        return ()
    return tuple((f.placement, f.preview) for f in files if f.preview)


def alert_candidates(session: Session, now: datetime, before: timedelta) -> list[int]:
    """Pending orders inside the alert window that have no alert message yet."""
    query = (
        select(Order.id)
        .where(
            Order.status == OrderStatus.PENDING,
            Order.submit_at <= now + before,
            Order.alert_ref.is_(None),
        )
        .order_by(Order.submit_at)
        .limit(500)
    )
    return list(session.scalars(query))


def _count_events(
    session: Session, actions: list[EventName], start: datetime, end: datetime
) -> int:
    query = select(func.count(func.distinct(Event.order_id))).where(
        Event.action.in_(actions), Event.at >= start, Event.at < end
    )
    return int(session.scalar(query) or 0)


def _named(order: Order, now: datetime, note: str = "") -> NamedOrder:
    age = max(0, int((now - order.placed_at).total_seconds() // 86400))
    status = OrderStatus(order.status).label
    return NamedOrder(order.number, order.customer_name, status, age, note, rush=order.rush)


def daily_summary(
    session: Session, day: date, tz: tzinfo, *, late_after_days: int, now: datetime | None = None
) -> DailySummary:
    """Yesterday's (or any local day's) counts, open orders by age, late and failed orders."""
    now = now or utcnow()
    start, end = local_day_bounds(day, tz)
    open_orders = list(
        session.scalars(
            select(Order)
            .where(queries.status_among(NOT_SHIPPED))
            .options(selectinload(Order.shipments))
            .order_by(Order.placed_at)
        )
    )
    ages: Counter[str] = Counter({label: 0 for label, _ in AGE_BUCKETS})
    for order in open_orders:
        days = (now - order.placed_at).total_seconds() / 86400
        ages[next(label for label, limit in AGE_BUCKETS if days < limit)] += 1
    late_cutoff = now - timedelta(days=late_after_days)
    open_late = [o for o in open_orders if not o.shipments and o.placed_at < late_cutoff]
    late = [_named(o, now) for o in open_late]
    failed = [
        _named(o, now, o.last_error or "")
        for o in open_orders
        if OrderStatus(o.status) == OrderStatus.SUBMIT_FAILED
        or any(p.status == FulfillmentStatus.SUBMIT_FAILED for p in o.parts)
    ]
    split = [
        _named(o, now, parts_in_words(o))
        for o in open_orders
        if len({p.status for p in o.parts}) > 1
    ][:SPLIT_NAMED]
    delivered, parcels_delivered = _delivered(session, start, end, now)
    return DailySummary(
        day=day,
        received=int(
            session.scalar(
                select(func.count())
                .select_from(Order)
                .where(Order.placed_at >= start, Order.placed_at < end)
            )
            or 0
        ),
        submitted=_count_events(session, [EventName.SUBMIT_OK], start, end),
        shipped=_count_events(session, [EventName.SHIP_ALL], start, end),
        cancelled=_count_events(session, [EventName.CANCEL, EventName.CONFIRM_CANCEL], start, end),
        submit_failures=_count_events(session, [EventName.SUBMIT_FAIL], start, end),
        pending_by_age=dict(ages),
        late=late,
        failed=failed,
        per_day=orders_per_day(session, day, tz),
        per_store=orders_per_store(session, day, tz),
        late_per_day=late_per_day(open_late, day, tz),
        timezone=str(tz),
        rush_received=int(
            session.scalar(
                select(func.count())
                .select_from(Order)
                .where(Order.placed_at >= start, Order.placed_at < end, Order.rush.is_(True))
            )
            or 0
        ),
        rush_waiting=[
            _named(o, now, o.hold_reason or o.last_error or "")
            for o in open_orders
            if o.rush and OrderStatus(o.status) in BEFORE_SUBMISSION
        ],
        split=split,
        remakes=queries.remake_counts(session, start, end),
        returned=_returned(session, start, end, now),
        delivered=delivered,
        parcels_delivered=parcels_delivered,
    )


def _delivered(
    session: Session, start: datetime, end: datetime, now: datetime
) -> tuple[list[NamedOrder], int]:
    """Orders with parcels delivered in [start, end) (the carriers' trackers keep
    `shipments.delivered_at`), in delivery order, the note naming each parcel; and how
    many parcels."""
    parcels = session.scalars(
        select(Shipment)
        .where(Shipment.delivered_at >= start, Shipment.delivered_at < end)
        .order_by(Shipment.delivered_at, Shipment.id)
        .options(selectinload(Shipment.order))
    )
    notes: dict[int, list[str]] = {}
    orders: dict[int, Order] = {}
    count = 0
    for parcel in parcels:
        notes.setdefault(parcel.order_id, []).append(f"{parcel.carrier} {parcel.tracking_number}")
        orders[parcel.order_id] = parcel.order
        count += 1
    named = [_named(orders[i], now, "delivered: " + ", ".join(n)) for i, n in notes.items()]
    return named, count


def _returned(session: Session, start: datetime, end: datetime, now: datetime) -> list[NamedOrder]:
    """Orders with returns recorded in [start, end), oldest return first; the note says
    the units and reasons of that day's returns."""
    records = session.scalars(
        select(Return)
        .where(Return.created_at >= start, Return.created_at < end)
        .order_by(Return.id)
        .options(selectinload(Return.order), selectinload(Return.lines))
    )
    notes: dict[int, list[str]] = {}
    orders: dict[int, Order] = {}
    for record in records:
        units = ", ".join(f"{line.line_item.reference} x{line.quantity}" for line in record.lines)
        notes.setdefault(record.order_id, []).append(f"{units} ({record.reason})")
        orders[record.order_id] = record.order
    return [_named(orders[i], now, "; ".join(texts)) for i, texts in notes.items()]


SPLIT_NAMED = 20
"""Split orders named in the daily summary, oldest first."""


def parts_in_words(order: Order) -> str:
    """`cc main-1234 shipped; so main--1234_P2 submit failed`."""
    return "; ".join(
        f"{p.provider} {p.reference} {FulfillmentStatus(p.status).label}" for p in order.parts
    )


def orders_per_day(session: Session, last_day: date, tz: tzinfo) -> list[tuple[date, int]]:
    """Orders placed per local day over the CHART_DAYS days ending `last_day`."""
    first_day = last_day - timedelta(days=CHART_DAYS - 1)
    start, _ = local_day_bounds(first_day, tz)
    _, end = local_day_bounds(last_day, tz)
    placed = session.scalars(
        select(Order.placed_at).where(Order.placed_at >= start, Order.placed_at < end)
    )
    counts = Counter(moment.astimezone(tz).date() for moment in placed)
    return [
        (first_day + timedelta(days=i), counts[first_day + timedelta(days=i)])
        for i in range(CHART_DAYS)
    ]


def orders_per_store(session: Session, last_day: date, tz: tzinfo) -> list[dict[str, int]]:
    """Beside `orders_per_day`: each day's orders by store."""
    first_day = last_day - timedelta(days=CHART_DAYS - 1)
    start, _ = local_day_bounds(first_day, tz)
    _, end = local_day_bounds(last_day, tz)
    placed = session.execute(
        select(Order.placed_at, Store.key)
        .join(Store, Store.id == Order.store_id)
        .where(Order.placed_at >= start, Order.placed_at < end)
    )
    counts: Counter[tuple[date, str]] = Counter(
        (moment.astimezone(tz).date(), store) for moment, store in placed
    )
    days = [first_day + timedelta(days=i) for i in range(CHART_DAYS)]
    stores = sorted({store for _, store in counts})
    return [{store: counts[(day, store)] for store in stores} for day in days]


def late_per_day(late: list[Order], last_day: date, tz: tzinfo) -> list[int]:
    """Beside `orders_per_day`: how many of each day's orders are late now."""
    first_day = last_day - timedelta(days=CHART_DAYS - 1)
    counts = Counter(order.placed_at.astimezone(tz).date() for order in late)
    return [counts[first_day + timedelta(days=i)] for i in range(CHART_DAYS)]


def dashboard(
    session: Session, *, due_within: timedelta, now: datetime | None = None, limit: int = 10
) -> Dashboard:
    """Counts by status, the orders due soon and the ones that need a person."""
    now = now or utcnow()
    counts = dict(session.execute(select(Order.status, func.count()).group_by(Order.status)).all())
    due = session.scalars(
        select(Order)
        .where(Order.status == OrderStatus.PENDING, Order.submit_at <= now + due_within)
        .order_by(Order.submit_at)
        .limit(limit)
    )
    part_failed = select(Fulfillment.order_id).where(
        Fulfillment.status == FulfillmentStatus.SUBMIT_FAILED
    )
    stuck = session.scalars(
        select(Order)
        .where(
            or_(
                Order.status.in_(
                    [OrderStatus.SUBMIT_FAILED, OrderStatus.NEEDS_DESIGN, OrderStatus.ON_HOLD]
                ),
                Order.id.in_(part_failed),  # a split order going on without one part
            )
        )
        .order_by(Order.placed_at)
        .limit(200)
    )
    problems = [
        _named(o, now, o.last_error or "; ".join(map(str, o.problems)) or o.hold_reason or "")
        for o in stuck
        if OrderStatus(o.status) != OrderStatus.ON_HOLD or o.problems
    ][:limit]
    return Dashboard(
        counts={OrderStatus(s).label: int(n) for s, n in counts.items()},
        due_soon=[_named(o, now, f"submits {countdown(o, now)}") for o in due],
        problems=problems,
        generated_at=now,
    )
