"""Fulfillments that failed only because the provider could not be reached go
back to the countdown on their own, with growing pauses; after a few tries they wait
for staff (`podops retry`), so an outage delays orders but never strands them
silently, and a real refusal is never retried blindly."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from podops import services
from podops.db import Database
from podops.events import Actor, EventName
from podops.fulfillment_status import FulfillmentStatus
from podops.models import Event, Fulfillment, Order

MAX_AUTOMATIC_ATTEMPTS = 6
LONGEST_PAUSE = timedelta(hours=1)


def pause_after(attempts: int) -> timedelta:
    """2, 4, 8, 16, 32 minutes ... at most an hour."""
    return min(LONGEST_PAUSE, timedelta(minutes=2 ** max(1, attempts)))


def retry_after_outages(db: Database, actor: Actor, now: datetime) -> list[str]:
    """Send again the failed fulfillments whose provider was unreachable. An order is
    retried only when every failed fulfillment of it failed that way (a refusal
    waits for staff, never retried blindly)."""
    retried = []
    with db.unit_of_work() as session:
        failed = session.scalars(
            select(Fulfillment)
            .where(
                Fulfillment.status == FulfillmentStatus.SUBMIT_FAILED,
                Fulfillment.submit_attempts < MAX_AUTOMATIC_ATTEMPTS,
            )
            .options(selectinload(Fulfillment.order).selectinload(Order.store))
        ).all()
        orders = {part.order_id: part.order for part in failed}
        for order in orders.values():
            parts = [p for p in order.parts if p.status == FulfillmentStatus.SUBMIT_FAILED]
            if not parts or not all(_outage_over(session, order, p, now) for p in parts):
                continue
            services.retry_submission(
                session, order, actor, reason="the provider was unreachable; trying again"
            )
            retried.append(order.number)
    return retried


def _outage_over(session: Session, order: Order, part: Fulfillment, now: datetime) -> bool:
    """The fulfillment's last failure was an outage, and its pause is over."""
    last = None
    for event in session.scalars(
        select(Event)
        .where(Event.order_id == order.id, Event.action == EventName.SUBMIT_FAIL)
        .order_by(Event.id.desc())
    ):
        if event.detail.get("fulfillment", order.fulfillments[0].reference) == part.reference:
            last = event
            break
    if last is None or not last.detail.get("retryable"):
        return False
    if part.submit_attempts >= MAX_AUTOMATIC_ATTEMPTS:
        return False
    return now - last.at >= pause_after(part.submit_attempts)
