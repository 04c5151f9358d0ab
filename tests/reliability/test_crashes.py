"""SIGKILL the worker in the middle of each kind of work, restart it, and
count: every order once, every provider order once, every store update and
Slack message once.

Given a fake outside system that holds one request (gates.py), when the
worker process is killed while that request is in flight and a new worker
runs, then nothing is lost or doubled.
"""

from __future__ import annotations

from collections import Counter

import pytest

from podops.db import Database
from tests.fakes.customcat import FakeCustomCat
from tests.fakes.sheets_server import FakeSheetsServer
from tests.fakes.slack import FakeSlack
from tests.fakes.woocommerce import FakeWooCommerce
from tests.reliability.conftest import (
    Deployment,
    Outcome,
    crash_in_the_middle,
    time_passes,
    wait_until,
)
from tests.reliability.gates import is_request
from tests.reliability.scenario import (
    doubled_receives,
    external_ids,
    fill_shop,
    give_print_files,
    pages_read_by_next_pass,
    receive_events,
    statuses,
    submitted_at_provider,
    take_in,
)

pytestmark = pytest.mark.slow  # worker processes, kills, outages: seconds each


def test_kill_during_intake(
    deployment: Deployment, shop: FakeWooCommerce, db: Database, record: list[Outcome]
) -> None:
    row = Outcome(
        "SIGKILL during intake (page 2 of 3 in flight)",
        "crash",
        "every shop order is received once",
        faults=1,
        orders=250,
    )
    record.append(row)  # first: a failure below still leaves its row, marked failed
    deployment.shop_url = shop.url
    ids = fill_shop(shop, 250)
    shop.gate.arm(is_request("GET", "/wc/v3/orders"), "before", skip=1)  # type: ignore[attr-defined]

    crash_in_the_middle(deployment, "intake.main", shop.gate)  # type: ignore[attr-defined]
    after_crash = sum(external_ids(db).values())
    deployment.run("intake.main", rounds=1)

    held = external_ids(db)
    row.outside(lost=len(set(ids) - set(held)), duplicates=doubled_receives(db))
    assert 0 < after_crash < 250, "the kill landed between two pages"
    assert set(held) == set(ids)
    assert max(held.values()) == 1
    assert max(receive_events(db).values()) == 1
    assert pages_read_by_next_pass(deployment, shop) == 1, "the cursor did not move"


def test_kill_podops_run_during_intake_and_restart_it(
    deployment: Deployment, shop: FakeWooCommerce, db: Database, record: list[Outcome]
) -> None:
    row = Outcome(
        "SIGKILL of `podops run` during intake, then `podops run` again",
        "crash",
        "the restarted service resumes at once (no lease wait) and receives every order once",
        faults=1,
        orders=150,
    )
    record.append(row)
    deployment.shop_url = shop.url
    ids = fill_shop(shop, 150)
    shop.gate.arm(is_request("GET", "/wc/v3/orders"), "before", skip=1)  # type: ignore[attr-defined]

    service = deployment.service()
    shop.gate.wait_held()  # type: ignore[attr-defined]
    deployment.kill(service)
    shop.gate.release()  # type: ignore[attr-defined]
    after_crash = sum(external_ids(db).values())
    service = deployment.service()  # intake runs at start-up
    try:
        wait_until(lambda: sum(external_ids(db).values()) >= 150, timeout=90)  # a hang, not a speed
    finally:
        deployment.stop(service)

    held = external_ids(db)
    row.outside(lost=len(set(ids) - set(held)), duplicates=doubled_receives(db))
    assert 0 < after_crash < 150
    assert set(held) == set(ids) and max(held.values()) == 1
    assert max(receive_events(db).values()) == 1


REFUSES = "a repeated reference is refused, as CustomCat documents"
ACCEPTS = "a repeated reference is accepted (ShineOn documents no refusal)"


@pytest.mark.parametrize("repeat", [REFUSES, ACCEPTS])
def test_kill_during_submission_batch(
    deployment: Deployment,
    shop: FakeWooCommerce,
    customcat: FakeCustomCat,
    db: Database,
    record: list[Outcome],
    repeat: str,
) -> None:
    """With a provider that accepts a repeated reference, only our lookup before the
    retry keeps the order single; the provider's own count per reference shows it."""
    row = Outcome(
        f"SIGKILL during a submission batch (provider created the order, answer lost; {repeat})",
        "crash",
        "every order exists once at the provider",
        faults=1,
        orders=12,
    )
    record.append(row)
    customcat.reject_duplicates = repeat == REFUSES
    deployment.shop_url, deployment.cc_url = shop.url, customcat.base_url
    take_in(deployment, shop, 12)
    give_print_files(db)
    # CustomCat creates the 6th order, then the worker dies before it hears back.
    customcat.gate.arm(is_request("POST", "/api/v1/order/"), "after", skip=5)  # type: ignore[attr-defined]

    crash_in_the_middle(deployment, "fulfillment.countdown", customcat.gate)  # type: ignore[attr-defined]
    time_passes(db)
    deployment.run("fulfillment.countdown", rounds=2)

    ours, theirs, duplicates = submitted_at_provider(db, customcat)
    row.outside(lost=max(0, 12 - theirs), duplicates=duplicates)
    assert statuses(db) == Counter({"submitted": 12})
    assert (ours, theirs, duplicates) == (12, 12, 0)


