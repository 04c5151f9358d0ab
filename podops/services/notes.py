"""Staff's notes on order lines (the sheet's Notes column; never shown to the customer).

A note is kept as an audit event (`sheet_note`): the latest note event of a
line is its note, so every change of a note is audited by construction and
no column is needed. The sheet reads all notes at once (`podops.sheet.data`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from podops import events
from podops.errors import InvalidInput
from podops.events import Actor, EventName
from podops.models import Event, LineItem
from podops.refs import OrderRef
from podops.services.lookup import get_order
from podops.services.order_changes import clean_text

MAX_NOTE = 1000


def line_note(session: Session, item: LineItem) -> str:
    """The line's current note ("" when it has none)."""
    query = (
        select(Event.detail)
        .where(Event.order_id == item.order_id, Event.action == EventName.SHEET_NOTE)
        .order_by(Event.id.desc())
    )
    for (detail,) in session.execute(query):
        if int(detail["line_item_id"]) == item.id:
            return str(detail.get("note", ""))
    return ""


def set_line_note(
    session: Session, reference: str | OrderRef, position: int, text: str, actor: Actor
) -> bool:
    """Staff's note on one line of the order. False when unchanged."""
    order = get_order(session, reference, for_update=True)
    item = next((i for i in order.items if i.position == position), None)
    if item is None:
        raise InvalidInput(f"{order.label} has no line {position}")
    note = clean_text(text, field="the note", limit=MAX_NOTE)
    previous = line_note(session, item)
    if note == previous:
        return False
    detail: dict[str, Any] = {"line_item_id": item.id, "line": item.reference, "note": note}
    events.record(session, order, actor, EventName.SHEET_NOTE, old=previous, **detail)
    return True
