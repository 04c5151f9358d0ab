"""The transactional outbox: side effects written with the change that causes
them, delivered after commit, retried with back-off, never lost.

Delivery is at least once; each message carries a `dedup_key` that handlers
use to make a second delivery harmless (a store note already there, a Slack
message already posted). `attempts` is counted when a message is claimed, in
the claim's own commit, so a handler that sees `attempts > 1` knows an earlier
attempt may have reached the outside system, even one whose worker died before
recording the outcome (reconcile by our own reference before acting again).
A message that keeps failing permanently is parked ("dead") with its reason so
`podops status` and Slack can show it.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from podops.db import Database
from podops.errors import OutsideServiceError
from podops.models import OutboxMessage, utcnow

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
MAX_BACKOFF = timedelta(minutes=30)
MAX_ATTEMPTS = 50


class Topic:
    STORE_STATUS = "store.status"
    STORE_TRACKING = "store.tracking"
    NOTIFY = "notify"


def enqueue(
    session: Session,
    topic: str,
    dedup_key: str,
    payload: dict[str, Any],
    *,
    order_id: int | None = None,
) -> OutboxMessage | None:
    """Schedule a side effect in the caller's transaction; a repeated key is a no-op."""
    existing = session.scalar(select(OutboxMessage).where(OutboxMessage.dedup_key == dedup_key))
    if existing is not None:
        return None
    message = OutboxMessage(topic=topic, dedup_key=dedup_key, payload=payload, order_id=order_id)
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:
        return None
    return message


class Handler(Protocol):
    def __call__(self, message: OutboxMessage) -> None:
        """Deliver one message; raise OutsideServiceError(retryable=...) on failure."""


@dataclass(slots=True)
class DrainReport:
    delivered: int = 0
    retried: int = 0
    dead: int = 0


def backoff(attempts: int) -> timedelta:
    base = min(MAX_BACKOFF.total_seconds(), 2.0 ** min(attempts, 20))
    return timedelta(seconds=base * random.uniform(0.5, 1.0))


class OutboxDispatcher:
    """Claims due messages, hands each to the handler for its topic, records the outcome."""

    def __init__(
        self,
        db: Database,
        handlers: dict[str, Handler],
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.handlers = handlers
        self.clock = clock

    def claim(self, limit: int, topics: list[str] | None = None) -> list[int]:
        now = self.clock()
        topics = topics or list(self.handlers)
        with self.db.unit_of_work() as session:
            query = (
                select(OutboxMessage.id)
                .where(
                    OutboxMessage.delivered_at.is_(None),
                    OutboxMessage.dead_at.is_(None),
                    OutboxMessage.next_attempt_at <= now,
                    OutboxMessage.topic.in_(topics),
                )
                .order_by(OutboxMessage.id)
                .limit(limit)
            )
            if self.db.dialect == "postgresql":
                query = query.with_for_update(skip_locked=True)
            ids = list(session.scalars(query))
            if ids:
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(ids))
                    .values(next_attempt_at=now + LEASE, attempts=OutboxMessage.attempts + 1)
                )
        return ids

    def drain(self, limit: int = 200, topics: list[str] | None = None) -> DrainReport:
        report = DrainReport()
        blocked_orders: set[int] = set()
        for message_id in self.claim(limit, topics):
            with self.db.unit_of_work() as session:
                message = session.get(OutboxMessage, message_id)
                if message is None or message.delivered_at is not None:
                    continue
                if message.order_id is not None and message.order_id in blocked_orders:
                    # Keep one order's messages in order: wait for the earlier one.
                    message.next_attempt_at = self.clock()
                    message.attempts -= 1  # claimed, but not attempted
                    continue
                outcome = self._deliver(message)
                if outcome == "delivered":
                    report.delivered += 1
                else:
                    if message.order_id is not None:
                        blocked_orders.add(message.order_id)
                    if outcome == "dead":
                        report.dead += 1
                    else:
                        report.retried += 1
        return report

    def _deliver(self, message: OutboxMessage) -> str:
        handler = self.handlers[message.topic]
        try:
            handler(message)
        except OutsideServiceError as exc:
            message.last_error = exc.message
            if exc.retryable and message.attempts < MAX_ATTEMPTS:
                message.next_attempt_at = self.clock() + backoff(message.attempts)
                log.warning("outbox %s #%s will retry: %s", message.topic, message.id, exc.message)
                return "retry"
            message.dead_at = self.clock()
            log.error("outbox %s #%s gave up: %s", message.topic, message.id, exc.message)
            return "dead"
        except Exception as exc:  # a bug in a handler must not stop the queue
            message.last_error = f"{type(exc).__name__}: {exc}"
            message.next_attempt_at = self.clock() + backoff(message.attempts)
            log.exception("outbox %s #%s failed unexpectedly", message.topic, message.id)
            return "retry"
        message.delivered_at = self.clock()
        message.last_error = None
        return "delivered"


def backlog(session: Session) -> dict[str, int]:
    """Undelivered messages per topic, and parked ones under `dead`."""
    rows = session.execute(
        select(OutboxMessage.topic, func.count())
        .where(OutboxMessage.delivered_at.is_(None), OutboxMessage.dead_at.is_(None))
        .group_by(OutboxMessage.topic)
    ).all()
    result = {topic: count for topic, count in rows}
    dead = session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.dead_at.is_not(None))
    )
    result["dead"] = int(dead or 0)
    return result


def parked(session: Session, limit: int = 100) -> list[OutboxMessage]:
    """Messages that gave up (a store down for a day, a refusal), newest first."""
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.dead_at.is_not(None))
        .order_by(OutboxMessage.dead_at.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def requeue(
    session: Session, *, ids: list[int] | None = None, topic: str | None = None
) -> list[OutboxMessage]:
    """Give parked messages a fresh start (after the store or Slack is fixed)."""
    query = select(OutboxMessage).where(OutboxMessage.dead_at.is_not(None))
    if ids:
        query = query.where(OutboxMessage.id.in_(ids))
    if topic:
        query = query.where(OutboxMessage.topic == topic)
    messages = list(session.scalars(query))
    now = utcnow()
    for message in messages:
        message.dead_at = None
        # Not 0: the next try must still ask Slack/the store whether an earlier one landed.
        message.attempts = 1
        message.next_attempt_at = now
    return messages
