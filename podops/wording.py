"""One sentence per audit event, for people: the order card's timeline, Slack
notices and `podops orders show` all say the same thing.

Every `EventName` has a sentence in `WORDING` or is listed in `SILENT` (told
with the general "<event> on <order> by <who>"); a test holds new names to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from podops.events import EventName
from podops.models import Event
from podops.photos import photo_name
from podops.refs import in_shell, in_slack
from podops.tracking.parcels import shared_warning

MAX_DOCUMENTS = 12


def actor_name(actor: str) -> str:
    """`slack:U1 (maria)` -> `maria`; `scheduler` -> `podops`."""
    if "(" in actor and actor.endswith(")"):
        return actor[actor.index("(") + 1 : -1]
    return "podops" if actor in ("scheduler", "test") else actor


@dataclass(frozen=True, slots=True)
class _Told:
    """What an event's sentence is made of."""

    who: str
    label: str
    reason: str
    d: dict[str, Any]


def _still_held(t: _Told) -> str:
    """A design step on a held order did not touch its hold: say so."""
    return "; it stays on hold until someone releases it" if t.d.get("under_hold") else ""


E = EventName
_NAMES = frozenset(name.value for name in EventName)
WORDING: dict[EventName, Callable[[_Told], str]] = {
    E.HOLD: lambda t: f"{t.who} put {t.label} on hold{t.reason}",
    E.HOLD_REASON: lambda t: f"{t.who} gave another reason to hold {t.label}{t.reason}",
    E.RELEASE: lambda t: f"{t.who} released {t.label}; its countdown runs again",
    E.RELEASE_TO_DESIGN: lambda t: f"{t.who} released {t.label}; it still needs a design",
    E.FOUND_AT_PROVIDER: lambda t: (
        f"{t.label} turned out to be at "
        f"{t.d.get('provider', 'the provider')} ({t.d.get('provider_order_id', '')}); "
        "asking it to cancel there"
    ),
    E.FLAG_DESIGN: lambda t: f"{t.label} needs a design{t.reason}" + _still_held(t),
    E.DESIGN_READY: lambda t: (
        f"{t.label} has its design" + (_still_held(t) or "; countdown running")
    ),
    E.SUBMIT_OK: lambda t: (
        f"{t.label} was sent to {t.d.get('provider', 'the provider')} "
        f"({t.d.get('provider_order_id', '')})"
    ),
    E.SUBMIT_FAIL: lambda t: (
        f"sending {t.label} to {t.d.get('provider', 'the provider')} failed{t.reason}"
    ),
    E.SHIP_PART: lambda t: (
        f"{t.label} partly shipped: {t.d.get('carrier')} {t.d.get('tracking_number')}"
        f"{_shared_note(t.d)}"
    ),
    E.SHIP_ALL: lambda t: (
        f"{t.label} shipped: {t.d.get('carrier')} {t.d.get('tracking_number')}{_shared_note(t.d)}"
    ),
    E.COMPLETE: lambda t: f"{t.label} is completed in the store",
    E.FULFILLED_BY_SHOP: lambda t: (
        f"{t.who} recorded {t.label} as already fulfilled by the shop"
        + (f" ({t.d['carrier']} {t.d['tracking_number']})" if t.d.get("tracking_number") else "")
        + "; nothing goes to a provider"
    ),
    E.CANCEL: lambda t: f"{t.who} cancelled {t.label}{t.reason}",
    E.REQUEST_CANCEL: lambda t: f"{t.who} asked the provider to cancel {t.label}{t.reason}",
    E.CONFIRM_CANCEL: lambda t: f"the provider cancelled {t.label}",
    E.REFUSE_CANCEL: lambda t: f"the provider refused to cancel {t.label}; it stays in production",
    E.RETURN: lambda t: f"{t.who} recorded {t.label} as returned{_returned_lines(t.d)}{t.reason}",
    E.RETURN_LINES: lambda t: (
        f"{t.who} recorded part of {t.label} as returned{_returned_lines(t.d)}{t.reason}"
    ),
    E.EDIT_PERSONALIZATION: lambda t: f"{t.who} edited {t.d.get('line', t.label)}",
    E.PHOTO_CROP: lambda t: (
        f"{t.who} cropped the {photo_name(str(t.d.get('field', 'photo')))} of "
        f"{t.d.get('line', t.label)}: {t.d.get('new', '')}"
        + (f" ({t.d['dpi']} DPI)" if t.d.get("dpi") is not None else "")
    ),
    E.PHOTO_ACCEPTED: lambda t: (
        f"{t.who} accepted the {photo_name(str(t.d.get('field', 'photo')))} of "
        f"{t.d.get('line', t.label)} at {t.d.get('dpi')} DPI "
        f"(at least {t.d.get('min_dpi')} wanted); it prints as it is"
    ),
    E.PHOTO_LOW_DPI: lambda t: (
        f"{t.d.get('line', t.label)}: " + "; ".join(str(p) for p in t.d.get("problems", []))
    ),
    E.STORE_CANCELLED_AFTER_SUBMISSION: lambda t: str(
        t.d.get("problem", f"{t.label} has a problem")
    ),
    E.STORE_REFUND: lambda t: f"{t.label}: refunded in the store, {t.d.get('change', '')}",
    E.STORE_REFUNDED_AFTER_SUBMISSION: lambda t: str(
        t.d.get("problem", f"{t.label} was refunded after submission")
    ),
    E.STORE_ITEMS_CHANGED: lambda t: str(
        t.d.get("problem", f"the shop changed the items of {t.label}")
    ),
    E.STORE_REFUNDS_UNREAD: lambda t: str(
        t.d.get("problem", f"podops could not read the refunds of {t.label}")
    ),
    E.PROVIDER_STATUS_UNKNOWN: lambda t: (
        f"{t.label}: {t.d.get('problem', 'unknown provider status')}"
    ),
    E.PROVIDER_HAS_OLD_DESIGN: lambda t: f"{t.label}: {t.d.get('problem', 'old design')}",
    E.RECEIVE: lambda t: f"{t.label} received",
    E.SHIPPING_SPEED: lambda t: _speed_set(t),
    E.EDIT_ADDRESS: lambda t: (
        f"{t.who} changed the shipping address of {t.label}: {_address_changes(t.d)}"
        + (f"; {t.d['after_submission']} has it now" if t.d.get("after_submission") else "")
        + _old_address_parts(t.d)
    ),
    E.STORE_ADDRESS: lambda t: (
        f"the shipping address of {t.label} was changed in the shop: {_address_changes(t.d)}"
        + (f"; {t.d['note']}" if t.d.get("note") else "")
    ),
    E.ADDRESS_CHANGE_REFUSED: lambda t: (
        f"the shipping address of {t.label} was not changed: {t.d.get('reason', '')}"
    ),
    E.ADDRESS_VERIFIED: lambda t: (
        f"the shipping address of {t.label} was verified by {t.d.get('service', 'the carrier')}"
    ),
    E.ADDRESS_CHECK_FAILED: lambda t: (
        f"the shipping address of {t.label} did not verify ({t.d.get('service', 'carrier')}: "
        f"{t.d.get('reason', '')})"
        + (f"; {t.d['waiting']} waits for it" if t.d.get("waiting") else "")
        + f"; fix it with podops edit {in_shell(t.d.get('number', ''))} "
        "address.FIELD=VALUE (or the Slack form, or the sheet), or "
        + (
            f"send it as it is with podops submit {in_shell(t.d.get('number', ''))}"
            if t.d.get("waiting")
            else "release it to send it as it is"
        )
    ),
    E.ADDRESS_CHECK_DELAYED: lambda t: (
        f"the shipping address of {t.label} could not be checked yet "
        f"({t.d.get('service', 'the service')}: {t.d.get('reason', '')}); podops keeps trying. "
        f"To send it unchecked: podops submit {in_shell(t.d.get('number', ''))}"
    ),
    E.ADDRESS_ACCEPTED: lambda t: (
        f"{t.who} sent the shipping address of {t.label} as it is{t.reason}"
    ),
    E.READY_TO_DOWNLOAD: lambda t: f"{t.label}: {_documents_summary(t.d)} ready to download",
    E.OUT_OF_STOCK_FALLBACK: lambda t: (
        f"{t.d.get('provider', 'the provider')} refused {t.label} as out of stock; "
        + "its lines went on as "
        + ", ".join(f"{ref} to {name}" for ref, name in dict(t.d.get("now") or {}).items())
    ),
    E.PARTLY_CANCELLED: lambda t: f"{t.label}: {t.d.get('problem', 'partly cancelled')}",
    E.ROUTED_AGAIN: lambda t: f"{t.label}: {t.d.get('reason', 'routed again')}",
    E.REMAKE: lambda t: (
        f"{t.who} asked for a remake of {t.label} ({t.d.get('reason', '')}, "
        f"paid by {t.d.get('paid_by', '?')}): "
        + ", ".join(f"{ref} x{qty}" for ref, qty in dict(t.d.get("lines") or {}).items())
        + " as "
        + ", ".join(f"{ref} to {name}" for ref, name in dict(t.d.get("now") or {}).items())
    ),
    E.UNSHIP_PART: lambda t: (
        f"{t.who} voided the label {t.d.get('tracking_number')} of {t.label} (refund "
        f"{t.d.get('refund_status')}); its parcel is off the order"
    ),
    E.UNSHIP_ALL: lambda t: (
        f"{t.who} voided the label {t.d.get('tracking_number')} of {t.label} (refund "
        f"{t.d.get('refund_status')}); nothing of it has a parcel now"
    ),
    E.LABEL_BOUGHT: lambda t: (
        f"{t.who} bought a label for {t.label}: {t.d.get('carrier')} {t.d.get('service')}, "
        f"{t.d.get('price')}, tracking {t.d.get('tracking_number')}"
    ),
    E.LABEL_REFUSED: lambda t: f"no label for {t.label}: {t.d.get('reason', '')}",
    E.PARCEL_DELIVERED: lambda t: f"parcel {t.d.get('tracking_number')} of {t.label} was delivered",
    E.REMAKE_SHIPPED: lambda t: (
        f"the remake of {t.label} shipped: {t.d.get('carrier')} {t.d.get('tracking_number')}"
    ),
}
"""The sentence for each event people read (Slack notices, the order card)."""

