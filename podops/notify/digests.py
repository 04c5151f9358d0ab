"""Many orders in the same situation make one message that lists them, not one
each: a first sync that holds 246 orders, a burst of alerts or of the same
problem within one drain. Slack and the console both get the digest.

Two ways in, both through the outbox (so effectively once, like every notice):
- receiving queues one digest per batch of orders held at a store's first sync
  (`held_at_first_sync`), in the batch's own transaction;
- before each drain `fold_bursts` looks at the notices not yet tried (attempt 0,
  so none can have reached the chat): when at least `BURST` of one kind wait
  (new countdown alerts; the same problem on orders without an alert), it marks
  them delivered as folded and queues one digest instead, in one transaction.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from podops import reports
from podops.db import Database
from podops.events import EventName
from podops.models import Event, Order, OutboxMessage, utcnow
from podops.outbox import Topic, enqueue
from podops.outbox.messages import digest_message
from podops.ports.notify import Digest, NamedOrder
from podops.status import OrderStatus

BURST = 10  # this many notices of one kind in one drain become one digest
LISTED = 20  # orders named in a digest; the rest are counted ("and N more")
HELD = "held_at_first_sync"
ALERTS = "alerts"
PROBLEM = "problem:"  # + the event name


def title(kind: str, count: int) -> str:
    """What happened to `count` orders, and what to do about it."""
    if kind == HELD:
        return (
            f"{count} order(s) placed before podops watched the store are on hold, so none "
            "is made twice: release the ones podops should send (/order release NUMBER)."
        )
    if kind == ALERTS:
        return f"{count} orders are due for submission soon (/order show NUMBER for buttons)."
    event = kind.removeprefix(PROBLEM).replace("_", " ")
    return f"{count} orders need a person: {event} (/order show NUMBER for details)."


def held_at_first_sync(session: Session, order_ids: list[int]) -> None:
    """Queue the digest of orders a first sync held (one per received batch)."""
    if order_ids:
        enqueue(session, digest_message(HELD, order_ids, str(min(order_ids))))


def _candidates(session: Session, now: datetime) -> dict[str, list[OutboxMessage]]:
    """Untried notices that would each be one post in the channel, by kind; on
    PostgreSQL locked (a worker claiming one meanwhile is skipped, never doubled)."""
    due = (
        select(OutboxMessage, Order.alert_ref, Event.action)
        .join(Order, Order.id == OutboxMessage.order_id)
        .outerjoin(Event, Event.id == OutboxMessage.payload["event_id"].as_integer())
        .where(
            OutboxMessage.topic.in_([Topic.ALERT.value, Topic.NOTIFY.value]),
            OutboxMessage.delivered_at.is_(None),
            OutboxMessage.dead_at.is_(None),
            OutboxMessage.attempts == 0,
            OutboxMessage.next_attempt_at <= now,
        )
        .order_by(OutboxMessage.id)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True, of=OutboxMessage)
    kinds: dict[str, list[OutboxMessage]] = defaultdict(list)
    for message, alert_ref, action in session.execute(due):
        if alert_ref:
            continue  # threaded under its own alert: not channel noise
        if message.topic == Topic.ALERT.value:
            kinds[ALERTS].append(message)
        elif action is not None and EventName(action) in reports.PROBLEM_ACTIONS:
            kinds[PROBLEM + action].append(message)
    return kinds


def fold_bursts(db: Database, now: datetime | None = None) -> int:
    """Replace each burst of one kind by one digest; the number of digests queued."""
    now = now or utcnow()
    queued = 0
    with db.unit_of_work() as session:
        for kind, messages in _candidates(session, now).items():
            if len(messages) < BURST:
                continue
            order_ids = list(dict.fromkeys(int(m.order_id or 0) for m in messages))
            digest = digest_message(kind, order_ids, str(messages[0].id))
            for message in messages:
                message.delivered_at = now
                message.last_error = f"told in {digest.dedup_key}"
            queued += enqueue(session, digest) is not None
    return queued


def _named(order: Order, now: datetime) -> NamedOrder:
    age = max(0, int((now - order.placed_at).total_seconds() // 86400))
    note = order.last_error or "; ".join(map(str, order.problems)) or ""
    return NamedOrder(order.number, order.customer_name, OrderStatus(order.status).label, age, note)


def digest_of(session: Session, payload: dict[str, object]) -> Digest | None:
    """The digest a queued message asks for, read now (None: its orders are gone)."""
    ids = [int(str(i)) for i in payload["order_ids"]]  # type: ignore[attr-defined]
    query = select(Order).where(Order.id.in_(ids[:LISTED]))
    found = {order.id: order for order in session.scalars(query)}
    if not found:
        return None
    now = utcnow()
    named = [_named(found[i], now) for i in ids[:LISTED] if i in found]
    return Digest(title(str(payload["kind"]), len(ids)), named, len(ids) - len(named))
