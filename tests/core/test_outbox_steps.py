"""The drain's three steps: nothing of the database is held while a handler
sends; a claimed message is not taken by another worker before its lease runs
out, and a worker whose lease ran out records nothing; progress is committed
step by step, so a retry resumes instead of repeating what was done."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from podops.db import Database
from podops.errors import StoreError
from podops.models import OutboxMessage, utcnow
from podops.outbox import LEASE, Envelope, OutboxDispatcher, Outgoing, Progress, Topic, enqueue
from podops.outbox.dispatch import Outcome


class Steps:
    """A handler whose send makes `steps` outside calls, saving progress after each,
    and fails at the step named in `fail_at` (once)."""

    def __init__(self, db: Database, steps: int = 3) -> None:
        self.db = db
        self.steps = steps
        self.fail_at: int | None = None
        self.calls: list[int] = []
        self.connections_held: list[int] = []
        self.recorded: list[int] = []
        self.meanwhile: Callable[[], object] = lambda: None  # while a call is in flight

    def prepare(self, session: Session, message: Envelope) -> int:
        return int(message.payload.get("done", 0))

    def send(self, plan: int, progress: Progress) -> int:
        for step in range(plan, self.steps):
            self.connections_held.append(self.db.engine.pool.checkedout())  # type: ignore[attr-defined]
            if step == self.fail_at:
                self.fail_at = None
                raise StoreError(f"step {step}: the shop is not answering (503)", retryable=True)
            self.calls.append(step)
            self.meanwhile()
            progress.save(done=step + 1)
        return self.steps

    def record(self, session: Session, plan: int, result: int) -> None:
        self.recorded.append(result)


def one_message(db: Database) -> None:
    with db.unit_of_work() as session:
        enqueue(session, Outgoing(Topic.STORE_STATUS, "store.status:1:completed", {}))


def stored(db: Database) -> OutboxMessage:
    with db.unit_of_work() as session:
        message = session.scalars(select(OutboxMessage)).one()
        session.expunge(message)
        return message


def test_a_handler_sends_with_no_connection_held(db: Database) -> None:
    handler = Steps(db)
    one_message(db)
    assert OutboxDispatcher(db, {Topic.STORE_STATUS: handler}).drain().delivered == 1
    assert handler.connections_held == [0, 0, 0]
    assert handler.recorded == [3]


def test_progress_is_kept_so_a_retry_resumes_where_the_failure_stopped(db: Database) -> None:
    handler = Steps(db)
    handler.fail_at = 1
    one_message(db)
    assert OutboxDispatcher(db, {Topic.STORE_STATUS: handler}).drain().retried == 1
    assert stored(db).payload == {"done": 1} and "503" in str(stored(db).last_error)

    later = OutboxDispatcher(db, {Topic.STORE_STATUS: handler}, clock=lambda: utcnow() + LEASE)
    assert later.drain().delivered == 1
    assert handler.calls == [0, 1, 2], "step 0 was not made again"


def test_a_claimed_message_waits_for_its_lease_and_a_late_worker_records_nothing(
    db: Database,
) -> None:
    first, second = Steps(db), Steps(db)
    one_message(db)
    slow_worker = OutboxDispatcher(db, {Topic.STORE_STATUS: first})
    (claim,) = slow_worker.claim(10)
    after_the_lease = utcnow() + LEASE + timedelta(seconds=1)
    other = OutboxDispatcher(db, {Topic.STORE_STATUS: second}, clock=lambda: after_the_lease)
    taken = []

    def others_try() -> None:
        assert OutboxDispatcher(db, {Topic.STORE_STATUS: second}).claim(10) == []
        taken.extend(other.claim(10))  # the first call outlived the lease

    first.meanwhile = others_try
    attempt = slow_worker.send(claim)  # its first step's progress is refused: not its claim
    assert attempt is None and first.calls == [0]
    assert taken[0].attempts == claim.attempts + 1
    assert other.record(other.send(taken[0])) == Outcome.DELIVERED  # type: ignore[arg-type]
    assert (first.recorded, second.recorded) == ([], [3])
    assert stored(db).delivered_at is not None


def test_an_outcome_is_not_recorded_by_a_worker_whose_lease_ran_out(db: Database) -> None:
    first, second = Steps(db, steps=0), Steps(db, steps=0)
    one_message(db)
    slow_worker = OutboxDispatcher(db, {Topic.STORE_STATUS: first})
    (claim,) = slow_worker.claim(10)
    attempt = slow_worker.send(claim)
    after_the_lease = utcnow() + LEASE + timedelta(seconds=1)
    other = OutboxDispatcher(db, {Topic.STORE_STATUS: second}, clock=lambda: after_the_lease)
    (taken,) = other.claim(10)

    assert attempt is not None and slow_worker.record(attempt) == Outcome.LOST
    assert stored(db).delivered_at is None and first.recorded == []
    assert other.record(other.send(taken)) == Outcome.DELIVERED  # type: ignore[arg-type]
    assert second.recorded == [0]
