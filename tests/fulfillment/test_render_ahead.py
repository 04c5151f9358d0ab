"""Render-ahead (`fulfillment.render_ahead`) and the countdown render print files at the
same time without making any twice: both take the order's render lease (PostgreSQL:
an advisory lock per order, across processes; one host: a lock per order in the
process, where the two jobs run in threads side by side)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from podops import services
from podops.db import Database
from podops.errors import ConcurrentModification
from podops.fulfillment.countdown import Submitter
from podops.fulfillment.printfiles import PrintFiles
from podops.models import LineItem
from podops.refs import OrderRef
from podops.routing import ShopPolicy, StorePolicy
from podops.settings import RoutingRule
from podops.status import OrderStatus
from sync.maintenance import render_ahead
from tests import factories
from tests.conftest import PG_URL
from tests.fulfillment.conftest import Shop
from tests.fulfillment.test_spread_countdown import Workers, together
from tests.rendered import Rendered


class CountingRenderer:
    """The renderer port: each render takes a moment (a photo to fetch) and is counted;
    the lines of order `slow` take `slow_s` each (a large photo)."""

    def __init__(self, folder: Path, slow: str = "", slow_s: float = 0.0) -> None:
        self.folder = folder
        self.slow, self.slow_s = slow, slow_s
        self.renders: Counter[tuple[str, int]] = Counter()
        self._lock = threading.Lock()

    def render_item(
        self,
        order_ref,
        line_position,
        product_key,
        personalization,
        image_urls,
        crops=None,
        revision=None,
    ):  # type: ignore[no-untyped-def]
        time.sleep(self.slow_s if order_ref == self.slow else 0.02)
        with self._lock:
            self.renders[(order_ref, line_position)] += 1
            revision = self.renders[(order_ref, line_position)]
        stem = self.folder / f"{order_ref}-{line_position:02d}-r{revision:03d}"
        return Rendered(stem.with_suffix(".png"), stem.with_suffix(".jpg"), "cd" * 32, revision)


@dataclass
class RenderAheadRuntime:
    """What the render-ahead job is given: one worker's print files and countdown."""

    print_files: PrintFiles
    submission: Submitter


def due_orders_without_print_files(shop: Shop, count: int) -> list[str]:
    """`count` orders whose countdown is over, their lines routed to templates but not
    rendered yet (the shop was busy); their print names, oldest first."""
    policy = ShopPolicy(
        {"main": StorePolicy(countdown_hours=1, default_provider="cc")},
        [
            RoutingRule(sku="TEE-*", provider="cc", product_key="tee-front"),
            RoutingRule(sku="MUG-*", provider="cc", product_key="mug-11oz"),
        ],
    )
    placed = datetime.now(UTC) - timedelta(hours=2)
    batch = [
        factories.incoming(customer_phone="+1 217 555 0100", placed_at=placed) for _ in range(count)
    ]
    with shop.db.unit_of_work() as session:
        services.receive_orders(session, batch, policy, factories.SYSTEM)
    with shop.db.unit_of_work() as session:
        lines = list(session.scalars(select(LineItem)))
        assert lines and all(line.product_key and not line.print_file for line in lines)
        orders = [services.get_order(session, order.number) for order in batch]
        return [OrderRef.of(order).print_name for order in orders]


def rendered_lines(shop: Shop) -> set[tuple[str, int]]:
    with shop.db.reading() as session:
        return {
            (OrderRef.of(item.order).print_name, item.position)
            for item in session.scalars(select(LineItem))
        }


def test_render_ahead_and_the_countdown_of_one_worker_make_each_print_file_once(
    shop: Shop, tmp_path: Path
) -> None:
    # given 6 due orders not rendered yet, the oldest slow to render, and one worker
    # whose render-ahead job and countdown start at the same moment (two threads)
    shop.customcat.reject_duplicates = False
    names = due_orders_without_print_files(shop, 6)
    renderer = CountingRenderer(tmp_path, slow=names[0], slow_s=0.5)
    print_files = PrintFiles(shop.db, renderer)
    shop.service.print_file_source = print_files
    ahead = RenderAheadRuntime(print_files, shop.service)

    together(lambda: render_ahead(ahead, limit=50), shop.service.tick)  # type: ignore[arg-type]

    # then every line was rendered, none twice, and nothing reached the provider twice
    assert set(renderer.renders) == rendered_lines(shop)
    assert set(renderer.renders.values()) == {1}, renderer.renders
    assert shop.customcat.duplicates() == 0


@pytest.mark.skipif(
    not PG_URL,
    reason="needs PostgreSQL (set PODOPS_TEST_DATABASE_URL): on SQLite (one host) every "
    "job runs in one worker process",
)
def test_render_ahead_on_one_worker_and_the_countdown_on_another_make_each_file_once(
    shop: Shop, tmp_path: Path
) -> None:
    # given 6 due orders not rendered yet, the oldest slow to render, and two workers
    # (each its own connections): one runs render-ahead while the other runs the
    # countdown, at the same moment
    shop.customcat.reject_duplicates = False
    names = due_orders_without_print_files(shop, 6)
    renderer = CountingRenderer(tmp_path, slow=names[0], slow_s=0.5)
    workers = Workers(shop)
    ahead_db, countdown_db = workers.databases
    ahead_worker, countdown_worker = workers.submitters
    assert ahead_worker.spread and countdown_worker.spread
    countdown_worker.print_file_source = PrintFiles(countdown_db, renderer)
    ahead = RenderAheadRuntime(PrintFiles(ahead_db, renderer), ahead_worker)
    try:
        together(lambda: render_ahead(ahead, limit=50), countdown_worker.tick)  # type: ignore[arg-type]
    finally:
        workers.close()

    # then every line was rendered, by one worker or the other, none twice
    assert set(renderer.renders) == rendered_lines(shop)
    assert set(renderer.renders.values()) == {1}, renderer.renders
    assert shop.customcat.duplicates() == 0


