"""Several workers running the countdown at once (PostgreSQL): the due orders, their
renders and a dead worker's stale claims are shared out between them, and the
provider (which accepts a repeated reference, so a double submission shows) gets
each order exactly once.

Each worker is a `Submitter` on a database connection pool of its own, as in a
process of its own; they start together on a barrier.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pytest
from sqlalchemy import select

from podops import services
from podops.db import Database
from podops.events import EventName
from podops.fulfillment.countdown import Submitter
from podops.models import Event, LineItem, utcnow
from podops.status import OrderStatus
from tests.conftest import PG_URL
from tests.factories import SYSTEM
from tests.fakes.customcat import Fault
from tests.fulfillment.conftest import Shop, build_service
from tests.fulfillment.test_races import many_due_orders

pytestmark = pytest.mark.skipif(
    not PG_URL,
    reason="needs PostgreSQL (set PODOPS_TEST_DATABASE_URL): on SQLite (one host) the "
    "countdown runs on one worker at a time",
)

T = TypeVar("T")


def together(*calls: Callable[[], T]) -> list[T]:
    """Run the calls at the same moment, each in a thread of its own; their results."""
    start = threading.Barrier(len(calls))
    results: list[T | None] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call: Callable[[], T]) -> None:
        start.wait()
        try:
            results[index] = call()
        except BaseException as exc:  # re-raised below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return [r for r in results if r is not None]


class Workers:
    """Two workers, each with its own connection pool (its own "process")."""

    def __init__(self, shop: Shop, count: int = 2, **options: object) -> None:
        self.databases = [Database(shop.db.url) for _ in range(count)]
        self.submitters: list[Submitter] = [
            build_service(shop.settings, db, **options) for db in self.databases
        ]

    def close(self) -> None:
        for db in self.databases:
            db.dispose()


def statuses(shop: Shop, numbers: list[str]) -> set[str]:
    with shop.db.unit_of_work() as session:
        return {services.get_order(session, n).status for n in numbers}


def test_two_workers_share_the_due_orders_and_the_provider_gets_each_once(shop: Shop) -> None:
    # given 60 orders due and a provider that would take the same reference twice
    shop.customcat.reject_duplicates = False
    shop.customcat.submit_latency_s = 0.05
    numbers = many_due_orders(shop, 60)
    workers = Workers(shop)
    try:
        assert all(w.spread for w in workers.submitters)
        # when both workers run the countdown at the same moment
        first, second = together(*(w.tick for w in workers.submitters))
    finally:
        workers.close()
    # then each sent some of them, none the same
    assert first.submitted and second.submitted, (first.submitted, second.submitted)
    assert not set(first.submitted) & set(second.submitted)
    assert sorted(first.submitted + second.submitted) == sorted(numbers)
    # and the provider got each order exactly once
    assert shop.customcat.duplicates() == 0, shop.customcat.created
    assert sorted(shop.customcat.created) == sorted(f"main-{n}" for n in numbers)
    assert statuses(shop, numbers) == {OrderStatus.SUBMITTED}


class CountingRenderer:
    """A print-file source that renders (slowly) the lines lacking a current print file,
    as `PrintFiles.ensure_current` does, and counts each render and who made it."""

    def __init__(
        self, db: Database, renders: Counter[str], slow: str = "", slow_s: float = 0.0
    ) -> None:
        self.db = db
        self.renders = renders
        self.mine = 0
        self.slow, self.slow_s = slow, slow_s
        """One order whose render takes `slow_s` (a large photo)."""

    def ensure_current(self, order_ref: object) -> None:
        number = str(order_ref).split(":")[1]
        with self.db.unit_of_work() as session:
            order = services.get_order(session, number)
            stale = [i.id for i in order.items if not (i.print_file and i.print_file_current)]
        if not stale:
            return
        threading.Event().wait(self.slow_s if number == self.slow else 0.05)
        with self.db.unit_of_work() as session:
            for item in session.scalars(select(LineItem).where(LineItem.id.in_(stale))):
                self.renders[item.reference] += 1
                self.mine += 1
                item.print_file = (
                    f"/srv/print-files/{item.reference}-r{self.renders[item.reference]}.png"
                )
                item.print_file_revision = self.renders[item.reference]
                item.print_file_current = True


def test_two_workers_share_the_renders_and_make_each_print_file_once(shop: Shop) -> None:
    # given 24 orders due whose print files are not made yet, the first one slow to make
    shop.customcat.reject_duplicates = False
    numbers = many_due_orders(shop, 24)
    with shop.db.unit_of_work() as session:
        for item in session.scalars(select(LineItem)):
            item.print_file, item.print_file_current = None, False
    renders: Counter[str] = Counter()
    workers = Workers(shop)
    renderers = [CountingRenderer(db, renders, numbers[0], 4.0) for db in workers.databases]
    for submitter, renderer in zip(workers.submitters, renderers, strict=True):
        submitter.print_file_source = renderer
    try:
        # when both workers run the countdown at the same moment
        first, second = together(*(w.tick for w in workers.submitters))
    finally:
        workers.close()
    # then no order was said to wait for a print file the other worker was making
    # (the slow one is claimed once made, by the worker that made it)
    assert first.blocked == [] and second.blocked == [], (first.blocked, second.blocked)
    # and both rendered, and no print file was made twice
    assert all(r.mine for r in renderers), [r.mine for r in renderers]
    with shop.db.unit_of_work() as session:
        lines = [i.reference for i in session.scalars(select(LineItem))]
    assert sorted(renders) == sorted(lines)
    assert set(renders.values()) == {1}, renders
    # and every order went out once
    assert sorted(first.submitted + second.submitted) == sorted(numbers)
    assert shop.customcat.duplicates() == 0
    assert statuses(shop, numbers) == {OrderStatus.SUBMITTED}


def claims_left_by_a_dead_worker(shop: Shop, numbers: list[str], sent: list[str]) -> None:
    """Orders claimed ten minutes ago by a worker that died; it had sent `sent`."""
    long_ago = utcnow() - timedelta(minutes=10)
    requests = []
    with shop.db.unit_of_work() as session:
        for number in numbers:
            order = services.get_order(session, number, for_update=True)
            parts = services.plan_fulfillments(session, order)
            services.begin_submit(session, order, parts, SYSTEM)
            for part in parts:
                services.take_claim(part, long_ago)
            session.flush()
            if number in sent:
                requests += [shop.service.roster.request_for(part) for part in parts]
    provider = shop.service.roster.provider("cc")
    for request in requests:
        provider.submit(request)


def test_two_reconcilers_take_a_dead_workers_claims_once_each(shop: Shop) -> None:
    # given 30 orders a dead worker claimed, half of them sent before it died
    shop.customcat.reject_duplicates = False
    numbers = many_due_orders(shop, 30)
    claims_left_by_a_dead_worker(shop, numbers, sent=numbers[::2])
    shop.customcat.requests.clear()
    shop.customcat.submit_latency_s = 0.05
    workers = Workers(shop)
    try:
        # when two workers reconcile at the same moment
        first, second = together(*(w.reconcile_stuck for w in workers.submitters))
    finally:
        workers.close()
    # then each claim was taken by one of them, looked up once, sent at most once
    refs = sorted(f"main-{n}" for n in numbers)
    assert not set(first) & set(second)
    assert sorted(first + second) == refs
    lookups = Counter(p.rsplit("/", 1)[1] for m, p in shop.customcat.requests if m == "GET")
    assert sorted(lookups) == refs and set(lookups.values()) == {1}, lookups
    assert shop.customcat.duplicates() == 0, shop.customcat.created
    assert sorted(shop.customcat.created) == refs
    assert statuses(shop, numbers) == {OrderStatus.SUBMITTED}


def test_orders_failed_in_an_outage_go_back_once_when_two_workers_tick(shop: Shop) -> None:
    # given 12 orders that failed because the provider could not be reached
    shop.customcat.reject_duplicates = False
    numbers = many_due_orders(shop, 12)
    shop.customcat.inject(Fault(status=503), times=3 * len(numbers))
    failed = shop.service.tick().failed
    assert sorted(number for number, _ in failed) == sorted(numbers)
    # when both workers run the countdown at the same moment, once the pause is over
    later = datetime.now(UTC) + timedelta(minutes=3)
    workers = Workers(shop, clock=lambda: later)
    try:
        first, second = together(*(w.tick for w in workers.submitters))
    finally:
        workers.close()
    # then each order went back to the countdown once, and reached the provider once
    assert sorted(first.retried + second.retried) == sorted(numbers)
    assert sorted(first.submitted + second.submitted) == sorted(numbers)
    assert shop.customcat.duplicates() == 0
    with shop.db.unit_of_work() as session:
        retries = session.scalars(
            select(Event.order_id).where(Event.action == EventName.RETRY)
        ).all()
    assert len(retries) == len(set(retries)) == len(numbers)
