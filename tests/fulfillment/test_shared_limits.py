"""A provider's limit holds for every podops process on one PostgreSQL database.

Three OS processes call one fake provider at once. With the shared limiter the
provider never sees more than its limit in any window; with each process's own
limiter (what SQLite keeps, one host) it sees three times as much, which is what
the test would catch if the shared one were replaced. A 429 one process meets
keeps the others away until its Retry-After.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from bisect import bisect_right
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event

from podops.shared_limits import Rate, SharedLimits, Throttled, limiter_engine
from tests.conftest import PG_URL
from tests.fakes.customcat import FakeCustomCat, Fault

pytestmark = pytest.mark.skipif(
    not PG_URL,
    reason="limits are shared only on PostgreSQL (set PODOPS_TEST_DATABASE_URL); on SQLite "
    "(one host) each process paces itself, as before",
)

ROOT = Path(__file__).resolve().parents[2]
Worker = subprocess.Popen[str]
RATE = 5.0
"""The provider's limit, requests a second, summed over every process."""
WINDOW_S = 1.0
ALLOWED = int(RATE * WINDOW_S) + 1
"""What any one-second window may hold: the rate, plus one turn for network jitter
(a request sent on time may arrive just after one sent late)."""


@pytest.fixture
def provider() -> Iterator[FakeCustomCat]:
    fake = FakeCustomCat()
    fake.start()
    yield fake
    fake.stop()


def start_workers(db_url: str, url: str, mode: str, calls: list[int]) -> list[Worker]:
    """Worker processes, each built and waiting for `go` (imports take seconds here)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "tests.fulfillment.limits_worker", db_url, url, mode]
    workers = [
        subprocess.Popen(
            [*command, str(RATE), str(count)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for count in calls
    ]
    for worker in workers:
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "ready", worker.stderr
    return workers


def go(worker: Worker) -> None:
    assert worker.stdin is not None
    worker.stdin.write("go\n")
    worker.stdin.flush()


def result(worker: Worker) -> dict[str, int]:
    out, err = worker.communicate(timeout=120)
    assert worker.returncode == 0, err
    outcome: dict[str, int] = json.loads(out.strip().splitlines()[-1])
    return outcome


def peak(times: list[float], window: float) -> int:
    """The most requests any window of `window` seconds, (t - window, t], held."""
    ordered = sorted(times)
    counts = (i - bisect_right(ordered, t - window) + 1 for i, t in enumerate(ordered))
    return max(counts, default=0)


@pytest.mark.parametrize("mode", ["shared", "local"])
def test_three_processes_keep_to_one_limit_together(
    db_url: str, provider: FakeCustomCat, mode: str
) -> None:
    # given three workers, each making 15 calls against a provider allowing 5 a second
    workers = start_workers(db_url, provider.base_url, mode, [15, 15, 15])

    # when they run at once
    for worker in workers:
        go(worker)
    outcomes = [result(worker) for worker in workers]

    # then with the shared limiter the provider saw at most its limit in any second
    seen = peak(provider.request_times, WINDOW_S)
    assert sum(o["made"] for o in outcomes) == 45
    print(f"{mode}: peak {seen} requests in {WINDOW_S:.0f} s, limit {RATE:.0f}")
    if mode == "shared":
        assert seen <= ALLOWED
    else:  # each process's own limiter: three times the limit, what the shared one prevents
        assert seen > 2 * RATE


@pytest.mark.parametrize("mode", ["shared", "local"])
def test_a_429_in_one_process_pauses_the_others(
    db_url: str, provider: FakeCustomCat, mode: str
) -> None:
    # given the provider answers the first request 429, Retry-After 3 s
    provider.lookup_faults.append(Fault(status=429, retry_after="3"))

    # when one worker meets it, and then two more start calling
    first, *others = start_workers(db_url, provider.base_url, mode, [1, 4, 4])
    go(first)
    outcomes = [result(first)]
    for worker in others:
        go(worker)
    outcomes += [result(worker) for worker in others]

    # then nobody called the provider until the Retry-After was over
    refused, *after = sorted(provider.request_times)
    gap = after[0] - refused
    print(f"{mode}: next request {gap:.2f} s after the 429 (Retry-After 3 s)")
    assert outcomes[0] == {"made": 0, "busy": 1}
    if mode == "shared":
        assert gap >= 3.0 - 0.05
        assert sum(o["made"] for o in outcomes[1:]) == 8  # they waited, then went on
    else:  # each process's own limiter: the others call at once, and would meet 429s
        assert gap < 2.0


def test_one_round_trip_per_turn_and_refusal_when_the_database_is_slow(db_url: str) -> None:
    # given the shared limiter, counting what it sends to the database
    engine = limiter_engine(db_url)
    limits = SharedLimits(engine)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    # when it hands out ten turns
    for _ in range(10):
        limits.reserve("provider:one", Rate(1000.0), 30.0)

    # then each turn was one statement (no BEGIN, COMMIT or ping around it)
    assert len(statements) == 10

    # and when the database holds the bucket longer than the limiter waits, the call is
    # refused at once (not made, retried later) instead of hanging or going unpaced
    with engine.connect() as blocker:
        blocker.exec_driver_sql("BEGIN")
        blocker.exec_driver_sql("SELECT 1 FROM limit_buckets WHERE key = 'provider:one' FOR UPDATE")
        started = time.monotonic()
        with pytest.raises(Throttled, match="did not answer in time"):
            limits.reserve("provider:one", Rate(1000.0), 30.0)
        assert time.monotonic() - started < 2.0
        blocker.exec_driver_sql("ROLLBACK")
    limits.close()


def test_a_dead_processs_slot_is_free_at_once_not_after_its_lease(db_url: str) -> None:
    """A worker killed inside a provider call never gives its slot back; its presence
    connection dies with it, and the slot is taken again at once (waiting out the
    two-minute lease held a recovering worker up past its deadline)."""
    dead = SharedLimits(limiter_engine(db_url))
    alive = SharedLimits(limiter_engine(db_url), sleep=lambda _: None)
    dead.take_slot("provider:solo", 1)  # held, never given back
    alive._sleep = _refuse_to_wait
    with pytest.raises(RuntimeError, match="would wait"):
        alive.take_slot("provider:solo", 1)  # the holder is alive: the slot is busy
    dead.close()  # the process is gone, and its connections with it
    # PostgreSQL ends the closed connection's backend a moment later (it may still be
    # listed for a few milliseconds, more on a busy machine): the limiter's own short
    # pauses may pass, the lease's two minutes may not.
    alive._sleep = time.sleep
    started = time.monotonic()
    ticket = alive.take_slot("provider:solo", 1)
    assert time.monotonic() - started < 2.0
    alive.give_back("provider:solo", ticket)
    alive.close()


def _refuse_to_wait(_seconds: float) -> None:
    raise RuntimeError("would wait for the slot")
