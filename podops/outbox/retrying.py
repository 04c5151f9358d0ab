"""Messages that keep failing while they are still retried, for the people who can
fix the cause (an order held by another Shopify app, a store refusing a push).

The outbox retries a failing message for about 20 hours before parking it; until
then it used to be a count only. A message is *retrying* once it has failed and
either failed `ATTEMPTS` times or waited `WAITING` since it was written: with the
back-off (2, 4, 8 s...) three failures take under a minute, so a refusal that
needs a person shows within a minute, and a message deferred behind another (a
"completed" waiting for its tracking) shows once it has waited half an hour.
`podops status`, the daily summary and a one-off Slack warning read this list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, String, and_, cast, exists, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from podops.logs import mask_secrets
from podops.models import Order, OutboxMessage
from podops.outbox.queue import Topic

ATTEMPTS = 3
WAITING = timedelta(minutes=30)
SHOWN = 10  # listed by `podops status`; the rest are counted ("and N more")
MAX_ERROR_CHARS = 300
WARNING_PREFIX = f"{Topic.RETRYING}:"  # + the message id: its Slack warning, once
STORE_TOPICS = (Topic.STORE_STATUS, Topic.STORE_TRACKING, Topic.STORE_RETURN)  # one drain

KINDS: dict[str, str] = {
    Topic.STORE_TRACKING: "tracking",
    Topic.STORE_STATUS: "status",
    Topic.STORE_RETURN: "return",
    Topic.PROVIDER_ADDRESS: "provider address",
    Topic.NOTIFY: "Slack notice",
    Topic.ALERT: "Slack alert",
    Topic.PREVIEW: "Slack preview",
    Topic.SUMMARY: "Slack summary",
    Topic.WEEKLY: "Slack weekly report",
    Topic.DIGEST: "Slack digest",
}


@dataclass(frozen=True, slots=True)
class Retrying:
    """One message still retried after failing: what staff need to act on it."""

    id: int
    order: str  # the order's number; empty for a message about no order
    kind: str  # "tracking", "status (completed)", "Slack notice"...
    attempts: int
    since: datetime  # written (waiting since)
    error: str  # the last error, secrets masked

    @property
    def reference(self) -> str:
        """`1001 (tracking)`: short enough for a summary line."""
        return f"{self.order} ({self.kind})" if self.order else self.kind


def warning_key(message_id: int) -> str:
    return f"{WARNING_PREFIX}{message_id}"


def kind_of(message: OutboxMessage) -> str:
    kind = KINDS.get(message.topic, message.topic)
    status = message.payload.get("status")
    return f"{kind} ({status})" if message.topic == Topic.STORE_STATUS and status else kind


def _query(now: datetime) -> Select[OutboxMessage, str]:
    return (
        select(OutboxMessage, Order.number)
        .outerjoin(Order, Order.id == OutboxMessage.order_id)
        .where(
            OutboxMessage.delivered_at.is_(None),
            OutboxMessage.dead_at.is_(None),
            OutboxMessage.last_error.is_not(None),
            OutboxMessage.topic != Topic.RETRYING.value,  # a warning about a warning: no
            or_(OutboxMessage.attempts >= ATTEMPTS, OutboxMessage.created_at <= now - WAITING),
        )
    )


def _item(message: OutboxMessage, number: str | None) -> Retrying:
    error = mask_secrets(message.last_error or "")[:MAX_ERROR_CHARS]
    return Retrying(
        message.id, number or "", kind_of(message), message.attempts, message.created_at, error
    )


def retrying(session: Session, now: datetime, limit: int = SHOWN) -> tuple[list[Retrying], int]:
    """The first `limit` retrying messages (oldest first), and how many there are."""
    query = _query(now)
    found = session.execute(query.order_by(OutboxMessage.id).limit(limit)).all()
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    return [_item(message, number) for message, number in found], int(total or 0)


def not_yet_warned(session: Session, now: datetime, limit: int) -> list[Retrying]:
    """Retrying messages that have no Slack warning yet (oldest first), but for those
    waiting behind an earlier message of their order (a "completed" behind its
    tracking, in the same drain): the earlier one is the cause, warned about itself."""
    warning, earlier = aliased(OutboxMessage), aliased(OutboxMessage)
    key = literal(WARNING_PREFIX) + cast(OutboxMessage.id, String)
    store = [topic.value for topic in STORE_TOPICS]
    behind = exists().where(
        earlier.order_id == OutboxMessage.order_id,
        earlier.id < OutboxMessage.id,
        earlier.delivered_at.is_(None),
        earlier.dead_at.is_(None),
        earlier.last_error.is_not(None),
        or_(
            earlier.topic == OutboxMessage.topic,
            and_(earlier.topic.in_(store), OutboxMessage.topic.in_(store)),
        ),
    )
    query = _query(now).where(~exists().where(warning.dedup_key == key), ~behind)
    found = session.execute(query.order_by(OutboxMessage.id).limit(limit)).all()
    return [_item(message, number) for message, number in found]


def still_retrying(session: Session, ids: list[int]) -> list[Retrying]:
    """Of `ids`, the messages neither delivered nor parked yet."""
    query = (
        select(OutboxMessage, Order.number)
        .outerjoin(Order, Order.id == OutboxMessage.order_id)
        .where(
            OutboxMessage.id.in_(ids),
            OutboxMessage.delivered_at.is_(None),
            OutboxMessage.dead_at.is_(None),
        )
        .order_by(OutboxMessage.id)
    )
    return [_item(message, number) for message, number in session.execute(query)]
