"""What a provider answered about a fulfillment, recorded on it and on its order.

Its answer to a cancellation (done, or refused because production started), a
cancellation it made on its own, a status word podops does not understand, a
failed fulfillment it turned out to have after all (and whether it has the
current design), and when it was last asked. Staff cancel a whole order
(`request_cancel`): each fulfillment's provider is asked, and the order is
cancelled once every one is.
The questions themselves are asked between transactions by
`podops.fulfillment.followup`; only the answers come here.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import update
from sqlalchemy.orm import Session

from podops import events
from podops.errors import IllegalTransition
from podops.events import Actor, EventName
from podops.fulfillment_status import TO_SEND, FulfillmentStatus
from podops.models import Fulfillment, Order, utcnow
from podops.ports.fulfillment import ProviderOrder, ProviderStatus
from podops.refs import OrderRef, in_shell
from podops.services.fulfillments import partly_cancelled, settle, step
from podops.services.order_changes import apply, can_apply, notify
from podops.status import Action, OrderStatus

UNKNOWN_STATUS_PROBLEM = "provider status not understood: "
"""Start of the problem written while the provider's status word is unknown."""


def request_cancel(session: Session, order: Order, actor: Actor, reason: str) -> None:
    """Staff cancel an order at its providers: each fulfillment there (or perhaps
    there: a failed attempt may have created it) is asked at the next poll; one never
    sent is cancelled here. The order is cancelled once every fulfillment is."""
    busy = [p for p in order.parts if p.status == FulfillmentStatus.SUBMITTING]
    if busy:
        raise IllegalTransition(
            f"{busy[0].label} of {order.label} is being sent to {busy[0].provider} right now; "
            "try again in a moment"
        )
    detail = {"fulfillments": {p.reference: p.provider for p in order.parts}}
    many = len(order.fulfillments) > 1
    apply(session, order, Action.REQUEST_CANCEL, actor, reason=reason, **(detail if many else {}))
    asking = (FulfillmentStatus.SUBMITTED, FulfillmentStatus.IN_PRODUCTION)
    for part in [p for p in order.parts if p.status in asking or may_exist(p)]:
        step(session, order, part, Action.REQUEST_CANCEL, actor, silent=True, settle=False)
    for part in [p for p in order.parts if p.status in TO_SEND]:
        step(session, order, part, Action.CANCEL, actor, silent=True, settle=False)
    settle(session, order, actor)


def may_exist(part: Fulfillment) -> bool:
    """A fulfillment a provider may have although no answer said so: an attempt was made."""
    return part.status == FulfillmentStatus.SUBMIT_FAILED and part.submit_attempts > 0


def confirm_cancel(
    session: Session, order: Order, part: Fulfillment, actor: Actor, message: str
) -> Order:
    """The provider cancelled the fulfillment; once every one is, the order is
    cancelled and the store is told (`services.fulfillments.step`)."""
    step(session, order, part, Action.CONFIRM_CANCEL, actor, detail=message)
    return order


def refuse_cancel(
    session: Session, order: Order, part: Fulfillment, actor: Actor, message: str
) -> Order:
    """The provider will not cancel (already in production): say so, keep tracking it."""
    part.last_error = f"cancellation refused by {part.provider}: {message}"
    step(session, order, part, Action.REFUSE_CANCEL, actor, reason=message)
    return order


def record_cancelled_at_provider(
    session: Session, order: Order, part: Fulfillment, remote: ProviderOrder, actor: Actor
) -> None:
    """The provider cancelled a fulfillment without being asked (or before we asked).
    The order's only one: the order is cancelled. One of several: the others go on,
    and staff are told its lines will not be made."""
    message = f"cancelled at {part.provider} ({remote.raw_status or 'cancelled'})"
    if part.status != FulfillmentStatus.CANCEL_REQUESTED:
        alone = [p.id for p in order.parts] == [part.id]
        if alone and can_apply(order, Action.REQUEST_CANCEL):
            apply(session, order, Action.REQUEST_CANCEL, actor, reason=message)
            order.cancel_reason = order.cancel_reason or message
        step(session, order, part, Action.REQUEST_CANCEL, actor, silent=True, settle=False)
    confirm_cancel(session, order, part, actor, message)
    if OrderStatus(order.status) != OrderStatus.CANCELLED:
        partly_cancelled(session, order, actor, "the provider cancelled it on its own")


