"""Limits every podops process on the database shares: a rate per key (a provider,
a Slack channel, the sheet's read or write quota), a pause after a 429 that every
process honours, and a provider's concurrency slots.

Adapters hold a `Pace` bound to their key and call `acquire()` before each
request (and `pause(seconds)` when the outside system answered 429); the
composition root picks the backend with `limits_for(db)`:

- `LocalLimits` (SQLite, one host; tests): in memory, per process, as podops
  always paced.
- `SharedLimits` (PostgreSQL): the same arithmetic (GCRA: a bucket is a
  "theoretical arrival time", each caller reserves the next turn) done by one
  atomic `INSERT ... ON CONFLICT DO UPDATE ... RETURNING` per request in
  `limit_buckets`, on the database's clock, so hosts whose clocks differ share
  one pace. Concurrency slots are leased rows in `limit_slots` naming the
  holder's presence connection: a crashed holder's slots are free as soon as its
  connection is gone, and in any case when their lease expires.

The database is asked on its own small AUTOCOMMIT pool with a short statement
timeout: one round trip, no BEGIN/COMMIT, no pre-ping. When it cannot answer in
time the call is not made (`Throttled`, which every adapter turns into its own
retryable error): pacing blind could exceed the limit summed over processes, and
waiting on a slow database would hold a worker; the work waits for its usual retry.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)

DEFAULT_MAX_WAIT_S = 30.0
"""A turn further away than this is not waited for: the caller backs off instead."""
STATEMENT_TIMEOUT_MS = 500
"""How long the shared limiter may take before the call is refused (not made)."""
SLOT_LEASE_S = 120.0
"""A concurrency slot whose holder died is free again after this long."""
SLOT_POLL_S = (0.02, 0.5)
"""First and longest pause between looks for a free slot."""


ARRIVAL_MARGIN = 0.98
"""Turns are given at 98% of the rate: a call delayed after its turn (a thread not
scheduled, a slow connect) arrives together with the next one's, and a provider
counting a sliding minute would otherwise see one request over its limit (the
CustomCat bench saw 121 in a minute at 120 a minute before the margin, 118 after)."""


@dataclass(frozen=True, slots=True)
class Rate:
    """`per_second` turns a second (given at ARRIVAL_MARGIN of it), after at most
    `burst` at once."""

    per_second: float
    burst: int = 1

    def __post_init__(self) -> None:
        if self.per_second <= 0:
            raise ValueError("a rate limit must be positive")
        if self.burst < 1:
            raise ValueError("a burst is at least one call")

    @property
    def interval(self) -> float:
        return 1.0 / (self.per_second * ARRIVAL_MARGIN)

    @property
    def tolerance(self) -> float:
        return (self.burst - 1) * self.interval


class Throttled(Exception):
    """No turn within the caller's patience (a 429's pause, a long queue), or the
    shared limiter could not be asked: the call was not made."""

    def __init__(self, key: str, wait_s: float, why: str = "") -> None:
        self.key = key
        self.wait_s = wait_s
        reason = why or f"next turn in {wait_s:.1f} s"
        super().__init__(f"{key} is paced for every podops process ({reason})")


class Limits(Protocol):
    """The backend: reserve a turn, pause a key, lease a concurrency slot."""

    def reserve(self, key: str, rate: Rate, max_wait: float) -> float:
        """Take the next turn; seconds until it comes. Throttled if beyond max_wait."""
        ...

    def pause(self, key: str, seconds: float) -> None:
        """Nothing on `key` for `seconds`, in every process."""
        ...

    def take_slot(self, key: str, size: int) -> str:
        """Wait for one of `size` slots; a ticket to give back."""
        ...

    def give_back(self, key: str, ticket: str) -> None: ...

    def close(self) -> None:
        """Let go of the backend's connections (at shutdown)."""
        ...


class Pacer(Protocol):
    """What an adapter calls: one turn per request, a pause after a 429."""

    def acquire(self) -> None: ...

    def pause(self, seconds: float) -> None: ...