def test_render_ahead_leaves_an_order_another_worker_is_rendering(
    shop: Shop, db: Database, tmp_path: Path
) -> None:
    # given two due orders, the first being rendered by someone else right now
    names = due_orders_without_print_files(shop, 2)
    renderer = CountingRenderer(tmp_path)
    ahead = RenderAheadRuntime(PrintFiles(db, renderer), shop.service)
    with db.reading() as session:
        first = session.scalars(select(LineItem.order_id).order_by(LineItem.order_id)).first()
    assert first is not None
    with shop.service.render_lease(first) as mine:
        assert mine
        # when render-ahead runs meanwhile
        done = render_ahead(ahead)  # type: ignore[arg-type]
    # then it rendered the second order only; the first is left to its renderer
    assert done == 1
    assert {name for name, _ in renderer.renders} == {names[1]}


class OtherWorker:
    """Another worker holding an order's render lease (it is rendering that order):
    on PostgreSQL a second worker with its own connections; on one host another thread
    of the same process (the lease is per process there)."""

    def __init__(self, shop: Shop) -> None:
        self.workers = Workers(shop, count=1) if shop.service.spread else None
        self.submitter = self.workers.submitters[0] if self.workers else shop.service
        self.stack = ExitStack()

    def start_rendering(self, order_id: int) -> None:
        assert self.stack.enter_context(self.submitter.render_lease(order_id))

    def finish(self) -> None:
        self.stack.close()

    def close(self) -> None:
        self.finish()
        if self.workers is not None:
            self.workers.close()


def one_due_order(shop: Shop) -> tuple[str, int]:
    """An order whose countdown is over, its print files not made yet: (number, id)."""
    due_orders_without_print_files(shop, 1)
    with shop.db.reading() as session:
        line = session.scalars(select(LineItem)).first()
        assert line is not None
        return line.order.number, line.order_id


def test_submit_now_waits_for_the_worker_rendering_the_order_then_sends_it(
    shop: Shop, tmp_path: Path
) -> None:
    # given an order another worker is rendering right now
    number, order_id = one_due_order(shop)
    renderer = CountingRenderer(tmp_path)
    shop.service.print_file_source = PrintFiles(shop.db, renderer)
    other = OtherWorker(shop)
    other.start_rendering(order_id)
    waited: list[float] = []

    def meanwhile(seconds: float) -> None:  # the other worker finishes after a moment
        waited.append(seconds)
        if len(waited) == 3:
            PrintFiles(shop.db, renderer).ensure_current(number)
            other.finish()

    shop.service.sleep = meanwhile
    try:
        # when staff press "submit now"
        order = shop.service.submit_now(number, factories.STAFF)
    finally:
        other.close()

    # then it waited for that render (under a second), rendered nothing twice, and sent it
    assert len(waited) == 3 and sum(waited) < 1
    assert set(renderer.renders) == rendered_lines(shop)
    assert set(renderer.renders.values()) == {1}
    assert order.provider_order_id and shop.customcat.duplicates() == 0


def test_submit_now_says_so_when_the_order_is_still_being_rendered(
    shop: Shop, tmp_path: Path
) -> None:
    # given an order another worker is rendering, and goes on rendering
    number, order_id = one_due_order(shop)
    renderer = CountingRenderer(tmp_path)
    shop.service.print_file_source = PrintFiles(shop.db, renderer)
    other = OtherWorker(shop)
    other.start_rendering(order_id)
    waited: list[float] = []
    shop.service.sleep = waited.append
    try:
        # when staff press "submit now"
        with pytest.raises(ConcurrentModification) as refused:
            shop.service.submit_now(number, factories.STAFF)
    finally:
        other.close()

    # then after a short wait they are told why it was not sent and what to do; nothing
    # was rendered by this worker or sent, and the order waits in its countdown
    assert refused.value.message == (
        f"Order {number} was not sent: another worker is making its print files right "
        "now. Submit it again in a minute."
    )
    assert 5 <= sum(waited) <= 15
    assert not renderer.renders
    assert shop.customcat.duplicates() == 0 and not shop.customcat.orders
    with shop.db.reading() as session:
        assert services.get_order(session, number).status == OrderStatus.PENDING


@pytest.mark.skipif(
    not PG_URL,
    reason="needs PostgreSQL (set PODOPS_TEST_DATABASE_URL): on SQLite (one host) the "
    "render lease is per process",
)
def test_submit_now_on_one_worker_waits_for_the_lease_another_worker_holds(
    shop: Shop, tmp_path: Path
) -> None:
    # given two workers of a PostgreSQL shop; the second renders the order now
    assert shop.service.spread
    other = OtherWorker(shop)
    assert other.submitter is not shop.service
    number, order_id = one_due_order(shop)
    renderer = CountingRenderer(tmp_path)
    shop.service.print_file_source = PrintFiles(shop.db, renderer)
    other.start_rendering(order_id)
    shop.service.sleep = lambda _: other.finish()  # it finishes a moment later
    try:
        order = shop.service.submit_now(number, factories.STAFF)
    finally:
        other.close()
    # then the first worker rendered the order's files once and sent it
    assert set(renderer.renders) == rendered_lines(shop)
    assert set(renderer.renders.values()) == {1}
    assert order.provider_order_id