def record_provider_status(
    session: Session, order: Order, part: Fulfillment, remote: ProviderOrder, actor: Actor
) -> str | None:
    """Keep the provider's own status word; tell staff (once per new word) when podops
    does not understand it, and forget that when the provider is back to a known one.
    Returns the change in words, if staff should hear of it."""
    if not remote.raw_status or remote.raw_status == part.provider_status:
        return None
    part.provider_status = remote.raw_status
    mine = f"{UNKNOWN_STATUS_PROBLEM}{part.provider} says "
    order.problems = [p for p in order.problems if not p.startswith(mine)]
    if remote.status != ProviderStatus.UNRECOGNIZED:
        return None
    which = f" ({part.reference})" if len(order.fulfillments) > 1 else ""
    problem = f"{mine}'{remote.raw_status}'; check the order at {part.provider}{which}"
    order.problems = [*order.problems, problem]
    event = events.record(
        session,
        order,
        actor,
        EventName.PROVIDER_STATUS_UNKNOWN,
        problem=problem,
        status=remote.raw_status,
        fulfillment=part.reference,
    )
    notify(session, order, event)
    return f"unknown provider status {remote.raw_status!r}"


MAX_COST = Decimal("1000000")


def record_provider_cost(part: Fulfillment, remote: ProviderOrder) -> bool:
    """Keep the charge the provider reported for the fulfillment (at submission or in a
    status answer); an answer without one keeps what an earlier answer said. A charge
    that cannot be true (negative, absurd, no ISO currency) is not stored."""
    cost, currency = remote.cost, (remote.cost_currency or "").strip().upper()
    if cost is None or not cost.is_finite() or not Decimal(0) <= cost < MAX_COST:
        return False
    if len(currency) != 3 or not currency.isalpha():
        return False
    cost = cost.quantize(Decimal("0.01"))
    if (part.cost, part.cost_currency) == (cost, currency):
        return False
    part.cost, part.cost_currency = cost, currency
    return True


def record_found_at_provider(
    session: Session, order: Order, part: Fulfillment, found: ProviderOrder, actor: Actor
) -> None:
    """A failed fulfillment being cancelled turned out to exist at the provider after all."""
    part.provider_order_id = found.provider_order_id
    part.provider_status = found.raw_status or part.provider_status
    events.record(
        session,
        order,
        actor,
        EventName.FOUND_AT_PROVIDER,
        provider=part.provider,
        provider_order_id=found.provider_order_id,
        fulfillment=part.reference,
    )


OLD_DESIGN_PROBLEM = "old design at the provider: "
"""Start of the problem written when the provider kept print files staff replaced."""


def record_design_resent(
    session: Session,
    order: Order,
    part: Fulfillment,
    actor: Actor,
    lines: list[str],
    provider_status: str,
) -> None:
    """A fulfillment found at the provider had older print files; the provider took ours."""
    events.design_replaced(
        session,
        order,
        actor,
        provider=part.provider,
        files=[item.print_file or "" for item in order.items if item.reference in lines],
        provider_status=provider_status or None,
    )


def record_old_design_at_provider(
    session: Session, order: Order, part: Fulfillment, actor: Actor, lines: list[str], reason: str
) -> None:
    """A fulfillment found at the provider has print files from before a design change
    and they cannot be replaced there: a problem on the order, an event and a notice."""
    problem = (
        f"{OLD_DESIGN_PROBLEM}{part.provider} has {order.label} with the print files "
        f"sent before the design changed (line {', '.join(lines)}) and will print those: "
        f"{reason}. Cancel it (podops cancel {in_shell(OrderRef.of(order).typed)}) while it "
        "awaits production, or accept the old design"
    )
    order.problems = [*order.problems, problem]
    event = events.record(
        session, order, actor, EventName.PROVIDER_HAS_OLD_DESIGN, problem=problem, lines=lines
    )
    notify(session, order, event)


def stamp_polled(session: Session, fulfillment_id: int, at: datetime | None = None) -> None:
    """Remember when the provider was last asked about the fulfillment. Bookkeeping
    only: a plain UPDATE, so neither its version nor its change time moves."""
    session.execute(
        update(Fulfillment)
        .where(Fulfillment.id == fulfillment_id)
        .values(last_polled_at=at or utcnow(), updated_at=Fulfillment.updated_at)
        .execution_options(synchronize_session=False)
    )
