"""Each outside system goes away for a while and comes back: the backlog
drains, in order, with nothing lost and nothing doubled.

Given a fake that answers 503 (or is unreachable), when the worker runs
during the outage and again after it, then every order, push and message
arrives once.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from podops.db import Database
from podops.models import Order, Store, utcnow
from tests.fakes.customcat import FakeCustomCat, Fault
from tests.fakes.sheets_server import FakeSheetsServer
from tests.fakes.slack import FakeSlack
from tests.fakes.woocommerce import FakeWooCommerce
from tests.reliability.conftest import Deployment, Outcome, time_passes
from tests.reliability.scenario import (
    doubled_receives,
    external_ids,
    fill_shop,
    give_print_files,
    statuses,
    submitted_at_provider,
)
from tests.reliability.test_crashes import ship_everything

pytestmark = pytest.mark.slow  # worker processes, kills, outages: seconds each


def store_error(db: Database) -> str | None:
    with db.unit_of_work() as session:
        return session.scalar(select(Store.last_error).where(Store.key == "main"))


def test_store_away_during_intake_and_pushback(
    deployment: Deployment,
    shop: FakeWooCommerce,
    customcat: FakeCustomCat,
    db: Database,
    record: list[Outcome],
) -> None:
    deployment.shop_url, deployment.cc_url = shop.url, customcat.base_url
    ids = fill_shop(shop, 10)
    shop.state.down = True
    deployment.run("intake.main", rounds=1)
    assert sum(external_ids(db).values()) == 0
    assert "503" in (store_error(db) or "") or store_error(db)
    shop.state.down = False
    deployment.run("intake.main", rounds=1)
    held = external_ids(db)

    ship_everything(deployment, db, customcat)
    shop.state.down = True
    asked_before = len(shop.state.requests)
    deployment.run("store.pushback", rounds=1)
    asked_while_down = len(shop.state.requests) - asked_before
    assert not any(shop.state.trackings.values())
    shop.state.down = False
    time_passes(db)
    deployment.run("store.pushback", rounds=2)

    pushes = [(m, p) for m, p in shop.state.requests if m in ("POST", "PUT")]
    for order_id in ids:
        mine = [m for m, p in pushes if f"/{order_id}" in p]
        assert mine == ["POST", "PUT"], (order_id, mine)  # tracking first, then completed
    per_order = [len(shop.state.trackings.get(int(i), [])) for i in ids]
    trackings = Counter(per_order)
    record.append(
        Outcome(
            "WooCommerce down during intake, then during push-back",
            "outage",
            "orders arrive once when it is back; pushes drain in order, once each",
            faults=2,
            orders=10,
            lost=10 - len(held) + (10 - trackings[1]),
            duplicates=doubled_receives(db) + sum(n - 1 for n in per_order if n > 1),
            counted=True,
        )
    )
    assert set(held) == set(ids) and max(held.values()) == 1
    assert trackings == Counter({1: 10})
    assert statuses(db) == Counter({"completed": 10})
    # A shop that is down is asked once per drain (with the client's own retries),
    # not once per waiting message: 10 orders' pushes cost 4 requests, not 40.
    assert asked_while_down <= 4, asked_while_down


def outage_for(customcat: FakeCustomCat, seconds: float) -> threading.Event:
    """CustomCat answers 503 to every new order for `seconds` from the first order it
    refuses, then recovers; the event is set once that first refusal was answered.

    The clock starts at the first refusal, not when the test arms the outage: on a busy
    machine the worker took longer than 1.5 s to start, met no outage at all, and the
    row still counted its fault as survived."""
    met = threading.Event()

    class Outage(deque[Fault]):
        def popleft(self) -> Fault:
            if not met.is_set():
                met.set()
                threading.Timer(seconds, self.clear).start()
            try:
                return super().popleft()
            except IndexError:  # cleared between the fake's check and this call
                return Fault()

    customcat.faults = Outage([Fault(status=503)] * 10_000)
    return met


def test_provider_away_shorter_and_longer_than_the_retries(
    deployment: Deployment,
    shop: FakeWooCommerce,
    customcat: FakeCustomCat,
    db: Database,
    record: list[Outcome],
) -> None:
    deployment.shop_url, deployment.cc_url = shop.url, customcat.base_url
    fill_shop(shop, 6)
    fill_shop(shop, 1, hours_ago=0, first=6000)  # its countdown is still running
    deployment.run("intake.main", rounds=1)
    give_print_files(db)
    outage = outage_for(customcat, 1.5)  # over while the worker is still retrying
    deployment.run("fulfillment.countdown", rounds=1)
    brief = submitted_at_provider(db, customcat)
    assert outage.is_set(), "the worker never met the short outage"

    customcat.inject(Fault(status=503), times=10_000)  # longer than the 4 attempts
    with db.unit_of_work() as session:  # the clock moves on: order 6000 is due
        session.execute(update(Order).values(submit_at=utcnow() - timedelta(minutes=1)))
    deployment.run("fulfillment.countdown", rounds=1)
    failed = statuses(db)["submit_failed"]
    customcat.faults.clear()
    deployment.cli("retry", "6000")
    deployment.run("fulfillment.countdown", rounds=1)
    ours, theirs, duplicates = submitted_at_provider(db, customcat)
    record.append(
        Outcome(
            "CustomCat answering 503: 1.5 s (within retries), then past the 4 attempts",
            "outage",
            "a short outage is absorbed; a long one parks orders as submit_failed "
            "(shown to staff) and `podops retry` sends each once",
            faults=2,
            orders=7,
            lost=7 - theirs,
            duplicates=duplicates,
            counted=True,
        )
    )
    assert brief == (6, 6, 0)
    assert failed == 1
    assert (ours, theirs, duplicates) == (7, 7, 0)


def test_slack_away_then_back(
    deployment: Deployment,
    shop: FakeWooCommerce,
    slack_api: FakeSlack,
    db: Database,
    record: list[Outcome],
) -> None:
    deployment.shop_url, deployment.slack_url = shop.url, slack_api.api_url
    ids = fill_shop(shop, 3, hours_ago=0)
    slack_api.fail_next("chat.postMessage", status=503, error="service_unavailable", count=10_000)
    deployment.run("intake.main,notify.alert_scan,notify.drain", rounds=2)
    attempts_while_down = len(slack_api.calls_to("chat.postMessage"))
    slack_api._failures.clear()  # Slack is back
    time_passes(db)
    deployment.run("notify.drain", rounds=2)

    delivered = [
        str(call.params.get("text"))
        for call in slack_api.calls_to("chat.postMessage")[attempts_while_down:]
    ]
    expected = [f"Order {number} is pending" for number in ids]
    record.append(
        Outcome(
            "Slack answering 503, then back",
            "outage",
            "every alert is posted once, in order, when Slack is back",
            faults=1,
            orders=3,
            lost=3 - len(set(delivered)),
            duplicates=len(delivered) - len(set(delivered)),
            counted=True,
            detail="Slack messages",
        )
    )
    assert attempts_while_down > 0
    assert [text[: len(want)] for text, want in zip(delivered, expected, strict=True)] == expected


def test_google_sheets_away_then_back(
    deployment: Deployment,
    shop: FakeWooCommerce,
    sheets: FakeSheetsServer,
    db: Database,
    record: list[Outcome],
) -> None:
    deployment.shop_url, deployment.sheets_url = shop.url, sheets.base
    fill_shop(shop, 15)
    sheets.fake.fail_next(count=10_000, status=503)
    deployment.run("intake.main,sheet.mirror", rounds=1)
    sheets.fake.fail_queue.clear()  # Google is back
    deployment.run("sheet.mirror", rounds=1)

    values = sheets.fake.values("Orders")
    column = values[0].index("line")
    lines = Counter(row[column] for row in values[1:] if any(row))
    record.append(
        Outcome(
            "Google Sheets answering 503 for a cycle, then back",
            "outage",
            "the next cycle writes every row once",
            faults=1,
            orders=15,
            lost=15 - len(lines),
            duplicates=sum(lines.values()) - len(lines),
            counted=True,
        )
    )
    assert len(lines) == 15 and max(lines.values()) == 1
