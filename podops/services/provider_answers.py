"""What a provider answered about a submitted order, recorded on the order.

Its answer to a cancellation (done, or refused because production started), a
cancellation it made on its own, a status word podops does not understand, a
failed order it turned out to have after all (and whether it has the current
design), and when it was last asked.
The questions themselves are asked between transactions by
`podops.fulfillment.followup`; only the answers come here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from podops import events
from podops.events import Actor, EventName
from podops.models import Order, utcnow
from podops.outbox import enqueue
from podops.outbox.messages import store_status_message
from podops.ports.fulfillment import ProviderOrder, ProviderStatus
from podops.services.order_changes import apply, notify
from podops.status import Action, OrderStatus

UNKNOWN_STATUS_PROBLEM = "provider status not understood: "
"""Start of the problem written while the provider's status word is unknown."""


def confirm_cancel(session: Session, order: Order, actor: Actor, message: str) -> Order:
    """The provider cancelled it: the order is cancelled, and the store is told."""
    apply(session, order, Action.CONFIRM_CANCEL, actor, provider=order.provider, detail=message)
    reason = order.cancel_reason or message
    enqueue(session, store_status_message(order.id, "cancelled", reason=reason))
    return order


def refuse_cancel(session: Session, order: Order, actor: Actor, message: str) -> Order:
    """The provider will not cancel (already in production): say so, keep tracking it."""
    apply(session, order, Action.REFUSE_CANCEL, actor, provider=order.provider, reason=message)
    order.last_error = f"cancellation refused by {order.provider}: {message}"
    return order


def record_cancelled_at_provider(
    session: Session, order: Order, remote: ProviderOrder, actor: Actor
) -> None:
    """The provider cancelled the order without being asked (or before we asked)."""
    message = f"cancelled at {order.provider} ({remote.raw_status or 'cancelled'})"
    if OrderStatus(order.status) != OrderStatus.CANCEL_REQUESTED:
        apply(session, order, Action.REQUEST_CANCEL, actor, reason=message)
        order.cancel_reason = order.cancel_reason or message
    confirm_cancel(session, order, actor, message)


def record_provider_status(
    session: Session, order: Order, remote: ProviderOrder, actor: Actor
) -> str | None:
    """Keep the provider's own status word; tell staff (once per new word) when podops
    does not understand it, and forget that when the provider is back to a known one.
    Returns the change in words, if staff should hear of it."""
    if not remote.raw_status or remote.raw_status == order.provider_status:
        return None
    order.provider_status = remote.raw_status
    order.problems = [p for p in order.problems if not p.startswith(UNKNOWN_STATUS_PROBLEM)]
    if remote.status != ProviderStatus.UNRECOGNIZED:
        return None
    problem = (
        f"{UNKNOWN_STATUS_PROBLEM}{order.provider} says '{remote.raw_status}'; "
        f"check the order at {order.provider}"
    )
    order.problems = [*order.problems, problem]
    event = events.record(
        session,
        order,
        actor,
        EventName.PROVIDER_STATUS_UNKNOWN,
        problem=problem,
        status=remote.raw_status,
    )
    notify(session, order, event)
    return f"unknown provider status {remote.raw_status!r}"


def record_found_at_provider(
    session: Session, order: Order, found: ProviderOrder, actor: Actor
) -> None:
    """A failed order being cancelled turned out to exist at the provider after all."""
    order.provider_order_id = found.provider_order_id
    order.provider_status = found.raw_status or order.provider_status
    events.record(
        session,
        order,
        actor,
        EventName.FOUND_AT_PROVIDER,
        provider=order.provider,
        provider_order_id=found.provider_order_id,
    )


OLD_DESIGN_PROBLEM = "old design at the provider: "
"""Start of the problem written when the provider kept print files staff replaced."""


def record_design_resent(
    session: Session, order: Order, actor: Actor, lines: list[str], provider_status: str
) -> None:
    """An order found at the provider had older print files; the provider took ours."""
    events.design_replaced(
        session,
        order,
        actor,
        provider=str(order.provider),
        files=[item.print_file or "" for item in order.items if item.reference in lines],
        provider_status=provider_status or None,
    )


def record_old_design_at_provider(
    session: Session, order: Order, actor: Actor, lines: list[str], reason: str
) -> None:
    """An order found at the provider has print files from before a design change and
    they cannot be replaced there: a problem on the order, an event and a notice."""
    problem = (
        f"{OLD_DESIGN_PROBLEM}{order.provider} has {order.label} with the print files "
        f"sent before the design changed (line {', '.join(lines)}) and will print those: "
        f"{reason}. Cancel it (podops cancel {order.number}) while it awaits production, "
        "or accept the old design"
    )
    order.problems = [*order.problems, problem]
    event = events.record(
        session, order, actor, EventName.PROVIDER_HAS_OLD_DESIGN, problem=problem, lines=lines
    )
    notify(session, order, event)


def stamp_polled(session: Session, order_id: int, at: datetime | None = None) -> None:
    """Remember when the provider was last asked about the order. Bookkeeping only:
    a plain UPDATE, so neither the order's version nor its change time moves."""
    session.execute(
        update(Order)
        .where(Order.id == order_id)
        .values(last_polled_at=at or utcnow(), updated_at=Order.updated_at)
        .execution_options(synchronize_session=False)
    )
