"""Applying what people typed in the Orders tab through the services.

Each edit says the state the person wants ("hold: TRUE", "name: BOB"), so
applying it again is harmless: an order already on hold stays on hold. Each
edit runs in its own unit of work (the address cells of a row together); a
refused edit leaves a message for the row saying what was typed and why it
was not taken, so nothing is lost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from podops import services
from podops.address import PREFIX
from podops.db import Database
from podops.errors import InvalidInput, OrderLocked, PodopsError
from podops.events import Actor
from podops.fulfillment.field_checks import FieldChecks
from podops.routing import ShopPolicy
from podops.services.design_gate import design_locked, design_may_change
from podops.services.field_edits import FieldEdit
from podops.sheet.photo_edits import accept_photo, crop_photos
from podops.sheet.plan import StaffEdit
from podops.sheet.rows import (
    ACCEPT_PHOTO,
    ADDRESS_HEADERS,
    CROP,
    FULFILLED,
    HOLD,
    NOTES,
    RETURN,
    SHIPPING,
    SheetLine,
)
from podops.status import OrderStatus

if TYPE_CHECKING:
    from podops.fulfillment.address_change import AddressDesk

HOLD_WORDS = frozenset({"true", "yes", "y", "x", "hold", "on hold", "held", "1"})
RELEASE_WORDS = frozenset({"false", "no", "n", "", "release", "released", "0"})
HOLD_REASON = "held in the sheet"
FULFILLED_WORDS = frozenset({"yes", "y", "x", "true", "done", "fulfilled", "1"})


@dataclass(slots=True)
class EditResults:
    applied: int = 0
    refused: int = 0
    messages: dict[str, str] = field(default_factory=dict)
    """Row key -> message to show beside it ("" clears an earlier message)."""


def parse_hold(text: str) -> bool:
    word = " ".join(text.strip().lower().split())
    if word in HOLD_WORDS:
        return True
    if word in RELEASE_WORDS:
        return False
    raise InvalidInput("write TRUE to hold the order or FALSE to release it")


def apply_edits(
    db: Database,
    edits: Sequence[StaffEdit],
    lines: dict[str, SheetLine],
    fields: dict[str, str],
    actor: Actor,
    now: datetime,
    *,
    policy: ShopPolicy | None = None,
    checks: FieldChecks | None = None,
    retired: Mapping[str, str] | None = None,
    addresses: AddressDesk | None = None,
) -> EditResults:
    """`fields`: header -> field of the field columns; `checks` checks those edits
    against the line's template; `retired`: columns being removed -> why an edit
    typed there is refused; `policy` holds the stores' shipping tables (speeds typed
    in the shipping column). The address cells of one row go as one change
    (`addresses`: through the provider once it has the order; without it, only
    before submission)."""
    results = EditResults()
    address_edits = [edit for edit in edits if edit.header in ADDRESS_HEADERS]
    edits = [edit for edit in edits if edit.header not in ADDRESS_HEADERS]
    for key, group in _by_row(address_edits).items():
        line = lines.get(key)
        if line is not None:
            _apply_address(db, addresses, group, line, actor, now, results)
    for edit in edits:
        line = lines.get(edit.key)
        if line is None:
            continue  # the line left the sheet (archived); its row is rewritten
        try:
            if edit.header in fields:  # a line at its provider: refused before any photo fetch
                refuse_line_at_provider(db, line)
            checked = check_field_edit(checks, edit, line, fields, retired or {})
            with db.unit_of_work() as session:
                if checked is not None:
                    services.edit_fields(session, checked, actor)
                    changed = not checked.empty
                else:
                    changed = apply_edit(session, edit, line, fields, actor, policy)
        except PodopsError as exc:
            results.refused += 1
            shown = edit.new if len(edit.new) <= 80 else edit.new[:77] + "..."
            results.messages[edit.key] = (
                f"{now:%Y-%m-%d %H:%M} UTC: {edit.header} was not changed to {shown!r}: "
                f"{exc.message}"
            )
            continue
        results.applied += changed
        results.messages.setdefault(edit.key, "")
    return results


def _by_row(edits: Sequence[StaffEdit]) -> dict[str, list[StaffEdit]]:
    rows: dict[str, list[StaffEdit]] = {}
    for edit in edits:
        rows.setdefault(edit.key, []).append(edit)
    return rows


def _apply_address(
    db: Database,
    addresses: AddressDesk | None,
    group: list[StaffEdit],
    line: SheetLine,
    actor: Actor,
    now: datetime,
    results: EditResults,
) -> None:
    """A row's address cells as one change: all taken, or none (the reason beside it)."""
    typed = {edit.header.removeprefix(PREFIX): edit.new for edit in group}
    try:
        if any(edit.new.lstrip().startswith("=") for edit in group):
            raise InvalidInput(
                "that is a formula; podops takes typed values only, so type the value itself"
            )
        if addresses is not None:
            outcome = addresses.change(line.order_reference, typed, actor)
            if outcome.partial:  # a split order: some parts kept the old address
                results.refused += 1
                results.messages[line.key] = f"{now:%Y-%m-%d %H:%M} UTC: {outcome.words}"
                return
            changed = bool(outcome.changed or outcome.caught_up)
        else:
            with db.unit_of_work() as session:
                reference = line.order_reference
                changed = not services.change_address(session, reference, typed, actor).empty
    except PodopsError as exc:
        results.refused += 1
        cells = ", ".join(f"{edit.header}={edit.new[:40]!r}" for edit in group)
        results.messages[line.key] = (
            f"{now:%Y-%m-%d %H:%M} UTC: the address was not changed ({cells}): {exc.message}"
        )
        return
    results.applied += changed
    results.messages.setdefault(line.key, "")


