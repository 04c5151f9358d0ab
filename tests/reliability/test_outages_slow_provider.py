"""A slow provider: orders wait for its one concurrency slot longer than the stuck
threshold, and another podops instance takes the stale ones over. Each order
must still exist once at the provider, which here accepts a repeated reference
(as ShineOn does), so only podops' claim token can keep a taken-over order from
being sent a second time by the worker that claimed it first.

The two instances run in the test process (the stuck threshold is shortened
to seconds, which the worker process cannot be told); the providers, the shop
and the database are the same real fakes and database as in the other scenarios.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from podops.db import Database
from podops.fulfillment.countdown import Submitter, TickReport
from podops.models import Fulfillment
from podops.runtime.root import Runtime
from tests.fakes.customcat import FakeCustomCat
from tests.fakes.woocommerce import FakeWooCommerce
from tests.reliability.conftest import Deployment, Outcome, wait_until
from tests.reliability.gates import is_request
from tests.reliability.scenario import give_print_files, statuses, submitted_at_provider, take_in

pytestmark = pytest.mark.slow  # a worker process for intake, seconds of waiting

ORDERS = 12
WORKERS = 8  # threads of the first instance: 8 orders in its hands, 4 queued behind them
STUCK = timedelta(seconds=3)
"""The shortened stuck threshold (60 s in the service); claims held by a live
worker are re-stamped four times per threshold."""


def instance(deployment: Deployment) -> tuple[Runtime, Submitter]:
    """One podops instance's submission service, with the shortened threshold."""
    runtime = Runtime(deployment.settings())
    return runtime, Submitter(runtime.db, runtime.roster, workers=WORKERS, stuck_after=STUCK)


def claim_tokens(db: Database) -> dict[int, str | None]:
    with db.unit_of_work() as session:
        rows = session.execute(select(Fulfillment.id, Fulfillment.claim_token)).all()
        return {int(key): token for key, token in rows}


def moved(before: dict[int, str | None], now: dict[int, str | None]) -> int:
    """Claims taken over since `before` (their token changed, committed)."""
    return sum(1 for key, token in before.items() if token and now.get(key) != token)


def take_over(other: Submitter, taken: list[str]) -> list[str]:
    """One pass of the second instance's reconciler; every reference it took so far."""
    taken.extend(other.reconcile_stuck())
    return taken


def test_claims_waiting_for_a_slow_providers_slot_are_taken_over_and_sent_once(
    deployment: Deployment,
    shop: FakeWooCommerce,
    customcat: FakeCustomCat,
    db: Database,
    record: list[Outcome],
) -> None:
    row = Outcome(
        "CustomCat slow (one call at a time, the first one held) while a second "
        "instance takes over the claims that waited past the stuck threshold "
        "(a repeated reference is accepted)",
        "outage",
        "every order exists once at the provider; the first worker sends none of "
        "the orders taken from it",
        faults=1,
        orders=ORDERS,
    )
    record.append(row)
    customcat.reject_duplicates = False  # a double submission shows as two orders
    deployment.shop_url, deployment.cc_url = shop.url, customcat.base_url
    deployment.cc_concurrency, deployment.cc_timeout_s = 1, 60.0
    take_in(deployment, shop, ORDERS)
    give_print_files(db)
    gate = customcat.gate  # type: ignore[attr-defined]
    gate.arm(is_request("POST", "/api/v1/order/"), "slow")  # the first order's call waits
    first_runtime, first = instance(deployment)
    other_runtime, other = instance(deployment)
    reports: list[TickReport] = []
    ticking = threading.Thread(target=lambda: reports.append(first.tick()))
    taken: list[str] = []
    # The second instance takes over beside the test, which releases the held call once
    # four claims have moved. On PostgreSQL the provider's one slot is shared by both
    # instances, so the second one's sends wait for the held call: waiting for them
    # before releasing it held the call past the client's 60 s timeout, and the first
    # worker's retry (its lookup found nothing, the held order not yet made) created
    # the first order a second time when the held call went through.
    taking = threading.Thread(
        target=lambda: wait_until(lambda: len(take_over(other, taken)) >= 4, 90)
    )
    try:
        ticking.start()
        gate.wait_held()
        first_claims = claim_tokens(db)
        # Seven orders wait in the limiter (their claims kept alive), four in the
        # worker's queue (claimed, not yet worked on): those go stale and move.
        taking.start()
        wait_until(lambda: moved(first_claims, claim_tokens(db)) >= 4, 60)
    finally:
        gate.release()
        ticking.join(90)
        if taking.ident is not None:  # started
            taking.join(90)
        first_runtime.close()
        other_runtime.close()

    assert not ticking.is_alive(), "the first worker never finished its batch"
    assert not taking.is_alive(), "the second instance never finished taking over"
    ours, theirs, duplicates = submitted_at_provider(db, customcat)
    row.outside(lost=max(0, ORDERS - theirs), duplicates=duplicates)
    assert duplicates == 0, customcat.created
    assert (ours, theirs) == (ORDERS, ORDERS)
    assert statuses(db) == Counter({"submitted": ORDERS})
    assert len(taken) == 4, taken
    assert len(reports[0].handed_over) == 4, "the first worker noticed each order taken from it"