def test_kill_during_mirror_cycle(
    deployment: Deployment,
    shop: FakeWooCommerce,
    sheets: FakeSheetsServer,
    db: Database,
    record: list[Outcome],
) -> None:
    row = Outcome(
        "SIGKILL during a sheet mirror cycle (Google applied the write, answer lost)",
        "crash",
        "one row per line item, none lost or doubled",
        faults=1,
        orders=30,
    )
    record.append(row)
    deployment.shop_url, deployment.sheets_url = shop.url, sheets.base
    take_in(deployment, shop, 30)
    # Google applied the first write of the cycle; the worker dies before the answer.
    sheets.gate.arm(is_request("POST", "values:batchUpdate"), "after")  # type: ignore[attr-defined]

    crash_in_the_middle(deployment, "sheet.mirror", sheets.gate)  # type: ignore[attr-defined]
    deployment.run("sheet.mirror", rounds=2)

    rows = [row for row in sheets.fake.values("Orders")[1:] if any(row)]
    header = sheets.fake.values("Orders")[0]
    lines = Counter(row[header.index("line")] for row in rows)
    row.outside(lost=max(0, 30 - len(lines)), duplicates=sum(lines.values()) - len(lines))
    assert len(lines) == 30 and max(lines.values()) == 1


def ship_everything(deployment: Deployment, db: Database, customcat: FakeCustomCat) -> None:
    """Orders submitted, then shipped at CustomCat and polled: the outbox fills."""
    give_print_files(db)
    deployment.run("fulfillment.countdown", rounds=1)
    for number, ref in enumerate(sorted(customcat.orders)):
        customcat.ship(ref, f"9400111899223{number:09d}", items=2)
    deployment.run("fulfillment.tracking", rounds=1)


def test_kill_during_store_pushback(
    deployment: Deployment,
    shop: FakeWooCommerce,
    customcat: FakeCustomCat,
    db: Database,
    record: list[Outcome],
) -> None:
    row = Outcome(
        "SIGKILL during an outbox drain to the store (shop stored the tracking, answer lost)",
        "crash",
        "each tracking number and status reaches the shop once",
        faults=1,
        orders=8,
    )
    record.append(row)
    deployment.shop_url, deployment.cc_url = shop.url, customcat.base_url
    ids = take_in(deployment, shop, 8)
    ship_everything(deployment, db, customcat)
    # The shop stores the 3rd tracking number; the worker dies before the answer.
    gate = shop.gate  # type: ignore[attr-defined]
    gate.arm(is_request("POST", "shipment-trackings"), "after", skip=2)

    crash_in_the_middle(deployment, "store.pushback", gate)
    time_passes(db)
    deployment.run("store.pushback", rounds=2)

    trackings = {i: len(shop.state.trackings.get(int(i), [])) for i in ids}
    completed = [i for i in ids if shop.state.orders[int(i)]["status"] == "completed"]
    row.outside(lost=8 - len(completed), duplicates=sum(max(0, n - 1) for n in trackings.values()))
    assert set(trackings.values()) == {1}
    assert len(completed) == 8
    assert statuses(db) == Counter({"completed": 8})


def test_kill_during_slack_drain(
    deployment: Deployment,
    shop: FakeWooCommerce,
    slack_api: FakeSlack,
    db: Database,
    record: list[Outcome],
) -> None:
    row = Outcome(
        "SIGKILL during an outbox drain to Slack (Slack posted the alert, answer lost)",
        "crash",
        "each alert is posted once",
        faults=1,
        orders=6,
        detail="Slack messages",
    )
    record.append(row)
    deployment.shop_url, deployment.slack_url = shop.url, slack_api.api_url
    fill_shop(shop, 6, hours_ago=0)  # countdown running: each gets one alert
    deployment.run("intake.main,notify.alert_scan", rounds=1)
    # Slack posts the 3rd alert; the worker dies before the answer.
    gate = slack_api.gate  # type: ignore[attr-defined]
    gate.arm(is_request("POST", "chat.postMessage"), "after", skip=2)

    crash_in_the_middle(deployment, "notify.drain", gate)
    time_passes(db)
    deployment.run("notify.drain", rounds=2)

    posted = Counter(call.params.get("text") for call in slack_api.calls_to("chat.postMessage"))
    row.outside(lost=max(0, 6 - len(posted)), duplicates=sum(posted.values()) - len(posted))
    assert len(posted) == 6
    assert max(posted.values()) == 1, posted
