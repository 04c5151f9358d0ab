"""Writing side effects into the outbox, and what staff see of it.

A change schedules its side effects in its own transaction (`enqueue`), so they
leave only if the change is committed, and leave even if the process dies right
after. The topics are one enum; each kind of message is built by one factory in
`podops.outbox.messages`. Messages that gave up are listed (`parked`) and sent
again on request (`requeue`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from podops.models import OutboxMessage, utcnow


class Topic(StrEnum):
    """What a message asks for; stored by value in `outbox.topic`."""

    STORE_STATUS = "store.status"
    STORE_TRACKING = "store.tracking"
    STORE_RETURN = "store.return"  # goods came back: told where the shop takes it
    NOTIFY = "notify"  # an order event, threaded under the order's alert
    ALERT = "slack.alert"  # the countdown alert (Slack or the console)
    PREVIEW = "slack.preview"  # re-rendered previews after an edit
    SUMMARY = "slack.summary"  # the daily summary and its chart
    WEEKLY = "slack.weekly"  # the weekly report and its charts
    DIGEST = "notify.digest"  # many orders in the same situation, listed in one post
    PROVIDER_ADDRESS = "provider.address"  # a shop's new address for an order a provider has
    RETRYING = "notify.retrying"  # a warning: messages that keep failing (outbox.retrying)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One side effect to schedule; `dedup_key` makes scheduling it twice a no-op."""

    topic: Topic
    dedup_key: str
    payload: dict[str, Any]
    order_id: int | None = None

    def row(self) -> dict[str, Any]:
        """The columns of its outbox row (for bulk inserts)."""
        return {
            "topic": self.topic.value,
            "dedup_key": self.dedup_key,
            "payload": self.payload,
            "order_id": self.order_id,
        }


def enqueue(session: Session, message: Outgoing) -> OutboxMessage | None:
    """Schedule a side effect in the caller's transaction; a repeated key is a no-op."""
    existing = session.scalar(
        select(OutboxMessage).where(OutboxMessage.dedup_key == message.dedup_key)
    )
    if existing is not None:
        return None
    row = OutboxMessage(**message.row())
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return row


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
