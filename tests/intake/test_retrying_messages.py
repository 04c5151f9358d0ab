"""Messages that keep failing are seen long before they are parked: `podops status`
lists them with the store's reason, the daily summary names them in one line, and
the channel gets one warning per message (not one per retry, not again after a
restart), and nothing is shown once they are delivered."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import update
from typer.testing import CliRunner

from podops.db import Database
from podops.logs import remember_secrets
from podops.models import OutboxMessage
from podops.notify import retrying as warnings
from podops.notify.summary import build_summary, enqueue_daily_summary
from podops.outbox import Topic
from podops.runtime.root import Runtime
from podops.runtime.status_report import build
from podops.settings import DatabaseConfig, RoutingRule, Settings, SlackConfig, StoreConfig
from providers.shopify import ShopifyStore, build_client
from sync import notify_job, pushback
from sync.console_notifier import summary_text
from sync.intake import sync_one
from tests.fakes.shopify import FakeShopify
from tests.fakes.slack import FakeSlack
from tests.fakes.woocommerce import FakeWooCommerce
from tests.fakes.woocommerce_orders import sample_order
from tests.intake.conftest import FAST_RETRY, store_config
from tests.intake.shopify_setup import shopify_config
from tests.intake.test_pushback import shipped


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


def _runtime(
    db_url: str, tmp_path: Path, slack: FakeSlack, name: str, store: StoreConfig
) -> Runtime:
    settings = Settings(
        data_dir=tmp_path,
        database=DatabaseConfig(url=db_url),
        stores={name: store},
        routing=[RoutingRule(sku="TEE-*", provider="manual", product_key="tee_front")],
        slack=SlackConfig(
            enabled=True,
            channel="#orders",
            base_url=slack.api_url,
            bot_token=SecretStr("xoxb-test"),
            signing_secret=SecretStr("8f742231b10e8888abcd99yyyzzz85a5"),
        ),
    )
    runtime = Runtime(settings)
    clients = runtime._store_clients[1]
    if store.platform == "shopify":
        clients[name] = ShopifyStore(name, store, build_client(name, store, timeout=5.0))
    else:
        from providers.woocommerce import WooCommerceStore
        from providers.woocommerce import build_client as woo_client

        clients[name] = WooCommerceStore(
            name, store, woo_client(name, store, timeout=2.0), retry=FAST_RETRY
        )
    return runtime


def _due_now(db: Database) -> None:
    """Let the outbox retry at once instead of after its back-off."""
    with db.unit_of_work() as session:
        session.execute(update(OutboxMessage).values(next_attempt_at=datetime.now(UTC)))


def _status(db_url: str, tmp_path: Path, *command: str) -> str:
    from podops.cli.main import app

    config = tmp_path / "status.toml"
    config.write_text(f'data_dir = "{tmp_path.as_posix()}"\n[database]\nurl = "{db_url}"\n')
    shown = CliRunner().invoke(app, ["--config", str(config), *(command or ["status"])])
    assert shown.exit_code == 0, shown.output
    return str(shown.output)


def _completion_waits_behind_its_tracking(runtime: Runtime) -> None:
    """A drain where only the "completed" is due: it is deferred behind its tracking."""
    with runtime.db.unit_of_work() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.topic == Topic.STORE_TRACKING)
            .values(next_attempt_at=datetime.now(UTC) + timedelta(hours=1))
        )
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.topic == Topic.STORE_STATUS)
            .values(next_attempt_at=datetime.now(UTC))
        )
    pushback.drain(runtime)


def _warnings(slack: FakeSlack) -> list[str]:
    texts = [str(call.params.get("blocks", "")) for call in slack.calls_to("chat.postMessage")]
    return [text for text in texts if "keeps failing" in text or "keep failing" in text]


def _summary_blocks(slack: FakeSlack) -> list[dict[str, Any]]:
    for call in slack.calls_to("chat.postMessage"):
        blocks = call.params.get("blocks") or []
        if blocks and "Daily summary" in str(blocks[0]):
            return list(blocks)
    raise AssertionError("no daily summary posted")


def test_an_order_held_by_another_shopify_app_is_shown_warned_once_and_gone_when_sent(
    db: Database, db_url: str, tmp_path: Path, slack: FakeSlack
) -> None:
    with FakeShopify(restore_rate=10_000.0) as shop:
        held = shop.state.add_order(1001)
        shop.state.hold_by(held["fulfillmentOrders"][0], "Fraud Filter", "HIGH_RISK_OF_FRAUD")
        runtime = _runtime(db_url, tmp_path, slack, "shop", shopify_config(shop.url))
        assert sync_one(runtime, "shop").created == 1
        shipped(runtime, "1001")

        pushback.drain(runtime)
        assert "Retrying" not in _status(db_url, tmp_path)  # one failure: not yet
        notify_job.drain(runtime)
        assert _warnings(slack) == []

        for _ in range(2):  # the third failure crosses the threshold
            _due_now(runtime.db)
            pushback.drain(runtime)
        shown = _status(db_url, tmp_path)
        assert "Retrying (failed 3+ times or waiting over 30 min): 1" in shown
        assert "retrying order 1001 tracking: 3 attempts, waiting " in shown
        assert "Fraud Filter" in shown

        notify_job.drain(runtime)
        [warning] = _warnings(slack)
        assert "Order 1001: tracking keeps failing (3 attempts since" in warning
        assert "Fraud Filter" in warning

        _due_now(runtime.db)
        pushback.drain(runtime)  # a fourth failure
        notify_job.drain(runtime)
        runtime.close()
        restarted = _runtime(db_url, tmp_path, slack, "shop", shopify_config(shop.url))
        notify_job.drain(restarted)
        assert len(_warnings(slack)) == 1  # not on every retry, not after a restart

        summary = build_summary(restarted.db, restarted.settings, datetime.now(UTC).date())
        assert (summary.retrying, summary.retrying_first) == (1, ["1001 (tracking)"])
        tomorrow = datetime.now(UTC) + timedelta(days=1)
        assert enqueue_daily_summary(restarted.db, restarted.settings, tomorrow)
        notify_job.drain(restarted)
        lines = [str(block) for block in _summary_blocks(slack)]
        [line] = [text for text in lines if "*Retrying*" in text]
        assert "1 store or Slack message(s) keep failing: 1001 (tracking)" in line

        _completion_waits_behind_its_tracking(restarted)
        later = datetime.now(UTC) + timedelta(minutes=31)
        with restarted.db.reading() as session:
            kinds = [item.kind for item in build(session, later).retrying]
        assert kinds == ["tracking", "status (completed)"]  # both listed...
        assert warnings.warn_new(restarted.db, later) == 0  # ...one warning: the cause

        fo = held["fulfillmentOrders"][0]
        fo["holds"], fo["status"] = [], "OPEN"  # released in Shopify
        _due_now(restarted.db)
        pushback.drain(restarted)
        assert [f["tracking"][0]["number"] for f in held["fulfillments"]] == ["1Z999AA10123456784"]
        assert "Retrying" not in _status(db_url, tmp_path)
        assert "Nothing has failed" in _status(db_url, tmp_path, "outbox", "retrying")
        summary = build_summary(restarted.db, restarted.settings, datetime.now(UTC).date())
        assert (summary.retrying, summary.retrying_first) == (0, [])
        restarted.close()


def test_a_failing_woocommerce_shows_a_bounded_list_and_one_warning_for_the_burst(
    db: Database, db_url: str, tmp_path: Path, slack: FakeSlack
) -> None:
    with FakeWooCommerce() as shop:
        placed = datetime.now(UTC) - timedelta(hours=1)
        shop.add(*(sample_order(1001 + i, created=placed) for i in range(12)))
        runtime = _runtime(db_url, tmp_path, slack, "main", store_config(shop.url))
        assert sync_one(runtime, "main").created == 12
        for i in range(12):
            shipped(runtime, str(1001 + i))
        shop.fail_next(1000)  # the shop answers 500 to everything

        pushback.drain(runtime)
        later = datetime.now(UTC) + timedelta(minutes=31)  # one failure, half an hour on
        with runtime.db.reading() as session:
            report = build(session, later)
        assert report.retrying_total == 12 and len(report.retrying) == 10
        assert report.retrying[0].order == "1001" and report.retrying[0].attempts == 1
        assert "500" in report.retrying[0].error

        assert warnings.warn_new(runtime.db, later) == 12
        assert warnings.warn_new(runtime.db, later) == 0
        notify_job.drain(runtime)
        [warning] = _warnings(slack)  # one post for the twelve, not twelve
        assert "12 store or Slack messages keep failing" in warning
        assert "Order 1001: tracking keeps failing (1 attempt since" in warning
        assert "and 4 more" in warning

        for _ in range(2):
            _due_now(runtime.db)
            pushback.drain(runtime)
        shown = _status(db_url, tmp_path)
        assert "Retrying (failed 3+ times or waiting over 30 min): 12" in shown
        assert "and 2 more (podops outbox retrying lists them all)" in shown
        listed = _status(db_url, tmp_path, "outbox", "retrying")
        assert all(f"{1001 + i}" in listed for i in range(12))
        console = summary_text(build_summary(runtime.db, runtime.settings, later.date()))
        assert (
            "  retrying: 12 store or Slack message(s) keep failing: 1001 (tracking), "
            "1002 (tracking), 1003 (tracking), 1004 (tracking), 1005 (tracking), ..."
        ) in console
        notify_job.drain(runtime)
        assert len(_warnings(slack)) == 1
        runtime.close()


def test_a_warning_not_yet_posted_is_dropped_once_its_message_went(
    db: Database, db_url: str, tmp_path: Path, slack: FakeSlack
) -> None:
    with FakeWooCommerce() as shop:
        shop.add(sample_order(1001, created=datetime.now(UTC) - timedelta(hours=1)))
        runtime = _runtime(db_url, tmp_path, slack, "main", store_config(shop.url))
        sync_one(runtime, "main")
        shipped(runtime, "1001")
        shop.fail_next(1000)
        for _ in range(3):
            _due_now(runtime.db)
            pushback.drain(runtime)
        assert warnings.warn_new(runtime.db) == 1
        shop.state.faults.clear()  # the shop is back before Slack heard of it
        _due_now(runtime.db)
        pushback.drain(runtime)
        notify_job.drain(runtime)
        assert _warnings(slack) == []
        assert "Retrying" not in _status(db_url, tmp_path)
        runtime.close()


def test_status_masks_secrets_in_a_retrying_message_s_error(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    from podops.outbox import Outgoing, enqueue

    token = "shpat_retry_secret_91f3"
    remember_secrets([token])
    with db.unit_of_work() as session:
        payload = {"order_id": 0, "status": "completed"}
        row = enqueue(session, Outgoing(Topic.STORE_STATUS, "store.status:0:completed", payload))
        assert row is not None
        row.attempts = 3
        row.last_error = f"RuntimeError: GET /admin?token={token} failed"  # a bug's text
    with db.reading() as session:
        [item], total = build(session).retrying, build(session).retrying_total
    assert total == 1 and item.kind == "status (completed)"
    assert token not in item.error and "[redacted]" in item.error
