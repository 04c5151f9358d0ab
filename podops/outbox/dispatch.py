"""Delivering the outbox: no outside call is made while a transaction is open.

A drain claims due messages (one short transaction), then takes each one
through its topic's `Handler` in three steps:

1. prepare: read what sending needs, in a short transaction, into a plain value;
2. send: the calls to the store or Slack, with no session at all;
3. record: a short transaction stores the outcome (delivered, retry with
   back-off, parked) together with the handler's bookkeeping.

On SQLite every transaction holds the write lock from BEGIN, so a call made
inside one would stall every webhook, Slack command and sheet cycle for as long
as the outside system takes to answer.

Delivery is at least once; handlers make a second delivery harmless through the
message's `dedup_key` (a post found by its key, a tracking number the shop
already has). `attempts` is counted in the claim's own commit, so a handler
that sees `attempts > 1` knows an earlier attempt may have reached the outside
system, even one whose worker died before recording the outcome. The claimed
`attempts` is also the claim's token: the lease is renewed when the message is
prepared and with every step of progress, and nothing is recorded by a worker
whose claim expired and was taken by another. A message that keeps failing is
parked ("dead") with its reason for `podops status`, Slack and the CLI.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from podops.db import Database
from podops.errors import OutsideServiceError
from podops.models import OutboxMessage, utcnow

log = logging.getLogger("podops.outbox")

LEASE = timedelta(minutes=2)
MAX_BACKOFF = timedelta(minutes=30)
MAX_ATTEMPTS = 50

PlanT = TypeVar("PlanT")
ResultT = TypeVar("ResultT")


@dataclass(frozen=True, slots=True)
class Claim:
    """A message this worker took: its id and the attempt number it was given."""

    id: int
    attempts: int


@dataclass(frozen=True, slots=True)
class Envelope:
    """A claimed message as plain values: what a handler reads while sending."""

    id: int
    topic: str
    dedup_key: str
    payload: dict[str, Any]
    order_id: int | None
    created_at: datetime
    attempts: int

    @classmethod
    def of(cls, message: OutboxMessage) -> Envelope:
        return cls(
            message.id,
            message.topic,
            message.dedup_key,
            dict(message.payload),
            message.order_id,
            message.created_at,
            message.attempts,
        )

    @property
    def claim(self) -> Claim:
        return Claim(self.id, self.attempts)


Change = Callable[[Session], None]
"""Bookkeeping to store in a short transaction of its own."""


class Progress(Protocol):
    """What a handler keeps between the steps of a send, so a retry (or a worker
    after a crash) resumes where it stopped instead of repeating the done part."""

    def save(self, **payload: Any) -> None:
        """Merge `payload` into the message's payload, committed at once."""
        ...

    def store(self, change: Change) -> None:
        """Run `change` (say, remember an alert's new ref) and commit it at once."""
        ...


class Handler(Protocol[PlanT, ResultT]):
    """Delivers the messages of one topic, in three steps."""

    def prepare(self, session: Session, message: Envelope) -> PlanT | None:
        """Read what sending needs, in a short transaction; None: nothing to send."""
        ...

    def send(self, plan: PlanT, progress: Progress) -> ResultT:
        """Make the outside calls; no transaction is open. Raise
        OutsideServiceError(retryable=...) on failure."""
        ...

    def record(self, session: Session, plan: PlanT, result: ResultT) -> None:
        """Store what the send achieved, in the transaction that marks it delivered."""
        ...


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    DEAD = "dead"
    LOST = "lost"  # our claim expired and another worker took the message


@dataclass(slots=True)
class Attempt:
    """One claimed message after the first two steps: what is left to record."""

    message: Envelope
    plan: Any = None
    result: Any = None
    error: Exception | None = None
    done: bool = False  # nothing to send; recorded as delivered when prepared


@dataclass(slots=True)
class DrainReport:
    delivered: int = 0
    retried: int = 0
    dead: int = 0

    def count(self, outcome: Outcome) -> None:
        if outcome == Outcome.DELIVERED:
            self.delivered += 1
        elif outcome == Outcome.RETRY:
            self.retried += 1
        elif outcome == Outcome.DEAD:
            self.dead += 1


class Deferred(OutsideServiceError):
    """A message that must wait for another (e.g. "completed" for its tracking): it
    is retried with back-off like an outage, but waiting never parks it."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=True)


class ClaimLost(Exception):
    """The message's claim expired and another worker took it: stop sending it."""


def backoff(attempts: int) -> timedelta:
    base = min(MAX_BACKOFF.total_seconds(), 2.0 ** min(attempts, 20))
    return timedelta(seconds=base * random.uniform(0.5, 1.0))


