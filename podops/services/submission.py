"""The submission steps the fulfillment worker records around a provider call.

`begin_submit` is persisted *before* the provider is called, so a crash leaves
the order in `submitting` and a restart reconciles by our own reference. The
worker that moved it there holds a claim (a token on the order row): it calls
the provider only while `confirm_claim` finds its token, and a reconciler that
takes a stuck order over gives it a new one (`take_claim`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.orm import Session

from podops.events import Actor
from podops.models import Order, utcnow
from podops.services.order_changes import apply
from podops.status import Action, OrderStatus


def begin_submit(session: Session, order: Order, actor: Actor, *, provider: str) -> Order:
    """Claimed for a provider call; the event keeps the print files this attempt sends
    (`print_files`, by line), so an order found at the provider later can be checked
    against the design it was created with."""
    sent = {item.reference: item.print_file for item in order.items if item.print_file}
    apply(session, order, Action.BEGIN_SUBMIT, actor, provider=provider, print_files=sent or None)
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


def take_claim(order: Order, now: datetime) -> str:
    """Stamp `order` (being moved to `submitting`) with a fresh claim; return its token."""
    order.claim_token = uuid.uuid4().hex
    order.claimed_at = now
    return order.claim_token


def confirm_claim(session: Session, order_id: int, token: str, now: datetime) -> bool:
    """Re-stamp the claim if this worker still holds it (one atomic UPDATE).

    False means another worker (the stuck-order reconciler) took the order over
    meanwhile: this worker must not call the provider for it any more.
    """
    result = session.execute(
        update(Order)
        .where(
            Order.id == order_id,
            Order.status == OrderStatus.SUBMITTING,
            Order.claim_token == token,
        )
        .values(claimed_at=now, version=Order.version + 1)
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
        update(Order)
        .where(Order.status == OrderStatus.SUBMITTING, Order.claim_token.in_(tokens))
        .values(claimed_at=now, updated_at=Order.updated_at)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], result).rowcount


def drop_claim(order: Order) -> None:
    """The claim's holder is recording the provider's answer: the claim is over."""
    order.claim_token = None
