"""What an address verification found, recorded on the order (`Order.address_check`).

Each verdict is tied to the address it checked (its digest): a change of the
address makes it void. Verified: the order may leave. Not deliverable: the
order is held for a person with the carrier's reason (a problem and a hold staff
see in `orders show`, Slack and the sheet); fixing the address ends that hold,
and a person releasing it sends the address as it is. The service did not
answer: the order waits with the reason and is tried again with growing
pauses; staff are told once, and may send it unchecked (`podops submit`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from podops import events
from podops.address import ACCEPTED, CHECK_PREFIX, FAILED, UNAVAILABLE, VERIFIED
from podops.events import Actor, Channel, EventName
from podops.fulfillment_status import FulfillmentKind, FulfillmentStatus
from podops.models import Order, utcnow
from podops.services.order_changes import notify
from podops.services.orders import hold_order
from podops.status import OrderStatus

TELL_AFTER_TRIES = 3
"""Failed tries before staff hear that an address could not be checked (at once when
the service refused podops' key: nothing improves without a person)."""
LONGEST_PAUSE = timedelta(minutes=30)


def pause_after(tries: int) -> timedelta:
    """1, 2, 4, 8, 16 minutes ... at most half an hour between tries."""
    return min(LONGEST_PAUSE, timedelta(minutes=2 ** max(0, tries - 1)))


def checker(service: str) -> Actor:
    """Who holds an order whose address did not verify."""
    return Actor(f"address check ({service})", Channel.SYSTEM)


def _state(digest: str, state: str, service: str, **more: Any) -> dict[str, Any]:
    return {"digest": digest, "state": state, "service": service, **more}


def _drop_check_problems(order: Order) -> None:
    order.problems = [p for p in order.problems if not str(p).startswith(CHECK_PREFIX)]


def record_verified(
    session: Session, order: Order, digest: str, service: str, actor: Actor
) -> None:
    """The carrier can deliver there: the order may leave."""
    order.address_check = _state(digest, VERIFIED, service, at=utcnow().isoformat())
    _drop_check_problems(order)
    events.record(session, order, actor, EventName.ADDRESS_VERIFIED, service=service)


def record_undeliverable(
    session: Session,
    order: Order,
    digest: str,
    service: str,
    reason: str,
    actor: Actor,
    *,
    later: bool = False,
) -> None:
    """The carrier cannot deliver there: held for a person, with the carrier's words.
    `later`: a part or remake leaving after the order waits instead (the order cannot
    be held; a person fixes the address or sends it as it is with `podops submit`)."""
    order.address_check = _state(digest, FAILED, service, reason=reason, at=utcnow().isoformat())
    _drop_check_problems(order)
    order.problems = [*order.problems, f"{CHECK_PREFIX}{service} cannot verify it: {reason}"]
    event = events.record(
        session,
        order,
        actor,
        EventName.ADDRESS_CHECK_FAILED,
        service=service,
        reason=reason,
        number=order.number,
        waiting=_waiting(order) if later else None,
    )
    notify(session, order, event)
    if OrderStatus(order.status) in (OrderStatus.PENDING, OrderStatus.SUBMIT_FAILED):
        hold = (
            f"{CHECK_PREFIX}{reason} ({service}); fix the address, or release the order "
            "to send it as it is"
        )
        hold_order(session, order, checker(service), hold)


def record_unavailable(
    session: Session,
    order: Order,
    digest: str,
    service: str,
    reason: str,
    actor: Actor,
    *,
    retryable: bool,
    now: datetime,
) -> None:
    """No verdict: the order waits and is tried again later; staff are told once."""
    before = order.address_check or {}
    same = before.get("digest") == digest and before.get("state") == UNAVAILABLE
    tries = int(before.get("tries", 0)) + 1 if same else 1
    told = bool(before.get("told")) if same else False
    since = str(before.get("since")) if same else now.isoformat()
    tell = not told and (tries >= TELL_AFTER_TRIES or not retryable)
    order.address_check = _state(
        digest,
        UNAVAILABLE,
        service,
        reason=reason,
        tries=tries,
        since=since,
        next_at=(now + pause_after(tries)).isoformat(),
        told=told or tell,
    )
    problem = f"{CHECK_PREFIX}waiting for {service}: {reason}"
    if problem not in order.problems:
        _drop_check_problems(order)
        order.problems = [*order.problems, problem]
        events.record(session, order, actor, EventName.SUBMIT_BLOCKED, problems=[problem])
    if tell:
        event = events.record(
            session,
            order,
            actor,
            EventName.ADDRESS_CHECK_DELAYED,
            service=service,
            reason=reason,
            tries=tries,
            number=order.number,
        )
        notify(session, order, event)


def record_accepted(
    session: Session, order: Order, digest: str, service: str, actor: Actor, reason: str
) -> None:
    """A person sends the address as it is (released the hold, or submitted it while the
    service could not answer)."""
    order.address_check = _state(
        digest, ACCEPTED, service, by=actor.name, reason=reason, at=utcnow().isoformat()
    )
    _drop_check_problems(order)
    events.record(session, order, actor, EventName.ADDRESS_ACCEPTED, reason=reason)


def mark_unchecked(session: Session, order: Order, service: str, actor: Actor) -> None:
    """A due order whose current address was never checked: it waits for the check
    (the countdown's next pass makes it) instead of leaving unchecked."""
    problem = f"{CHECK_PREFIX}not checked yet by {service}"
    if problem in order.problems:
        return
    _drop_check_problems(order)
    order.problems = [*order.problems, problem]
    events.record(session, order, actor, EventName.SUBMIT_BLOCKED, problems=[problem])


def _waiting(order: Order) -> str:
    """`remake part 3, part 2`: the fulfillments waiting for the address to leave."""
    waiting = [p for p in order.fulfillments if p.status == FulfillmentStatus.WAITING]
    return ", ".join(
        f"{'remake ' if p.kind == FulfillmentKind.REMAKE else ''}{p.label}" for p in waiting
    )
