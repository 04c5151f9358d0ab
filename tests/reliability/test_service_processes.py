"""Real `podops run --role worker` processes: two sharing one database never both
take the same order, and SIGTERM in the middle of a job lets that job finish."""

from __future__ import annotations

import signal
import time

import pytest

from podops.db import Database
from tests.fakes.woocommerce import FakeWooCommerce
from tests.reliability.conftest import Deployment, wait_until
from tests.reliability.gates import is_request
from tests.reliability.scenario import external_ids, fill_shop, receive_events

pytestmark = pytest.mark.slow  # worker processes, kills, outages: seconds each


def test_two_workers_on_one_database_receive_every_order_once(
    deployment: Deployment, shop: FakeWooCommerce, db: Database
) -> None:
    deployment.shop_url = shop.url
    ids = fill_shop(shop, 120)
    first, second = deployment.service(), deployment.service()
    try:
        # Deadlines for a hang, not speeds: two services starting on a busy machine.
        wait_until(lambda: sum(external_ids(db).values()) >= 120, timeout=90)
        shown = wait_until(
            lambda: (s := deployment.cli("status").stdout).count("(worker)") == 2 and s,
            timeout=60,
        )
        time.sleep(1.5)  # both schedulers keep running; nothing may be taken twice
    finally:
        deployment.stop(first)
        deployment.stop(second)
    held = external_ids(db)
    assert set(held) == set(ids) and max(held.values()) == 1
    assert max(receive_events(db).values()) == 1
    assert shown.count("running") == 2
    assert (first.returncode, second.returncode) == (0, 0)
    assert "(worker)" not in deployment.cli("status").stdout  # both left cleanly


def test_sigterm_during_intake_lets_the_job_finish(
    deployment: Deployment, shop: FakeWooCommerce, db: Database
) -> None:
    deployment.shop_url = shop.url
    ids = fill_shop(shop, 250)
    gate = shop.gate  # type: ignore[attr-defined]
    gate.arm(is_request("GET", "/wc/v3/orders"), "before", skip=1)  # page 2 is held
    service = deployment.service()
    try:
        gate.wait_held()
        service.send_signal(signal.SIGTERM)  # the operator stops the service mid-job
        time.sleep(1.0)
        assert service.poll() is None, "the service quit with a job half done"
    finally:
        gate.release()
    out, err = service.communicate(timeout=30)
    deployment.output.append(out + err)
    held = external_ids(db)
    assert service.returncode == 0, err[-2000:]
    assert set(held) == set(ids) and max(held.values()) == 1
    assert '"msg": "stopped"' in err