class Pace:
    """A key and its rate, bound to a backend: `acquire()` before each request."""

    def __init__(
        self,
        limits: Limits,
        key: str,
        rate: Rate,
        *,
        max_wait: float = DEFAULT_MAX_WAIT_S,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limits = limits
        self.key = key
        self.rate = rate
        self.max_wait = max_wait
        self._sleep = sleep

    def acquire(self) -> None:
        wait = self.limits.reserve(self.key, self.rate, self.max_wait)
        if wait > 0:
            self._sleep(wait)

    def pause(self, seconds: float) -> None:
        """Never raises: a pause the database could not record still leaves the
        caller's own error (and its retry) in place."""
        if seconds <= 0:
            return
        try:
            self.limits.pause(self.key, seconds)
        except Throttled:
            log.warning("pause of %s not recorded: the database did not answer", self.key)


@contextmanager
def slot(limits: Limits, key: str, size: int) -> Iterator[None]:
    """Hold one of `size` concurrency slots of `key` for the block."""
    ticket = limits.take_slot(key, size)
    try:
        yield
    finally:
        limits.give_back(key, ticket)


# -- one process ----------------------------------------------------------------------


@dataclass(slots=True)
class _Bucket:
    tat: float = 0.0
    blocked_until: float = 0.0


@dataclass(slots=True)
class _Slots:
    size: int
    semaphore: threading.BoundedSemaphore = field(init=False)

    def __post_init__(self) -> None:
        self.semaphore = threading.BoundedSemaphore(self.size)


class LocalLimits:
    """Limits of this process alone (SQLite, one host): the arithmetic SharedLimits
    runs in SQL, under a lock."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._slots: dict[str, _Slots] = {}
        self._lock = threading.Lock()

    def reserve(self, key: str, rate: Rate, max_wait: float) -> float:
        with self._lock:
            now = self._clock()
            bucket = self._buckets.setdefault(key, _Bucket(tat=now))
            start = max(now, bucket.tat - rate.tolerance, bucket.blocked_until)
            if start - now > max_wait:
                raise Throttled(key, start - now)
            bucket.tat = max(bucket.tat, now, bucket.blocked_until) + rate.interval
            return start - now

    def pause(self, key: str, seconds: float) -> None:
        with self._lock:
            bucket = self._buckets.setdefault(key, _Bucket())
            bucket.blocked_until = max(bucket.blocked_until, self._clock() + seconds)

    def take_slot(self, key: str, size: int) -> str:
        with self._lock:
            slots = self._slots.get(key)
            if slots is None or slots.size != size:
                slots = self._slots[key] = _Slots(size)
        slots.semaphore.acquire()
        return str(id(slots))

    def give_back(self, key: str, ticket: str) -> None:
        slots = self._slots.get(key)
        if slots is not None and str(id(slots)) == ticket:
            slots.semaphore.release()

    def close(self) -> None:
        return None


# -- every process on PostgreSQL ---------------------------------------------------------

_NOW = "(SELECT extract(epoch FROM clock_timestamp())::float8 AS now) AS c"
RESERVE = text(
    "INSERT INTO limit_buckets AS b (key, tat, blocked_until, start, updated_at) "
    f"SELECT :key, c.now + :interval, 0, c.now, c.now FROM {_NOW} "
    "ON CONFLICT (key) DO UPDATE SET "
    "start = GREATEST(EXCLUDED.updated_at, b.tat - :tolerance, b.blocked_until), "
    "tat = CASE WHEN GREATEST(b.tat - :tolerance, b.blocked_until) "
    "<= EXCLUDED.updated_at + :max_wait "
    "THEN GREATEST(b.tat, b.blocked_until, EXCLUDED.updated_at) + :interval ELSE b.tat END, "
    "updated_at = EXCLUDED.updated_at "
    "RETURNING b.start, b.updated_at"
)
"""One round trip: the turn (start) and the database's now; the bucket moves only
when the turn is within max_wait (the same condition the caller checks)."""
PAUSE = text(
    "INSERT INTO limit_buckets AS b (key, tat, blocked_until, start, updated_at) "
    f"SELECT :key, 0, c.now + :seconds, c.now, c.now FROM {_NOW} "
    "ON CONFLICT (key) DO UPDATE SET "
    "blocked_until = GREATEST(b.blocked_until, EXCLUDED.blocked_until)"
)
PRESENCE = text("SELECT pg_backend_pid()")
"""The backend of the connection a process keeps open while it may hold slots: its
slots name it, so when the process dies (its connection with it) they are free at
once, not when their lease ends."""
TAKE_SLOT = text(
    "UPDATE limit_slots AS s SET holder = :holder, expires_at = c.now + :lease "
    f"FROM {_NOW} WHERE s.key = :key AND s.slot = ("
    "SELECT f.slot FROM limit_slots AS f WHERE f.key = :key AND f.slot < :size "
    "AND (f.expires_at < extract(epoch FROM clock_timestamp())::float8 "
    "OR NOT EXISTS (SELECT 1 FROM pg_stat_activity AS a "
    "WHERE 'pg' || a.pid::text = split_part(f.holder, ':', 1))) "
    "ORDER BY f.slot LIMIT 1 FOR UPDATE SKIP LOCKED) "
    "RETURNING s.slot"
)
SEED_SLOTS = text(
    "INSERT INTO limit_slots (key, slot, holder, expires_at) "
    "SELECT :key, g, '', 0 FROM generate_series(0, :size - 1) AS g "
    "ON CONFLICT DO NOTHING"
)
GIVE_BACK = text(
    "UPDATE limit_slots SET holder = '', expires_at = 0 "
    "WHERE key = :key AND slot = :slot AND holder = :holder"
)


def limiter_engine(url: str, *, timeout_ms: int = STATEMENT_TIMEOUT_MS) -> Engine:
    """A small AUTOCOMMIT pool for the limiter: each statement is one round trip."""
    engine = create_engine(
        url,
        isolation_level="AUTOCOMMIT",
        pool_size=2,
        max_overflow=8,
        pool_timeout=timeout_ms / 1000,
        pool_reset_on_return=None,
        connect_args={"connect_timeout": max(1, timeout_ms // 1000 + 1)},
    )

    def _timeouts(dbapi_connection: Any, _record: Any) -> None:
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {int(timeout_ms)}")
            cursor.execute(f"SET lock_timeout = {int(timeout_ms)}")
        dbapi_connection.autocommit = autocommit

    event.listen(engine, "connect", _timeouts)
    return engine


class SharedLimits:
    """Limits every process on one PostgreSQL database shares (see the module doc)."""

    def __init__(
        self,
        engine: Engine,
        *,
        lease_s: float = SLOT_LEASE_S,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.engine = engine
        self.lease_s = lease_s
        self._sleep = sleep
        self._seeded: set[tuple[str, int]] = set()
        self._holder = f"{socket.gethostname()}:{os.getpid()}"
        self._presence: Connection | None = None
        self._presence_lock = threading.Lock()

    def _present_as(self) -> str:
        """`pg<backend pid>` of this process's presence connection (opened once, kept
        open): the first part of every slot holder, read by TAKE_SLOT."""
        with self._presence_lock:
            if self._presence is None or self._presence.closed:
                try:
                    self._presence = self.engine.connect()
                    pid = self._presence.execute(PRESENCE).scalar_one()
                except SQLAlchemyError as exc:
                    self._presence = None
                    raise Throttled("limits", 1.0, "the database did not answer") from exc
                self._presence_pid = f"pg{pid}"
            return self._presence_pid

    def _run(self, key: str, statement: Any, **params: Any) -> Any:
        try:
            with self.engine.connect() as connection:
                result = connection.execute(statement, {"key": key, **params})
                return result.first() if result.returns_rows else None
        except SQLAlchemyError as exc:
            log.warning("shared limiter did not answer for %s: %s", key, type(exc).__name__)
            raise Throttled(key, 1.0, "the database did not answer in time") from exc

    def reserve(self, key: str, rate: Rate, max_wait: float) -> float:
        row = self._run(
            key,
            RESERVE,
            interval=rate.interval,
            tolerance=rate.tolerance,
            max_wait=max_wait,
        )
        wait = max(0.0, float(row[0]) - float(row[1]))
        if wait > max_wait:
            raise Throttled(key, wait)
        return wait

    def pause(self, key: str, seconds: float) -> None:
        self._run(key, PAUSE, seconds=seconds)

    def take_slot(self, key: str, size: int) -> str:
        holder = f"{self._present_as()}:{self._holder}:{uuid.uuid4().hex[:8]}"
        pause = SLOT_POLL_S[0]
        while True:
            row = self._run(key, TAKE_SLOT, holder=holder, size=size, lease=self.lease_s)
            if row is not None:
                return f"{row[0]}/{holder}"
            if (key, size) not in self._seeded:
                self._run(key, SEED_SLOTS, size=size)
                self._seeded.add((key, size))
                continue
            self._sleep(pause)
            pause = min(SLOT_POLL_S[1], pause * 2)

    def give_back(self, key: str, ticket: str) -> None:
        number, _, holder = ticket.partition("/")
        try:
            self._run(key, GIVE_BACK, slot=int(number), holder=holder)
        except Throttled:
            log.warning("slot %s of %s comes back when its lease ends", number, key)

    def close(self) -> None:
        with self._presence_lock:
            if self._presence is not None:
                self._presence.close()
                self._presence = None
        self.engine.dispose()


def limits_for(db_url: str, dialect: str) -> Limits:
    """Shared on PostgreSQL; per process on SQLite (one host, as before)."""
    if dialect == "postgresql":
        return SharedLimits(limiter_engine(db_url))
    return LocalLimits()