SILENT: frozenset[EventName] = frozenset(
    {
        E.QUEUE,
        E.BEGIN_SUBMIT,
        E.RETRY,
        E.START_PRODUCTION,
        E.STORE_STATUS,
        E.STORE_HELD_AFTER_SUBMISSION,
        E.STORE_PUSH,
        E.RENDER,
        E.RENDER_REFUSED,
        E.RENDER_FAILED,
        E.DESIGN_REPLACED,
        E.SUBMIT_BLOCKED,
        E.SUBMIT_UNBLOCKED,
        E.TRACKING_REJECTED,
        E.SHEET_NOTE,
        E.OUTBOX_RETRY,
    }
)
"""Events with no sentence of their own: told as "<event> on <order> by <who>"."""


def _speed_set(t: _Told) -> str:
    """`maria set order 1234 to ship express (rush; was standard)`."""
    notes = ["rush"] if t.d.get("rush") else []
    notes.append(f"was {t.d['old']}" if t.d.get("old") else "its store method had no mapping")
    return f"{t.who} set {t.label} to ship {t.d.get('new')} ({'; '.join(notes)})"


def _address_changes(detail: dict[str, Any]) -> str:
    """`line2 'Apt 4' -> 'Apt 5'; city ...`: each changed field, old and new."""
    changes = detail.get("changes") or {}
    parts = [
        f"{name} {str(pair[0])!r} -> {str(pair[1])!r}"
        for name, pair in changes.items()
        if isinstance(pair, list | tuple) and len(pair) == 2
    ]
    return "; ".join(parts) or "no field changed"


