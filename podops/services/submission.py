"""The submission steps the fulfillment worker records around a provider call.

An order leaves as one fulfillment per provider. `begin_submit` is persisted
*before* any provider is called, so a crash leaves each fulfillment in
`submitting` and a restart reconciles it by its own reference. The worker that
moved a fulfillment there holds its claim (a token on the fulfillment's row): it
calls the provider only while `confirm_claim` finds its token, and a reconciler
that takes a stuck fulfillment over gives it a new one (`take_claim`). The order
follows its fulfillments (`services.fulfillments.step`): submitted once each has
an answer and one is at its provider, failed when none is.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.orm import Session

from podops import events
from podops.errors import InvalidInput
from podops.events import Actor, EventName
from podops.fulfillment_status import FulfillmentKind, FulfillmentStatus, transition
from podops.models import Fulfillment, LineItem, Order, utcnow
from podops.ports.fulfillment import ProviderOrder
from podops.services.fulfillments import add_part, part_detail, step
from podops.services.order_changes import apply, notify
from podops.services.provider_answers import record_provider_cost
from podops.services.remakes import REMAKABLE, remakes
from podops.status import Action, OrderStatus
from podops.status import transition as order_transition

CLAIMABLE = (OrderStatus.PENDING, OrderStatus.SUBMIT_FAILED)
"""An order the countdown (or staff) sends: it moves to `submitting` with its parts."""
GOING_ON = (OrderStatus.SUBMITTED, OrderStatus.IN_PRODUCTION, OrderStatus.PARTIALLY_SHIPPED)
"""An order part of which is at a provider: a fulfillment left behind (it failed, or
its line had no route) is sent on its own, the order going on meanwhile."""


def begin_submit(
    session: Session, order: Order, parts: list[Fulfillment], actor: Actor
) -> list[Fulfillment]:
    """Claimed for their provider calls: the order moves to `submitting` when it is the
    order that leaves (not a fulfillment left behind by an order going on). Each event
    keeps the print files that attempt sends (`print_files`, by line), so a
    fulfillment found at its provider later can be checked against the design it was
    created with."""
    remaking = bool(parts) and all(p.kind == FulfillmentKind.REMAKE for p in parts)
    claiming = OrderStatus(order.status) in CLAIMABLE and not remaking
    if remaking and OrderStatus(order.status) not in REMAKABLE:
        raise InvalidInput(
            f"{order.label} is {OrderStatus(order.status).label}; its remake cannot be sent"
        )
    if not parts or (not claiming and not remaking and OrderStatus(order.status) not in GOING_ON):
        order_transition(OrderStatus(order.status), Action.BEGIN_SUBMIT, order_label=order.label)
    if not parts:
        raise InvalidInput(f"{order.label} has nothing to send")
    alone = claiming and len(order.fulfillments) == 1
    if claiming:
        detail = (
            {**part_detail(parts[0]), "print_files": _files(parts[0])}
            if alone
            else {"fulfillments": {part.reference: part.provider for part in parts}}
        )
        apply(session, order, Action.BEGIN_SUBMIT, actor, **detail)
    for part in parts:
        step(
            session, order, part, Action.BEGIN_SUBMIT, actor, silent=alone, print_files=_files(part)
        )
        part.submit_attempts += 1
        part.last_error = None
    return parts


def _files(part: Fulfillment) -> dict[str, str] | None:
    sent = {
        line.line_item.reference: line.line_item.print_file
        for line in part.lines
        if line.line_item.print_file
    }
    return sent or None


def mark_submitted(
    session: Session,
    order: Order,
    part: Fulfillment,
    actor: Actor,
    *,
    provider_order_id: str,
    provider_status: str | None = None,
    answer: ProviderOrder | None = None,
) -> Order:
    """`answer`: the provider's reply, whose charge (if it reports one) is kept."""
    part.provider_order_id = provider_order_id
    part.provider_status = provider_status
    part.submitted_at = utcnow()
    if answer is not None:
        record_provider_cost(part, answer)
    step(session, order, part, Action.SUBMIT_OK, actor, provider_order_id=provider_order_id)
    return order