def apply_edit(
    session: Session,
    edit: StaffEdit,
    line: SheetLine,
    fields: dict[str, str],
    actor: Actor,
    policy: ShopPolicy | None = None,
) -> bool:
    """Bring the order to the state the edited cell asks for; False if already there.

    Field columns go through `check_field_edit` and `services.edit_fields` instead."""
    refuse_formula(edit.new)
    reference = line.order_reference
    if edit.header == HOLD:
        wanted = parse_hold(edit.new)
        order = services.get_order(session, reference, for_update=True)
        on_hold = OrderStatus(order.status) == OrderStatus.ON_HOLD
        if wanted and not on_hold:
            services.hold(session, reference, actor, HOLD_REASON)
            return True
        if not wanted and on_hold:
            services.release(session, reference, actor)
            return True
        return False
    if edit.header == FULFILLED:
        return _fulfilled_by_shop(session, edit.new, line, actor)
    if edit.header == SHIPPING:
        return services.set_shipping_speed(
            session, reference, edit.new, actor, policy or ShopPolicy({}, [])
        )
    if edit.header == NOTES:
        return services.set_line_note(session, reference, line.position, edit.new, actor)
    if edit.header == CROP:
        return crop_photos(session, edit.new, line, actor)
    if edit.header == ACCEPT_PHOTO:
        return accept_photo(session, edit.new, line, actor)
    if edit.header == RETURN:
        return _returned(session, edit.new, line, actor)
    return False


def refuse_line_at_provider(db: Database, line: SheetLine) -> None:
    """A personalization cell of a line a provider already has is refused with the
    reason (which provider, which lines may still change), never taken silently."""
    with db.reading() as session:
        order = services.get_order(session, line.order_reference)
        item = next((i for i in order.items if i.position == line.position), None)
        if item is not None and not design_may_change(order, item):
            raise OrderLocked(design_locked(order, item))


def refuse_formula(text: str) -> None:
    if text.lstrip().startswith("="):
        # Its result could change every time it is read (=NOW()); only typed values count.
        raise InvalidInput(
            "that is a formula; podops takes typed values only, so type the value itself"
        )


def check_field_edit(
    checks: FieldChecks | None,
    edit: StaffEdit,
    line: SheetLine,
    fields: Mapping[str, str],
    retired: Mapping[str, str],
) -> FieldEdit | None:
    """A value typed in a field column, checked against the line's template outside
    any transaction (a photo link is fetched); None for the other columns."""
    if edit.header in retired:
        raise InvalidInput(retired[edit.header])
    name = fields.get(edit.header)
    if name is None:
        return None
    refuse_formula(edit.new)
    if checks is None:
        raise InvalidInput("field edits are not taken here: podops has no product templates")
    return checks.check(line.order_reference, line.position, {name: edit.new})


def _returned(session: Session, text: str, line: SheetLine, actor: Actor) -> bool:
    """`wrong size` (every unit of the line still out) or `1 wrong size`: goods of this
    line came back. What podops wrote there (`returned 2 (...)`) is the state, not a
    request; a return is never taken back from the sheet."""
    words = text.split()
    if not words or text.strip() == line.returned:
        if line.returned and not words:
            raise InvalidInput("a recorded return cannot be taken back; it stays as it is")
        return False
    quantity = int(words[0]) if words[0].isdigit() else None
    reason = " ".join(words[1:] if quantity is not None else words)
    if not reason:
        raise InvalidInput("type why it came back, with the units first if not all: 1 wrong size")
    wanted = [services.ReturnWanted(line.position, quantity)]
    services.return_order(session, line.order_reference, actor, reason, lines=wanted)
    return True


def _fulfilled_by_shop(session: Session, text: str, line: SheetLine, actor: Actor) -> bool:
    """`yes`, or the parcel as `CARRIER NUMBER`: the shop fulfilled the order by hand."""
    words = text.split()
    if not words:
        return False
    if len(words) == 1 and words[0].lower() in FULFILLED_WORDS:
        services.record_fulfilled_by_shop(session, line.order_reference, actor)
        return True
    if len(words) < 2:
        raise InvalidInput(
            "write yes if the shop fulfilled it by hand, or the carrier and tracking number "
            "(UPS 1Z999AA10123456784)"
        )
    services.record_fulfilled_by_shop(
        session, line.order_reference, actor, carrier=words[0], number="".join(words[1:])
    )
    return True