def _old_address_parts(detail: dict[str, Any]) -> str:
    """`; part 2 at so still ships to the old address`: a split order's parts whose
    provider kept it (each has an event of its own with its provider's words)."""
    kept = dict(detail.get("old_address_parts") or {})
    if not kept:
        return ""
    named = ", ".join(f"{label} at {provider}" for label, provider in kept.items())
    return f"; {named} still {'ship' if len(kept) > 1 else 'ships'} to the old address"


def _returned_lines(detail: dict[str, Any]) -> str:
    """` (1234-01 x1, 1234-02 x2)`: the units that came back, when the event names them."""
    lines = dict(detail.get("lines") or {})
    return f" ({', '.join(f'{ref} x{qty}' for ref, qty in lines.items())})" if lines else ""


def _shared_note(detail: dict[str, Any]) -> str:
    """A parcel whose number other orders have: the warning, after the parcel."""
    others = detail.get("shared_with")
    if not others:
        return ""
    return f"; warning: {shared_warning(str(detail.get('tracking_number')), others)}"


def describe_event(event: Event, number: str) -> str:
    """One line in words for an audit event; one about a single fulfillment of an order
    with several names it (`part 2 of order 1234`)."""
    who, d, label = actor_name(event.actor), event.detail, f"order {number}"
    if d.get("part") and not event.to_status and d.get("fulfillment"):
        label = f"{'remake ' if d.get('remake') else ''}part {d['part']} of {label}"
    wording = WORDING.get(EventName(event.action)) if event.action in _NAMES else None
    if wording is None:
        return f"{event.action.replace('_', ' ')} on {label} by {who}"
    return wording(_Told(who, label, f": {d['reason']}" if d.get("reason") else "", d))


def _documents_summary(documents: dict[str, object]) -> str:
    files = sum(1 for name in documents if name.startswith("print_file"))
    parts = ["packing slip"] if "packing_slip" in documents else []
    if files:
        parts.append(f"{files} print file{'s' if files != 1 else ''}")
    return " and ".join(parts) or "files"


def document_lines(documents: dict[str, object], number: str) -> list[str]:
    """`packing slip: URL`, `print file 1234-01: URL`: what staff open to do the job
    (the manual provider's packing slip means staff print and ship it themselves)."""
    ordered = sorted(documents.items(), key=lambda kv: kv[0] != "packing_slip")
    lines = [f"{name.replace('_', ' ')}: {url}" for name, url in ordered[:MAX_DOCUMENTS]]
    if len(ordered) > MAX_DOCUMENTS:
        lines.append(
            f"... and {len(ordered) - MAX_DOCUMENTS} more (podops orders show {in_shell(number)})"
        )
    if "packing_slip" in documents:
        lines.append(
            f"Once shipped, record the parcel: /order track {in_slack(number)} CARRIER NUMBER "
            f"(or podops track {in_shell(number)} CARRIER NUMBER)"
        )
    return lines
