"""Several hosts, one shop: a web and two worker processes with no shared disk, one
PostgreSQL database and one bucket, the sandbox store sending orders to a provider
with a rate limit. Both workers run the countdown (each claims disjoint orders), and
one of them is killed (SIGKILL) in the middle of a call, the provider having created
the order it never hears about.

What a shop would notice, and what is asserted: both workers sent orders; every
print-file link given to the provider, and every line's link on the web role (which
rendered nothing itself), downloads the bytes the line records; the provider never
saw more than its limit in any second, whichever process called; no order reached
the provider twice; and every order ready to go ended at the provider exactly once,
the killed worker's included (the other one looked it up and took it over).
"""

from __future__ import annotations

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
"""Orders the provider has created (some by each worker) when a worker is killed."""


def test_three_processes_on_two_hosts_lose_nothing_and_keep_to_the_limit(
    db_url: str, tmp_path: Path
) -> None:
    # given one web and two workers, each in its own folder, on one database and bucket
    with Cluster(tmp_path, db_url, PLAN) as cluster:
        cluster.start_all()

        # when both workers send orders, and one dies in a call the provider answered
        killed, sent_before_kill = cluster.kill_while_sending(after=KILL_AFTER)
        claimed_when_killed = cluster.claimed()

        # and the other one is left to take over its stale claims and the rest
        left = cluster.wait_settled(timeout_s=240)
        outcome = cluster.outcome()
        survivor = next(name for name in cluster.provider.sent_by if name != killed)
        took_over = cluster.log_of(survivor).count("(was left submitting)")

    # then nothing was lost: every order ready to go reached the provider exactly once
    print(
        f"killed {killed} after {sent_before_kill} orders, {claimed_when_killed} claimed, "
        f"{took_over} taken over; sent by {outcome.sent_by}; {outcome.submitted} of "
        f"{outcome.orders} sent, {outcome.waiting_for_staff} waiting for staff; "
        f"{outcome.links_checked} links; peak {outcome.peak_per_window}/s "
        f"(allowed {outcome.allowed_per_window})"
    )
    assert claimed_when_killed > 0  # it died holding at least the order in its call
    assert left == []
    assert outcome.lost == []
    assert outcome.duplicates == 0
    assert took_over > 0  # the survivor looked the dead worker's claims up
    assert outcome.submitted > sent_before_kill  # the survivor sent the rest
    # and both workers sent orders to the provider
    assert all(outcome.sent_by.values()), outcome.sent_by
    assert sum(outcome.sent_by.values()) == outcome.submitted
    # and every link, from the worker that rendered it or the web role, gives the file
    assert outcome.links_broken == []
    assert outcome.links_checked >= 2 * outcome.submitted
    # and the provider never saw more than its limit, summed over the processes
    assert outcome.peak_per_window <= outcome.allowed_per_window