def mark_submit_failed(
    session: Session,
    order: Order,
    part: Fulfillment,
    actor: Actor,
    *,
    reason: str,
    retryable: bool = False,
) -> Order:
    """`retryable`: the provider was unreachable, so the countdown retries on its own."""
    part.last_error = reason
    step(
        session,
        order,
        part,
        Action.SUBMIT_FAIL,
        actor,
        reason=reason,
        retryable=retryable or None,
    )
    return order


def fall_back(
    session: Session,
    order: Order,
    part: Fulfillment,
    moves: dict[str, list[tuple[LineItem, int, str | None]]],
    actor: Actor,
    *,
    reason: str,
) -> list[Fulfillment]:
    """`part`'s provider refused a variant as out of stock (nothing was created there):
    it is cancelled, and its lines go as new fulfillments, the refused ones to the
    provider of their next routing rule (`moves`: provider -> lines), the others back
    to the same provider. Returns the new fulfillments, claimed (`submitting`)."""
    label = f"{part.label} of {order.label}"
    for action in (Action.SUBMIT_FAIL, Action.CANCEL):
        part.status = transition(FulfillmentStatus(part.status), action, label=label).after
    part.last_error = reason
    created = [add_part(order, provider, lines) for provider, lines in moves.items()]
    session.flush()
    event = events.record(
        session,
        order,
        actor,
        EventName.OUT_OF_STOCK_FALLBACK,
        **part_detail(part),
        reason=reason,
        now={new.reference: new.provider for new in created},
    )
    notify(session, order, event)
    for new in created:
        step(session, order, new, Action.BEGIN_SUBMIT, actor, silent=True)
        new.submit_attempts += 1
    return created


def retry_submission(
    session: Session, order: Order, actor: Actor, *, reason: str | None = None
) -> Order:
    """Put failed fulfillments back to be sent (staff fixed the cause, or the provider
    is reachable again): a failed order goes back to the countdown; an order going on
    without one of its fulfillments sends that one at the next tick."""
    failed = [p for p in order.parts if p.status == FulfillmentStatus.SUBMIT_FAILED]
    again = [p for p in remakes(order) if p.status == FulfillmentStatus.SUBMIT_FAILED]
    if OrderStatus(order.status) in REMAKABLE and again and not failed:
        for part in again:  # a failed remake goes at the next tick
            part.last_error = None
            step(session, order, part, Action.RETRY, actor, reason=reason)
        return order
    if OrderStatus(order.status) in GOING_ON and failed:
        for part in failed:
            part.last_error = None
            step(session, order, part, Action.RETRY, actor, reason=reason)
        return order
    apply(session, order, Action.RETRY, actor, reason=reason)
    for part in failed:
        step(session, order, part, Action.RETRY, actor, silent=True)
        part.last_error = None
    return order


def take_claim(part: Fulfillment, now: datetime) -> str:
    """Stamp `part` (being moved to `submitting`) with a fresh claim; return its token."""
    part.claim_token = uuid.uuid4().hex
    part.claimed_at = now
    return part.claim_token


def confirm_claim(session: Session, fulfillment_id: int, token: str, now: datetime) -> bool:
    """Re-stamp the claim if this worker still holds it (one atomic UPDATE).

    False means another worker (the stuck-fulfillment reconciler) took it over
    meanwhile: this worker must not call the provider for it any more.
    """
    result = session.execute(
        update(Fulfillment)
        .where(
            Fulfillment.id == fulfillment_id,
            Fulfillment.status == FulfillmentStatus.SUBMITTING,
            Fulfillment.claim_token == token,
        )
        .values(claimed_at=now, version=Fulfillment.version + 1)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], result).rowcount == 1


def keep_claims(session: Session, tokens: list[str], now: datetime) -> int:
    """Re-stamp the claims with these tokens (their worker is still on them).

    Bookkeeping only, like a poll stamp: neither the version nor the change time
    moves, so the worker's own write of the answer never conflicts with it, and
    a claim taken over meanwhile (a new token) is not touched.
    """
    result = session.execute(
        update(Fulfillment)
        .where(
            Fulfillment.status == FulfillmentStatus.SUBMITTING,
            Fulfillment.claim_token.in_(tokens),
        )
        .values(claimed_at=now, updated_at=Fulfillment.updated_at)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], result).rowcount


def drop_claim(part: Fulfillment) -> None:
    """The claim's holder is recording the provider's answer: the claim is over."""
    part.claim_token = None
