"""Several hosts, one shop: a web and two worker processes with no shared disk, one
PostgreSQL database and one bucket, the sandbox store sending orders to a provider
with a rate limit; the worker sending orders is killed (SIGKILL) halfway.

What a shop would notice, and what is asserted: every print-file link given to the
provider, and every line's link on the web role (which rendered nothing itself),
downloads the bytes the line records; the provider never saw more than its limit in
any second; no order reached the provider twice; and every order ready to go ended
at the provider exactly once, the killed worker's included.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.conftest import PG_URL
from tests.multihost import Cluster, ClusterPlan

pytestmark = [
    pytest.mark.slow,  # three `podops run` processes and a stale claim to wait out: minutes
    pytest.mark.skipif(
        not PG_URL,
        reason="needs PostgreSQL (set PODOPS_TEST_DATABASE_URL): several hosts share one "
        "PostgreSQL database; SQLite is one host only",
    ),
]

PLAN = ClusterPlan(backfill_s=360.0, every_s=20.0, poll_minutes=60.0, rate_per_s=2.0)
"""About eleven orders waiting at start (some with two lines), one pass of the store:
enough that a few are ready to go after the kill, whatever the slots hold."""
KILL_AFTER = 2
"""Orders the provider has created when the worker sending them is killed."""


def _kill_the_sender(cluster: Cluster, timeout_s: float = 150) -> str:
    """SIGKILL the worker running the countdown once the provider has a few orders."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        cluster.check_alive()
        holder = cluster.countdown_holder()
        if holder is not None and len(cluster.provider.created) >= KILL_AFTER:
            cluster.kill(holder)
            return holder
        time.sleep(0.05)
    raise AssertionError(
        f"no worker was sending orders after {timeout_s} s; "
        f"provider has {len(cluster.provider.created)}:\n{cluster.log_of('worker-1')[-2000:]}"
    )


def test_three_processes_on_two_hosts_lose_nothing_and_keep_to_the_limit(
    db_url: str, tmp_path: Path
) -> None:
    # given one web and two workers, each in its own folder, on one database and bucket
    with Cluster(tmp_path, db_url, PLAN) as cluster:
        cluster.start_all()

        # when the worker sending the orders is killed after the provider has a few
        killed = _kill_the_sender(cluster)
        sent_before_kill = len(cluster.provider.created)
        claimed_when_killed = cluster.claimed()

        # and the other one is left to take over its stale claims and the rest
        left = cluster.wait_settled(timeout_s=240)
        outcome = cluster.outcome()

    # then nothing was lost: every order ready to go reached the provider exactly once
    print(
        f"killed {killed} after {sent_before_kill} orders, {claimed_when_killed} claimed; "
        f"{outcome.submitted} of "
        f"{outcome.orders} sent, {outcome.waiting_for_staff} waiting for staff; "
        f"{outcome.links_checked} links; peak {outcome.peak_per_window}/s "
        f"(allowed {outcome.allowed_per_window})"
    )
    assert claimed_when_killed > 0  # it died holding orders it had not sent yet
    assert left == []
    assert outcome.lost == []
    assert outcome.duplicates == 0
    assert outcome.submitted > sent_before_kill  # the survivor sent the rest
    # and every link, from the worker that rendered it or the web role, gives the file
    assert outcome.links_broken == []
    assert outcome.links_checked >= 2 * outcome.submitted
    # and the provider never saw more than its limit, summed over the processes
    assert outcome.peak_per_window <= outcome.allowed_per_window
