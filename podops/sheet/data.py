"""Reading what the sheet shows, in bulk.

The mirror reads every current line item each cycle, so this is three plain
column queries run as Core statements (lines with their order and store,
parcels, staff notes), not ORM object graphs; the shipping address is shown
field by field (`podops.address.shown`). A line's photo links show beside its
text fields (a photo field's column holds its link). Staff notes are audit events
(`sheet_note`, written by
`services.set_line_note`): the latest note event of a line is its note.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from podops.address import one_line, shown
from podops.crop_input import crop_cell
from podops.events import EventName
from podops.fulfillment_status import FulfillmentKind, FulfillmentStatus
from podops.models import (
    Event,
    Fulfillment,
    FulfillmentLine,
    Label,
    LineItem,
    Order,
    Return,
    ReturnLine,
    Shipment,
    ShipmentLine,
    Store,
)
from podops.photos import photo_statuses
from podops.queries import status_among, written
from podops.refs import FulfillmentRef, OrderRef
from podops.sheet.rows import SheetLine
from podops.status import FINISHED, OrderStatus

MAX_KEYS = 2000
"""Above this many keys, loading every line is cheaper than a long IN list."""


OPEN: frozenset[OrderStatus] = frozenset(OrderStatus) - FINISHED


def _finished_at() -> ColumnElement[datetime]:
    """When a finished order finished (a cancelled one: its last change)."""
    return func.coalesce(Order.completed_at, Order.updated_at)


def _current(cutoff: datetime) -> ColumnElement[bool]:
    """Orders still shown on the Orders tab: not finished, or finished after `cutoff`.

    Both halves are indexed, so the work grows with open and recent orders, never
    with history: open statuses by `ix_orders_status_submit_at`, the recently finished
    by `ix_orders_finished_updated_at` (an order's last change is never before it
    finished, so `updated_at >= cutoff` narrows them to a short range of that index)."""
    recent = and_(status_among(FINISHED), Order.updated_at >= cutoff, _finished_at() >= cutoff)
    return or_(status_among(OPEN), recent)


def _archived(cutoff: datetime) -> ColumnElement[bool]:
    """Orders finished before `cutoff`: the Archive tab's (the first mirror's back-fill)."""
    return and_(status_among(FINISHED), _finished_at() < cutoff)


def load_sheet_lines(
    session: Session,
    *,
    cutoff: datetime,
    keys: Collection[str] | None = None,
    archived: bool = False,
    newest: int | None = None,
) -> list[SheetLine]:
    """Every line item of every current order, oldest order first.

    With `keys` (line item ids as the sheet shows them), only the orders holding those
    lines: what applying a few staff edits needs, without reading the whole tab's data.
    With `archived`, the lines of orders finished before `cutoff` instead (the first
    mirror of an existing database puts those in the Archive tab); with `newest`, of
    that many most recently changed orders only."""
    current = _archived(cutoff) if archived else _current(cutoff)
    if newest is not None:  # the newest orders only (each has one line or more)
        latest = select(Order.id).where(current).order_by(Order.updated_at.desc()).limit(newest)
        current = and_(current, Order.id.in_(latest))
    if keys is not None and len(keys) <= MAX_KEYS:
        ids = [int(key) for key in keys if key.isdigit()]
        holding = select(LineItem.order_id).where(LineItem.id.in_(ids))
        current = and_(current, Order.id.in_(holding))
    # The orders first, then everything of theirs by order id (on both sides of a join):
    # PostgreSQL then plans with the exact count of orders, not a guess from the
    # condition, and reads each table through its order_id index.
    ids = list(session.scalars(select(Order.id).where(current)))
    parcels = _parcels(session, ids)
    notes = _notes(session, ids)
    parts = _parts(session, ids)
    returned = _returned(session, ids)
    labels = _labels(session, ids)
    query = (
        select(
            LineItem.id,
            LineItem.position,
            LineItem.sku,
            LineItem.name,
            LineItem.quantity,
            LineItem.quantity_shipped,
            LineItem.personalization,
            LineItem.preview_file,
            LineItem.image_urls,
            Order.number,
            Order.status,
            Order.placed_at,
            Order.submit_at,
            Order.customer_name,
            Order.shipping_address,
            Order.problems,
            Store.key,
            Order.held_from,
            Order.shipping_speed,
            Order.rush,
            LineItem.photos,
            LineItem.provider,
            LineItem.problems,
        )
        .join(Order, LineItem.order_id == Order.id)
        .join(Store, Order.store_id == Store.id)
        .where(_among(LineItem.order_id, ids), _among(Order.id, ids))
        .order_by(Order.placed_at, Order.id, LineItem.position)
    )
    lines = []
    for row in session.connection().execute(query):
        (item_id, position, sku, name, qty, shipped, personal, preview, images) = row[:9]
        (number, status, placed, submit, customer, address, problems, store, under) = row[9:18]
        speed, rush, photo_json, routed, line_problems = row[18:]
        photos = photo_statuses(photo_json, images or {})
        fields = shown(address or {})
        lines.append(
            SheetLine(
                key=str(item_id),
                order_number=number,
                position=position,
                store=store,
                status=OrderStatus(status),
                placed_at=placed,
                submit_at=submit,
                customer=customer,
                country=fields["country"],
                sku=sku,
                product=name,
                quantity=qty,
                shipped=shipped,
                tracking=tuple(parcels.get(item_id, ())),
                problems=tuple(str(p) for p in (problems or [])),
                note=notes.get(item_id, ""),
                personalization={
                    str(k): str(v) for k, v in {**(personal or {}), **(images or {})}.items()
                },
                preview=preview or "",
                under_hold=(under or "") if status == OrderStatus.ON_HOLD else "",
                shipping_speed=speed or "",
                rush=bool(rush),
                crop=crop_cell(photos),
                photo_accepted=any(photo.accepted for photo in photos),
                address=tuple(fields.items()),
                part=parts.get(item_id) or _held(routed, line_problems),
                returned=returned.get(item_id, ""),
                labels=tuple(labels.get(item_id, ())),
            )
        )
    return lines


def _held(provider: str | None, problems: list[object] | None) -> str:
    """A line no rule routes stays here: say so, with its reason."""
    if provider is not None:
        return ""
    return "held: " + ("; ".join(str(p) for p in problems or []) or "no provider")


def _among(column: Any, ids: list[int]) -> ColumnElement[bool]:
    """`column IN (1, 2, ...)`, the ids written into the SQL: no limit on bound
    parameters, and PostgreSQL counts them exactly when it plans."""
    return column.in_(bindparam(None, ids, expanding=True, literal_execute=True))


def _parts(session: Session, ids: list[int]) -> dict[int, str]:
    """Line item id -> the fulfillment making it, in words; a live one over a cancelled
    one (a fallback moved its lines)."""
    query = (
        select(
            FulfillmentLine.line_item_id,
            Fulfillment.seq,
            Fulfillment.provider,
            Fulfillment.status,
            Fulfillment.last_error,
            Store.key,
            Order.number,
            Fulfillment.kind,
            Fulfillment.reason,
            Fulfillment.paid_by,
            Fulfillment.shipping_address,
        )
        .join(Fulfillment, FulfillmentLine.fulfillment_id == Fulfillment.id)
        .join(Order, Fulfillment.order_id == Order.id)
        .join(Store, Order.store_id == Store.id)
        .where(_among(Fulfillment.order_id, ids), _among(Order.id, ids))
        .order_by(Fulfillment.seq)
    )
    found: dict[int, str] = {}
    live: set[int] = set()
    rows = session.connection().execute(query)
    for item_id, seq, provider, status, error, store, number, kind, reason, payer, kept in rows:
        state = FulfillmentStatus(status)
        if item_id in live and state == FulfillmentStatus.CANCELLED:
            continue
        reference = FulfillmentRef(OrderRef(store, number), seq).provider
        text = f"{provider} {reference}: {state.label}"
        if error and state == FulfillmentStatus.SUBMIT_FAILED:
            text += f": {error}"
        if kept:  # its provider kept an older address than the order's
            text += f"; still ships to the old address: {one_line(kept)}"
        if kind == FulfillmentKind.REMAKE:  # beside the part that made it first
            text = f"remake ({reason}, {payer} pays) {text}"
            found[item_id] = f"{found[item_id]}; {text}" if item_id in found else text
            continue
        found[item_id] = text
        if state != FulfillmentStatus.CANCELLED:
            live.add(item_id)
    return found


def _parcels(session: Session, ids: list[int]) -> dict[int, list[tuple[str, str, str]]]:
    """Line item id -> its parcels. The orders' parcels first, then their lines by
    parcel id: both read through an index (a join let PostgreSQL scan every parcel
    line of history)."""
    parcels = {
        shipment_id: (carrier, number, url or "")
        for shipment_id, carrier, number, url in session.connection().execute(
            select(Shipment.id, Shipment.carrier, Shipment.tracking_number, Shipment.tracking_url)
            .where(_among(Shipment.order_id, ids))
            .order_by(Shipment.id)
        )
    }
    lines = select(ShipmentLine.shipment_id, ShipmentLine.line_item_id).where(
        _among(ShipmentLine.shipment_id, list(parcels))
    )
    found: dict[int, list[tuple[str, str, str]]] = {}
    for shipment_id, item_id in sorted(session.connection().execute(lines)):
        found.setdefault(item_id, []).append(parcels[shipment_id])
    return found


def _returned(session: Session, ids: list[int]) -> dict[int, str]:
    """Line item id -> `returned 2 (wrong size; damaged)`: what came back of it and why."""
    query = (
        select(ReturnLine.line_item_id, ReturnLine.quantity, Return.reason)
        .join(Return, ReturnLine.return_id == Return.id)
        .where(_among(Return.order_id, ids))
        .order_by(Return.id)
    )
    units: dict[int, int] = {}
    reasons: dict[int, list[str]] = {}
    for item_id, quantity, reason in session.connection().execute(query):
        units[item_id] = units.get(item_id, 0) + quantity
        reasons.setdefault(item_id, []).append(reason)
    return {i: f"returned {n} ({'; '.join(reasons[i])})" for i, n in units.items()}


def _labels(session: Session, ids: list[int]) -> dict[int, list[str]]:
    """Line item id -> where the PDFs of the bought labels of its parcels are, oldest
    first (a voided label is off the order, and off the sheet)."""
    query = (
        select(Label.lines, Label.files)
        .where(_among(Label.order_id, ids), Label.state == "bought")
        .order_by(Label.id)
    )
    found: dict[int, list[str]] = {}
    for lines, files in session.connection().execute(query):
        pdf = (files or {}).get("pdf")
        if not pdf:
            continue
        for item_id, _quantity in lines or []:
            found.setdefault(int(item_id), []).append(str(pdf))
    return found


def _notes(session: Session, ids: list[int]) -> dict[int, str]:
    query = (
        select(Event.detail)
        .where(
            _among(Event.order_id, ids),
            Event.action == written(EventName.SHEET_NOTE.value),  # ix_events_sheet_notes
        )
        .order_by(Event.id)
    )
    notes: dict[int, str] = {}
    for (detail,) in session.connection().execute(query):
        notes[int(detail["line_item_id"])] = str(detail.get("note", ""))
    return notes
