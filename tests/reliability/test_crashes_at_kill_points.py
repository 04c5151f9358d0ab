"""SIGKILL at the kill points that matter for exactly-once (kill_points.py): inside
the transaction that records what an outside system just did, then a new worker.

Given a worker that dies with the outside system's work done and its own record
of it written but not committed, when a new worker runs, then the outside systems
hold every order, tracking number and status once: counted at the fake provider
(which accepts a repeated reference, so a double would show) and the fake shop.
"""

from __future__ import annotations

from collections import Counter

import pytest

from podops.db import Database
from tests.fakes.customcat import FakeCustomCat
from tests.fakes.woocommerce import FakeWooCommerce
from tests.reliability.conftest import Deployment, Outcome, die_at, time_passes
from tests.reliability.kill_points import at
from tests.reliability.scenario import (
    doubled_receives,
    external_ids,
    fill_shop,
    give_print_files,
    statuses,
    submitted_at_provider,
    take_in,
)
from tests.reliability.test_crashes import ship_everything

pytestmark = pytest.mark.slow  # worker processes: seconds each


def test_kill_between_the_providers_answer_and_its_commit(
    deployment: Deployment,
    shop: FakeWooCommerce,
    customcat: FakeCustomCat,
    db: Database,
    record: list[Outcome],
) -> None:
    row = Outcome(
        "SIGKILL between the provider's answer and its commit (the 6th order's "
        "answer written, not committed; a repeated reference is accepted)",
        "crash",
        "every order exists once at the provider",
        faults=1,
        orders=12,
    )
    record.append(row)
    customcat.reject_duplicates = False  # only podops' own lookup keeps an order single
    deployment.shop_url, deployment.cc_url = shop.url, customcat.base_url
    take_in(deployment, shop, 12)
    give_print_files(db)

    die_at(deployment, "fulfillment.countdown", at("provider answered", 6))
    time_passes(db)
    deployment.run("fulfillment.countdown", rounds=2)

    ours, theirs, duplicates = submitted_at_provider(db, customcat)
    row.outside(lost=max(0, 12 - theirs), duplicates=duplicates)
    assert statuses(db) == Counter({"submitted": 12})
    assert (ours, theirs, duplicates) == (12, 12, 0), customcat.created


def shop_writes(shop: FakeWooCommerce, ids: list[str]) -> tuple[Counter[str], Counter[str]]:
    """(tracking numbers the shop holds per order, status writes it received per order)."""
    trackings = Counter({i: len(shop.state.trackings.get(int(i), [])) for i in ids})
    puts = Counter(p.rsplit("/", 1)[-1] for m, p in shop.state.requests if m == "PUT")
    return trackings, Counter({i: puts[i] for i in ids})


@pytest.mark.parametrize("point", ["shop stored a tracking", "shop stored a status"])
def test_kill_between_a_store_write_and_its_outbox_record(
    deployment: Deployment,
    shop: FakeWooCommerce,
    customcat: FakeCustomCat,
    db: Database,
    record: list[Outcome],
    point: str,
) -> None:
    what = point.removeprefix("shop stored a ")
    row = Outcome(
        f"SIGKILL between a store write and its outbox record (the shop stored the 3rd "
        f"{what}; its delivery written, not committed)",
        "crash",
        "each tracking number and status reaches the shop once",
        faults=1,
        orders=8,
    )
    record.append(row)
    deployment.shop_url, deployment.cc_url = shop.url, customcat.base_url
    ids = take_in(deployment, shop, 8)
    ship_everything(deployment, db, customcat)

    die_at(deployment, "store.pushback", at(point, 3))
    time_passes(db)
    deployment.run("store.pushback", rounds=2)

    trackings, status_writes = shop_writes(shop, ids)
    completed = [i for i in ids if shop.state.orders[int(i)]["status"] == "completed"]
    doubled = sum(n - 1 for n in (*trackings.values(), *status_writes.values()) if n > 1)
    missing = sum(n == 0 for n in trackings.values()) + 8 - len(completed)
    row.outside(lost=missing, duplicates=doubled)
    assert set(trackings.values()) == {1}, trackings
    assert set(status_writes.values()) == {1}, status_writes
    assert len(completed) == 8
    assert statuses(db) == Counter({"completed": 8})


def test_kill_inside_a_page_of_intake(
    deployment: Deployment,
    shop: FakeWooCommerce,
    customcat: FakeCustomCat,
    db: Database,
    record: list[Outcome],
) -> None:
    row = Outcome(
        "SIGKILL inside a page of intake (page 2 of 3 written with its pass position, "
        "not committed), then every order sent to the provider",
        "crash",
        "every shop order is received once and exists once at the provider",
        faults=1,
        orders=250,
    )
    record.append(row)
    customcat.reject_duplicates = False
    deployment.shop_url, deployment.cc_url = shop.url, customcat.base_url
    ids = fill_shop(shop, 250)

    die_at(deployment, "intake.main", at("intake page", 2))
    after_crash = sum(external_ids(db).values())
    deployment.run("intake.main", rounds=1)
    give_print_files(db)
    deployment.run("fulfillment.countdown", rounds=1)

    held = external_ids(db)
    ours, theirs, duplicates = submitted_at_provider(db, customcat)
    row.outside(
        lost=len(set(ids) - set(held)) + max(0, 250 - theirs),
        duplicates=doubled_receives(db) + duplicates,
    )
    assert after_crash == 100, "page 1 committed, page 2 rolled back whole"
    assert set(held) == set(ids) and max(held.values()) == 1
    assert doubled_receives(db) == 0
    assert (ours, theirs, duplicates) == (250, 250, 0)
