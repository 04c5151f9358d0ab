"""`/order label` from Slack: acknowledged within Slack's 3 s while EasyPost answers
slowly, then the rate, price and tracking said in the channel with the label's PDF
(files_upload_v2 through the fake Slack's upload flow); every refusal is said only to
the person who asked, with the reason, and buys nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from podops import services
from podops.routing import ShopPolicy, StorePolicy
from podops.runtime.root import Runtime
from podops.status import OrderStatus
from tests import factories
from tests.bot.conftest import SECRET, SlackSender, snapshot, wait_for
from tests.bot.test_commands_http import status_of
from tests.factories import STAFF
from tests.fakes.easypost import Failure
from tests.fakes.easypost_labels import FakeEasyPostLabels
from tests.fakes.slack import FakeSlack
from tests.shipping.conftest import label_settings


@pytest.fixture
def easypost() -> Iterator[FakeEasyPostLabels]:
    fake = FakeEasyPostLabels().start()
    fake.hold_s = 1.6
    yield fake
    fake.stop()


@pytest.fixture
def runtime(
    tmp_path: Path, db_url: str, fake_slack: FakeSlack, easypost: FakeEasyPostLabels
) -> Iterator[Runtime]:
    slack = {
        "enabled": True,
        "channel": "#orders",
        "base_url": fake_slack.api_url,
        "bot_token": "xoxb-test",
        "signing_secret": SECRET,
    }
    rt = Runtime(label_settings(tmp_path, db_url, easypost.api_base, more={"slack": slack}))
    yield rt
    rt.close()


def response(fake: FakeSlack, count: int) -> dict[str, object]:
    wait_for(lambda: len(fake.responses) >= count)
    return fake.responses[count - 1]


def test_a_label_is_acknowledged_at_once_then_said_in_the_channel_with_its_pdf(
    runtime: Runtime,
    slack: SlackSender,
    fake_slack: FakeSlack,
    easypost: FakeEasyPostLabels,
    policy: ShopPolicy,
) -> None:
    number = factories.submitted_order(runtime.db, policy)
    easypost.latency_s = 0.8  # verify, create, buy and the files: well past 3 s in all
    started = time.monotonic()
    ack = slack.command(f"label {number} --line 1 --qty 1 --rate USPS:Priority")
    assert ack.status_code == 200 and time.monotonic() - started < 3.0
    shared = wait_for(lambda: [m for m in fake_slack.channel_messages() if m.get("files")], 20)

    assert easypost.labels_bought == 1
    text = shared[0]["text"]
    assert f"maria bought a label: order main:{number}, USPS Priority" in text
    with runtime.db.reading() as session:
        order = services.get_order(session, number)
        parcel = order.shipments[0]
        assert text.count(parcel.tracking_number) >= 1
        assert [(line.line_item.position, line.quantity) for line in parcel.lines] == [(1, 1)]
    assert "USD" in text and "(partially shipped)" in text
    assert shared[0]["files"][0]["name"].endswith(".pdf")
    assert fake_slack.uploads[shared[0]["files"][0]["id"]].startswith(b"%PDF")
    assert [c.method for c in fake_slack.calls if c.method.startswith("files.")] == [
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    ]
    assert fake_slack.responses == []  # nothing private: the channel saw it
    assert status_of(runtime, number) == OrderStatus.PARTIALLY_SHIPPED


def test_refusals_are_private_with_the_reason_and_buy_nothing(
    runtime: Runtime,
    slack: SlackSender,
    fake_slack: FakeSlack,
    easypost: FakeEasyPostLabels,
    policy: ShopPolicy,
) -> None:
    db = runtime.db
    elsewhere = factories.submitted_order(db, ShopPolicy({"main": StorePolicy(24, "cc")}, []))
    cancelled = factories.received_order(db, policy)
    with db.unit_of_work() as session:
        services.cancel(session, cancelled, STAFF, "customer changed their mind")
    labelled = factories.shipped_order(db, policy)
    unverified = factories.submitted_order(
        db, policy, shipping_address={**factories.ADDRESS, "address_1": "Main Street"}
    )
    open_order = factories.submitted_order(db, policy)
    before = snapshot(db)
    cases = [
        (f"label {elsewhere}", "is not made by the shop (provider: cc)", None),
        (f"label {cancelled}", "is cancelled: no label", None),
        (f"label {labelled}", "is shipped: every item already has its parcel", None),
        (f"label {unverified}", "the shipping address does not verify", None),
        (f"label {open_order}", "no rate for this parcel", "no rate"),
        (f"label {open_order}", "refused the payment", Failure(402, "PAYMENT.REQUIRED", "No.")),
        (f"label {open_order}", "rate limiting", Failure(429, "RATE_LIMITED", "Slow down.")),
    ]
    for n, (typed, reason, fault) in enumerate(cases, 1):
        if fault == "no rate":
            easypost.no_rates_zips.add("62701")
        elif isinstance(fault, Failure):
            easypost.no_rates_zips.clear()
            easypost.fail_next(Failure(fault.status, fault.code, fault.message, path="/buy"))
        slack.command(typed)
        answer = response(fake_slack, n)
        assert reason in str(answer["text"]), typed
        assert answer["response_type"] == "ephemeral"
    assert easypost.labels_bought == 0
    assert not [m for m in fake_slack.channel_messages() if m.get("files")]
    statuses, _events = snapshot(db)
    assert statuses == before[0]  # every order as it was


def test_usage_mistakes_are_answered_in_the_ack(
    runtime: Runtime, slack: SlackSender, policy: ShopPolicy
) -> None:
    number = factories.submitted_order(runtime.db, policy)
    answer = slack.command(f"label {number} --qty 1").json()["text"]
    assert "give `--qty` after the `--line` it counts" in answer
    assert "/order label 1234 [--line L] [--qty Q]" in answer
    answer = slack.command(f"label {number} overnight").json()["text"]
    assert "`overnight` is not an option of `label`" in answer
