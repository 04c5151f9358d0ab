"""Exactly once under races: two processes, the timer against a person, a crash."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from podops import services
from podops.errors import PodopsError
from podops.models import LineItem
from podops.status import OrderStatus
from tests import factories
from tests.factories import STAFF
from tests.fulfillment.conftest import Shop, build_service

ROOT = Path(__file__).parents[2]


def many_due_orders(shop: Shop, count: int) -> list[str]:
    placed = datetime.now(UTC) - timedelta(hours=2)
    batch = [
        factories.incoming(customer_phone="+1 217 555 0100", placed_at=placed) for _ in range(count)
    ]
    with shop.db.unit_of_work() as session:
        services.receive_orders(session, batch, shop.policy("cc"), factories.SYSTEM)
    with shop.db.unit_of_work() as session:
        for item in session.scalars(select(LineItem)):
            item.print_file = f"/srv/print-files/{item.order_id}-{item.position}.png"
            item.print_file_current = True
    return [order.number for order in batch]


def worker(shop: Shop, tmp_path: Path, mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fulfillment.worker",
            shop.db.url,
            shop.customcat.base_url,
            str(tmp_path),
            mode,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_two_worker_processes_submit_200_orders_exactly_once(shop: Shop, tmp_path: Path) -> None:
    shop.customcat.reject_duplicates = False  # only our own claims can prevent doubles
    numbers = many_due_orders(shop, 200)
    workers = [worker(shop, tmp_path, "drain") for _ in range(2)]
    outputs = [w.communicate(timeout=120) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], [err[-800:] for _, err in outputs]
    counts = [int(out.strip()) for out, _ in outputs]
    assert sum(counts) == 200
    assert len(shop.customcat.created) == 200 and shop.customcat.duplicates() == 0
    with shop.db.unit_of_work() as session:
        statuses = {services.get_order(session, n).status for n in numbers[:20]}
    assert statuses == {OrderStatus.SUBMITTED}


def test_the_timer_and_a_person_in_the_same_second_create_one_order(shop: Shop) -> None:
    shop.customcat.reject_duplicates = False
    shop.customcat.latency_s = 0.05
    for _ in range(5):
        number = shop.order()
        start = threading.Barrier(2)
        refusals: list[str] = []

        def by_hand(
            ref: str = number, start: threading.Barrier = start, said: list[str] = refusals
        ) -> None:
            start.wait()
            try:
                shop.service.submit_now(ref, STAFF)
            except PodopsError as exc:
                said.append(exc.message)

        def by_timer(start: threading.Barrier = start) -> None:
            start.wait()
            shop.service.tick()

        threads = [threading.Thread(target=by_hand), threading.Thread(target=by_timer)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert shop.customcat.created[f"main-{number}"] == 1
        assert shop.get(number).status == OrderStatus.SUBMITTED
        assert all("submit" in message for message in refusals)


@pytest.mark.slow
def test_a_crash_between_answer_and_commit_is_reconciled_without_a_second_order(
    shop: Shop, tmp_path: Path
) -> None:
    shop.customcat.reject_duplicates = False
    number = shop.order()
    crashed = worker(shop, tmp_path, "die-after-answer")
    crashed.communicate(timeout=60)
    assert crashed.returncode == -9
    assert shop.customcat.created == {f"main-{number}": 1}
    assert shop.get(number).status == OrderStatus.SUBMITTING
    restarted = worker(shop, tmp_path, "restart")
    _, err = restarted.communicate(timeout=60)
    assert restarted.returncode == 0, err[-800:]
    order = shop.get(number)
    assert order.status == OrderStatus.SUBMITTED
    assert order.provider_order_id == str(shop.customcat.orders[f"main-{number}"]["id"])
    assert shop.customcat.created == {f"main-{number}": 1}


@pytest.mark.slow
def test_a_slow_batch_and_the_stuck_order_reconciler_never_both_send_an_order(
    shop: Shop, tmp_path: Path
) -> None:
    """The countdown claims a batch; the provider is so slow that the last orders of
    the batch wait longer than the stuck threshold. A second instance's reconciler
    takes those over; the first worker must then skip them, not send them again."""
    shop.customcat.reject_duplicates = False  # only our own claims can prevent doubles
    shop.customcat.submit_latency_s = 0.15
    numbers = many_due_orders(shop, 8)
    slow = build_service(shop.settings, shop.db, workers=1, stuck_after=timedelta(seconds=0.3))
    other = build_service(shop.settings, shop.db, stuck_after=timedelta(seconds=0.3))
    done = threading.Event()
    taken: list[str] = []

    def second_instance() -> None:
        while not done.is_set():
            taken.extend(other.reconcile_stuck())
            done.wait(0.05)

    thread = threading.Thread(target=second_instance)
    thread.start()
    try:
        report = slow.tick()
    finally:
        done.set()
        thread.join()
    taken.extend(other.reconcile_stuck(older_than=timedelta(0)))
    assert taken, "the provider was not slow enough for the reconciler to step in"
    assert shop.customcat.duplicates() == 0
    assert report.handed_over, "the slow worker should have skipped orders taken over"
    assert sum(shop.customcat.created.values()) == 8
    with shop.db.unit_of_work() as session:
        statuses = {services.get_order(session, n).status for n in numbers}
    assert statuses == {OrderStatus.SUBMITTED}
