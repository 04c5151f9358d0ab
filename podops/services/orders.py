"""Staff actions before submission: hold, release, cancel, edit the design."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from podops import events
from podops.errors import DomainRefusal, InvalidInput, OrderLocked
from podops.events import Actor, EventName
from podops.fulfillment_status import TO_SEND
from podops.models import LineItem, Order, utcnow
from podops.outbox import enqueue
from podops.outbox.messages import store_hold_message, store_status_message
from podops.ports.store import PLATFORMS_TAKING_HOLDS
from podops.refs import OrderRef
from podops.services.designs import RENDER_PROBLEM_PREFIX
from podops.services.fulfillments import step
from podops.services.lookup import get_order
from podops.services.order_changes import apply, clean_text, notify
from podops.services.provider_answers import may_exist, request_cancel
from podops.status import BEFORE_SUBMISSION, Action, OrderStatus

MAX_FIELD_LENGTH = 500
HOLD_REASON_SEPARATOR = "; "
MAX_HOLD_REASONS = 1000


def hold(session: Session, reference: str | OrderRef, actor: Actor, reason: str = "") -> Order:
    """Stop the order where it is; the countdown's remaining time is kept for release.

    Holding a held order keeps it held (where it was and its time left unchanged)
    and adds the new reason."""
    order = get_order(session, reference, for_update=True)
    text = clean_text(reason, field="the reason")
    if OrderStatus(order.status) == OrderStatus.ON_HOLD:
        add_hold_reason(session, order, actor, text)
    else:
        hold_order(session, order, actor, text or "held by staff")
        _tell_shop_of_hold(session, order, True)
    return order


def _tell_shop_of_hold(session: Session, order: Order, held: bool) -> None:
    """A staff hold or release goes to a shop whose platform takes holds (its adapter
    acts only when the store's `push_holds` is on)."""
    if order.store.platform in PLATFORMS_TAKING_HOLDS:
        enqueue(session, store_hold_message(order.id, held, utcnow()))


def add_hold_reason(session: Session, order: Order, actor: Actor, reason: str) -> None:
    """Put `reason` in front of a held order's reasons, or refuse when it adds nothing.

    The newest reason leads, so a staff reason given over the shop's own hold makes
    it a staff hold, which the shop setting the order back does not undo."""
    known = (order.hold_reason or "").split(HOLD_REASON_SEPARATOR)
    if not reason or reason in known:
        raise DomainRefusal(f"{order.label} is already on hold: {order.hold_reason}")
    reasons = [reason, *(part for part in known if part)]
    while len(reasons) > 1 and len(HOLD_REASON_SEPARATOR.join(reasons)) > MAX_HOLD_REASONS:
        reasons.pop()  # the oldest reasons go first; the events keep every one
    order.hold_reason = HOLD_REASON_SEPARATOR.join(reasons)
    order.updated_at = utcnow()
    event = events.record(session, order, actor, EventName.HOLD_REASON, reason=reason)
    notify(session, order, event)


def release(session: Session, reference: str | OrderRef, actor: Actor) -> Order:
    """Return a held order to where it was (see `release_order`)."""
    order = get_order(session, reference, for_update=True)
    release_order(session, order, actor)
    _tell_shop_of_hold(session, order, False)
    return order


def hold_order(session: Session, order: Order, actor: Actor, reason: str) -> None:
    """Hold the order in hand (the shop's own holds use this too), keeping where it
    was and how much of its countdown was left."""
    before = OrderStatus(order.status)
    apply(session, order, Action.HOLD, actor, reason=reason)
    order.hold_reason = reason
    order.held_by = actor.name
    order.held_at = utcnow()
    order.held_from = before.value
    order.hold_remaining_s = remaining_seconds(order.submit_at, utcnow())


def release_order(session: Session, order: Order, actor: Actor) -> None:
    """Back to the status under the hold: design work, or the countdown with the time
    it had left when held (never a countdown that ran out meanwhile)."""
    remaining = order.hold_remaining_s
    if order.held_from == OrderStatus.NEEDS_DESIGN.value or has_design_problems(order):
        apply(session, order, Action.RELEASE_TO_DESIGN, actor)
    else:
        apply(session, order, Action.RELEASE, actor, remaining_s=remaining)
    if remaining is not None:
        order.submit_at = utcnow() + timedelta(seconds=max(0, remaining))
    end_hold(order)


def end_hold(order: Order) -> None:
    """Forget the hold's facts once the order left on_hold (released, cancelled...)."""
    order.hold_reason = None
    order.held_by = None
    order.held_at = None
    order.held_from = None
    order.hold_remaining_s = None


def remaining_seconds(submit_at: datetime | None, now: datetime) -> int | None:
    """Whole seconds the countdown still had (0 once it ran out; None without one)."""
    if submit_at is None:
        return None
    return max(0, math.ceil((submit_at - now).total_seconds()))


def has_design_problems(order: Order) -> bool:
    """A line whose print file was refused (text too long, photo too small): the
    order must not go back to the countdown until its design is fixed."""
    return any(
        str(problem).startswith(RENDER_PROBLEM_PREFIX)
        for item in order.items
        for problem in item.problems
    )


def cancel(session: Session, reference: str | OrderRef, actor: Actor, reason: str) -> Order:
    """Cancel before submission; after it, ask each provider (cancel_requested)."""
    order = get_order(session, reference, for_update=True)
    reason = clean_text(reason, field="the reason")
    if not reason:
        raise InvalidInput(f"say why {order.label} is cancelled (for example: out of stock)")
    status = OrderStatus(order.status)
    if status in (OrderStatus.SUBMITTED, OrderStatus.IN_PRODUCTION) or may_exist_at_provider(order):
        order.cancel_reason = reason
        request_cancel(session, order, actor, reason)
        return order
    apply(session, order, Action.CANCEL, actor, reason=reason)
    for part in [p for p in order.parts if p.status in TO_SEND]:
        step(session, order, part, Action.CANCEL, actor, silent=True, settle=False)
    enqueue(session, store_status_message(order.id, "cancelled", reason=reason))
    order.cancel_reason = reason
    return order


def may_exist_at_provider(order: Order) -> bool:
    """A failed order that was sent to a provider: the attempt may have created it
    there, so cancelling means looking it up (and cancelling it) at the provider."""
    return OrderStatus(order.status) == OrderStatus.SUBMIT_FAILED and any(
        may_exist(part) for part in order.parts
    )


def flag_design(session: Session, reference: str | OrderRef, actor: Actor, reason: str) -> Order:
    order = get_order(session, reference, for_update=True)
    apply(session, order, Action.FLAG_DESIGN, actor, reason=clean_text(reason, field="the reason"))
    return order


def design_ready(session: Session, reference: str | OrderRef, actor: Actor) -> Order:
    order = get_order(session, reference, for_update=True)
    missing = [item.reference for item in order.items if not item.personalization]
    if missing:
        raise InvalidInput(
            f"{order.label} still has no personalization on {', '.join(missing)}; fill it first"
        )
    apply(session, order, Action.DESIGN_READY, actor)
    return order


def line_of(order: Order, position: int) -> LineItem:
    """The order's line at `position`, or a refusal naming how many lines it has."""
    item = next((i for i in order.items if i.position == position), None)
    if item is None:
        raise InvalidInput(f"{order.label} has no line {position} (it has {len(order.items)})")
    return item


def clean_fields(changes: dict[str, str]) -> dict[str, str]:
    """Personalization values as staff typed them, trimmed and bounded."""
    cleaned: dict[str, str] = {}
    for name, value in changes.items():
        name = name.strip()
        if not name:
            raise InvalidInput("a personalization field needs a name")
        text = str(value).strip()
        if len(text) > MAX_FIELD_LENGTH:
            raise InvalidInput(
                f"{name} is {len(text)} characters; at most {MAX_FIELD_LENGTH} are allowed"
            )
        cleaned[name] = text
    return cleaned


def edit_personalization(
    session: Session,
    reference: str | OrderRef,
    position: int,
    changes: dict[str, str],
    actor: Actor,
) -> Order:
    """Change a line's text fields as given; its print file must be rendered again.

    Staff surfaces use `services.edit_fields` instead: checked against the line's
    template (photo links included) by `fulfillment.field_checks` first."""
    order = get_order(session, reference, for_update=True)
    if OrderStatus(order.status) not in BEFORE_SUBMISSION:
        raise OrderLocked(
            f"{order.label} is {OrderStatus(order.status).label}; its design can no longer be "
            "changed (it was sent to the provider)"
        )
    item = line_of(order, position)
    cleaned = clean_fields(changes)
    before = {k: item.personalization.get(k) for k in cleaned}
    if all(before[k] == v for k, v in cleaned.items()):
        return order
    item.personalization = {**item.personalization, **cleaned}
    item.print_file_current = False
    order.updated_at = utcnow()  # dirty the order so its version check guards the edit
    events.edit_personalization(session, order, actor, line=item.reference, old=before, new=cleaned)
    return order
