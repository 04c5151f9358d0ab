"""Claims under slow providers: an order waiting for its provider's concurrency
slot, or in a long call, is never sent twice, and a claim that went stale is
taken over promptly, order by order."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from podops import services
from podops.fulfillment.countdown import Submitter
from podops.fulfillment.limits import LimitedProvider
from podops.status import OrderStatus
from tests.fulfillment.conftest import Shop, build_roster, build_service, fulfillment_settings
from tests.fulfillment.test_races import many_due_orders

STUCK = timedelta(seconds=0.3)


@contextmanager
def reconciler_alongside(other: Submitter) -> Iterator[list[str]]:
    """A second instance whose reconciler runs every 50 ms while the block runs."""
    taken: list[str] = []
    done = threading.Event()

    def loop() -> None:
        while not done.is_set():
            taken.extend(other.reconcile_stuck())
            done.wait(0.05)

    thread = threading.Thread(target=loop)
    thread.start()
    try:
        yield taken
    finally:
        done.set()
        thread.join()


def one_at_a_time(shop: Shop) -> Submitter:
    """A worker whose CustomCat takes one call at a time (concurrency 1)."""
    roster = build_roster(shop.settings)
    limited = roster.by_name["cc"]
    assert isinstance(limited, LimitedProvider)
    roster.by_name["cc"] = LimitedProvider(limited.inner, per_second=100, concurrency=1)
    return build_service(shop.settings, shop.db, roster, workers=8, stuck_after=STUCK)


def statuses(shop: Shop, numbers: list[str]) -> set[str]:
    with shop.db.unit_of_work() as session:
        return {services.get_order(session, n).status for n in numbers}


def test_an_order_queued_for_a_concurrency_slot_past_the_stuck_threshold_is_sent_once(
    shop: Shop,
) -> None:
    """Eight orders confirm their claims at once and queue for the single slot; the
    last ones wait longer than the stuck threshold, and a second instance's
    reconciler takes them over. The first worker must check its claim once its turn
    has come, not before the wait: otherwise both send them."""
    shop.customcat.reject_duplicates = False  # a double submission shows as two orders
    shop.customcat.submit_latency_s = 0.12
    numbers = many_due_orders(shop, 12)
    worker = one_at_a_time(shop)
    other = build_service(shop.settings, shop.db, stuck_after=STUCK)
    with reconciler_alongside(other) as taken:
        report = worker.tick()
    taken.extend(other.reconcile_stuck(older_than=timedelta(0)))
    assert taken, "no order waited long enough for the reconciler to step in"
    assert report.handed_over
    assert shop.customcat.duplicates() == 0, shop.customcat.created
    assert sum(shop.customcat.created.values()) == 12
    assert statuses(shop, numbers) == {OrderStatus.SUBMITTED}


def test_a_stale_claim_is_taken_over_at_once_while_a_long_call_in_its_batch_keeps_its_own(
    shop: Shop, tmp_path: Path
) -> None:
    """One worker claims a batch of four; the first order's call takes the
    stuck threshold tenfold. The three orders queued behind it go stale on their own clocks
    and a second instance takes each over (and places it) while that call is still
    running; the order in the long call is never taken: its worker keeps its claim
    alive. Without that, the reconciler would look it up (not there yet) and send it
    a second time."""
    shop.customcat.reject_duplicates = False
    shop.customcat.submit_latency_s = 0.05
    numbers = many_due_orders(shop, 4)
    refs = [f"main-{n}" for n in numbers]
    shop.customcat.slow_refs[refs[0]] = 10 * STUCK.total_seconds()  # room under a busy CI
    patient = fulfillment_settings(
        shop.db.url, tmp_path, shop.customcat.base_url, shop.shineon.url, timeout_s=5.0
    )
    worker = build_service(patient, shop.db, workers=1, stuck_after=STUCK)
    other = build_service(patient, shop.db, stuck_after=STUCK)
    with reconciler_alongside(other) as taken:
        report = worker.tick()
    assert refs[0] not in taken, "the order in a long call was taken from a live worker"
    assert sorted(taken) == sorted(refs[1:])
    assert sorted(report.handed_over) == sorted(numbers[1:])
    assert report.submitted == [numbers[0]]
    # Placed by the second instance while the long call was still under way.
    assert sorted(list(shop.customcat.created)[:3]) == sorted(refs[1:])
    assert shop.customcat.duplicates() == 0, shop.customcat.created
    assert statuses(shop, numbers) == {OrderStatus.SUBMITTED}
