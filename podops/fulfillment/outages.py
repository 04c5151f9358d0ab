"""Orders that failed only because the provider could not be reached go back
to the countdown on their own, with growing pauses; after a few tries they wait
for staff (`podops retry`), so an outage delays orders but never strands them
silently, and a real refusal is never retried blindly."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from podops import services
from podops.db import Database
from podops.events import Actor, EventName
from podops.models import Event, Order
from podops.status import OrderStatus

MAX_AUTOMATIC_ATTEMPTS = 6
LONGEST_PAUSE = timedelta(hours=1)


def pause_after(attempts: int) -> timedelta:
    """2, 4, 8, 16, 32 minutes ... at most an hour."""
    return min(LONGEST_PAUSE, timedelta(minutes=2 ** max(1, attempts)))


def retry_after_outages(db: Database, actor: Actor, now: datetime) -> list[str]:
    """Put back in the countdown the failed orders whose provider was unreachable."""
    retried = []
    with db.unit_of_work() as session:
        failed = session.scalars(
            select(Order).where(
                Order.status == OrderStatus.SUBMIT_FAILED,
                Order.submit_attempts < MAX_AUTOMATIC_ATTEMPTS,
            )
        ).all()
        for order in failed:
            last = session.scalars(
                select(Event)
                .where(Event.order_id == order.id, Event.action == EventName.SUBMIT_FAIL)
                .order_by(Event.id.desc())
                .limit(1)
            ).first()
            if last is None or not last.detail.get("retryable"):
                continue
            if now - last.at < pause_after(order.submit_attempts):
                continue
            services.retry_submission(
                session, order, actor, reason="the provider was unreachable; trying again"
            )
            retried.append(order.number)
    return retried
