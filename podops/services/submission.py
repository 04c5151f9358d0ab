"""The submission steps the fulfillment worker records around a provider call.

`begin_submit` is persisted *before* the provider is called, so a crash leaves
the order in `submitting` and a restart reconciles by our own reference.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from podops.events import Actor
from podops.models import Order, utcnow
from podops.services.order_changes import apply
from podops.status import Action


def begin_submit(session: Session, order: Order, actor: Actor, *, provider: str) -> Order:
    apply(session, order, Action.BEGIN_SUBMIT, actor, provider=provider)
    order.provider = provider
    order.submit_attempts += 1
    order.last_error = None
    return order


def mark_submitted(
    session: Session,
    order: Order,
    actor: Actor,
    *,
    provider_order_id: str,
    provider_status: str | None = None,
) -> Order:
    apply(
        session,
        order,
        Action.SUBMIT_OK,
        actor,
        provider=order.provider,
        provider_order_id=provider_order_id,
    )
    order.provider_order_id = provider_order_id
    order.provider_status = provider_status
    order.submitted_at = utcnow()
    return order


def mark_submit_failed(
    session: Session, order: Order, actor: Actor, *, reason: str, retryable: bool = False
) -> Order:
    """`retryable`: the provider was unreachable, so the countdown retries on its own."""
    apply(
        session,
        order,
        Action.SUBMIT_FAIL,
        actor,
        reason=reason,
        provider=order.provider,
        retryable=retryable or None,
    )
    order.last_error = reason
    return order


def retry_submission(
    session: Session, order: Order, actor: Actor, *, reason: str | None = None
) -> Order:
    """Put a failed order back in the countdown (staff fixed the cause, or the
    provider is reachable again)."""
    apply(session, order, Action.RETRY, actor, reason=reason)
    order.last_error = None
    return order