class OutboxDispatcher:
    """Claims due messages and takes each through its topic's handler."""

    def __init__(
        self,
        db: Database,
        handlers: Mapping[str, Handler[Any, Any]],
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.handlers = handlers
        self.clock = clock

    def claim(self, limit: int, topics: Sequence[str] | None = None) -> list[Claim]:
        """Take up to `limit` due messages for `LEASE`, counting the attempt."""
        now = self.clock()
        query = (
            select(OutboxMessage.id, OutboxMessage.attempts)
            .where(
                OutboxMessage.delivered_at.is_(None),
                OutboxMessage.dead_at.is_(None),
                OutboxMessage.next_attempt_at <= now,
                OutboxMessage.topic.in_(topics or list(self.handlers)),
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        if self.db.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        with self.db.unit_of_work() as session:
            claims = [Claim(row.id, row.attempts + 1) for row in session.execute(query)]
            if claims:
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_([claim.id for claim in claims]))
                    .values(next_attempt_at=now + LEASE, attempts=OutboxMessage.attempts + 1)
                )
        return claims

    def drain(self, limit: int = 200, topics: Sequence[str] | None = None) -> DrainReport:
        report = DrainReport()
        waiting: set[int] = set()  # orders whose earlier message did not go: keep their order
        for claim in self.claim(limit, topics):
            attempt = self.send(claim, waiting)
            if attempt is None:
                continue
            outcome = self.record(attempt)
            report.count(outcome)
            order_id = attempt.message.order_id
            if outcome in (Outcome.RETRY, Outcome.DEAD) and order_id is not None:
                waiting.add(order_id)
        return report

    def send(self, claim: Claim, waiting: Collection[int] = ()) -> Attempt | None:
        """Steps 1 and 2: prepare in a short transaction, then the outside calls with
        none open. None: the claim is no longer ours, or the message waits behind an
        earlier one of its order."""
        with self.db.unit_of_work() as session:
            attempt = self._prepare(session, claim, waiting)
        if attempt is None or attempt.done or attempt.error is not None:
            return attempt
        handler = self.handlers[attempt.message.topic]
        try:
            attempt.result = handler.send(attempt.plan, _Journal(self, attempt.message.claim))
        except ClaimLost:
            self._lost(attempt.message)
            return None
        except Exception as exc:  # recorded in step 3: a retry, or parked
            attempt.error = exc
        return attempt

    def record(self, attempt: Attempt) -> Outcome:
        """Step 3: the outcome and the handler's bookkeeping, in one short transaction."""
        if attempt.done:
            return Outcome.DELIVERED
        with self.db.unit_of_work() as session:
            message = self.mine(session, attempt.message.claim)
            if message is None:
                self._lost(attempt.message)
                return Outcome.LOST
            if attempt.error is None:
                try:
                    with session.begin_nested():
                        self.handlers[message.topic].record(session, attempt.plan, attempt.result)
                except Exception as exc:  # a bug, or the order changed at that moment
                    attempt.error = exc
            if attempt.error is not None:
                return self._failed(message, attempt.error)
            message.delivered_at = self.clock()
            message.last_error = None
            return Outcome.DELIVERED

    def mine(self, session: Session, claim: Claim) -> OutboxMessage | None:
        """The message, locked for this transaction, if `claim` still holds it."""
        locking = self.db.dialect == "postgresql"
        message = session.get(OutboxMessage, claim.id, with_for_update=locking)
        if message is None or message.delivered_at is not None or message.dead_at is not None:
            return None
        return message if message.attempts == claim.attempts else None

    def renew(self, message: OutboxMessage) -> None:
        message.next_attempt_at = self.clock() + LEASE

    def _prepare(self, session: Session, claim: Claim, waiting: Collection[int]) -> Attempt | None:
        message = self.mine(session, claim)
        if message is None:
            return None
        if message.order_id is not None and message.order_id in waiting:
            message.next_attempt_at = self.clock()
            message.attempts -= 1  # claimed, but not attempted
            return None
        self.renew(message)  # the lease runs from this send, not from the batch's claim
        envelope = Envelope.of(message)
        try:
            with session.begin_nested():
                plan = self.handlers[message.topic].prepare(session, envelope)
        except Exception as exc:  # recorded in step 3 like a failed send
            return Attempt(envelope, error=exc)
        if plan is None:
            message.delivered_at = self.clock()
            message.last_error = None
            return Attempt(envelope, done=True)
        return Attempt(envelope, plan)

    def _failed(self, message: OutboxMessage, exc: Exception) -> Outcome:
        if not isinstance(exc, OutsideServiceError):  # a bug must not stop the queue
            message.last_error = f"{type(exc).__name__}: {exc}"
            message.next_attempt_at = self.clock() + backoff(message.attempts)
            log.error("outbox %s #%s failed unexpectedly", message.topic, message.id, exc_info=exc)
            return Outcome.RETRY
        message.last_error = exc.message
        if isinstance(exc, Deferred):
            message.attempts = min(message.attempts, MAX_ATTEMPTS - 1)
        if exc.retryable and message.attempts < MAX_ATTEMPTS:
            message.next_attempt_at = self.clock() + backoff(message.attempts)
            log.warning("outbox %s #%s will retry: %s", message.topic, message.id, exc.message)
            return Outcome.RETRY
        message.dead_at = self.clock()
        log.error("outbox %s #%s gave up: %s", message.topic, message.id, exc.message)
        return Outcome.DEAD

    def _lost(self, message: Envelope) -> None:
        log.warning(
            "outbox %s #%s: the claim expired while sending; the worker that took it goes on",
            message.topic,
            message.id,
        )


class _Journal:
    """`Progress` for one claim: each step in a short transaction that also renews
    the lease, refused (ClaimLost) once another worker holds the message."""

    def __init__(self, dispatcher: OutboxDispatcher, claim: Claim) -> None:
        self.dispatcher = dispatcher
        self.claim = claim

    def save(self, **payload: Any) -> None:
        def merge(message: OutboxMessage) -> None:
            message.payload = {**message.payload, **payload}

        self._commit(lambda _session, message: merge(message))

    def store(self, change: Change) -> None:
        self._commit(lambda session, _message: change(session))

    def _commit(self, step: Callable[[Session, OutboxMessage], None]) -> None:
        with self.dispatcher.db.unit_of_work() as session:
            message = self.dispatcher.mine(session, self.claim)
            if message is None:
                raise ClaimLost(f"outbox message #{self.claim.id}")
            step(session, message)
            self.dispatcher.renew(message)
