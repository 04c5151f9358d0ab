"""No outside call inside a transaction: while the outbox waits on a shop that
answers after 10 s, a store webhook and a Slack command are still answered and
stored within a second.

On SQLite every transaction takes the write lock at BEGIN, so a push made
inside one would hold every other writer for the length of the shop's answer.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from pydantic import SecretStr
from sqlalchemy import select

from podops import services
from podops.models import Order
from podops.runtime.root import Runtime
from podops.runtime.web import build_asgi_app
from podops.settings import DatabaseConfig, Settings, SlackConfig
from podops.status import OrderStatus
from sync.intake import sync_one
from sync.pushback import drain
from sync.webhooks import routes as webhook_routes
from sync.webhooks import signature_for
from tests.bot.conftest import SECRET, SlackSender, free_port, wait_for
from tests.factories import STAFF, SYSTEM
from tests.fakes.slack import FakeSlack
from tests.fakes.woocommerce import FakeWooCommerce
from tests.fakes.woocommerce_orders import sample_order
from tests.intake.conftest import WEBHOOK_SECRET, store_config

SLOW_SHOP_S = 10.0
PROMPT_S = 1.0


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


@pytest.fixture
def runtime(
    db_url: str, tmp_path: Path, shop: FakeWooCommerce, fake_slack: FakeSlack
) -> Iterator[Runtime]:
    """One service: the shop (its client's own timeouts, longer than the shop's
    10 s), and Slack; both talk to fakes on 127.0.0.1."""
    slack = SlackConfig(
        enabled=True,
        channel="#orders",
        base_url=fake_slack.api_url,
        bot_token=SecretStr("xoxb-test"),
        signing_secret=SecretStr(SECRET),
    )
    settings = Settings(
        data_dir=tmp_path,
        database=DatabaseConfig(url=db_url),
        stores={"main": store_config(shop.url)},
        slack=slack,
    )
    rt = Runtime(settings)
    yield rt
    rt.close()


@contextmanager
def pushing_to(shop: FakeWooCommerce, runtime: Runtime) -> Iterator[threading.Thread]:
    """The store push-back drain, running in another thread until the shop answers."""
    drain_thread = threading.Thread(target=drain, args=(runtime,), daemon=True)
    drain_thread.start()
    try:
        yield drain_thread
    finally:
        shop.answer_now()
        drain_thread.join(SLOW_SHOP_S)


@pytest.fixture
def server(runtime: Runtime) -> Iterator[str]:
    """The real web server with the store webhook and the Slack routes."""
    from bot.http import routes as slack_routes

    port = free_port()
    app = build_asgi_app(runtime, [webhook_routes, slack_routes])
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    wait_for(lambda: uv.started)
    yield f"http://127.0.0.1:{port}"
    uv.should_exit = True
    thread.join(5)


def shipped(runtime: Runtime, order_id: int) -> None:
    """An order of the shop, shipped: its tracking and "completed" wait in the outbox."""
    number = str(order_id)
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, number)
        services.begin_submit(session, order, services.plan_fulfillments(session, order), SYSTEM)
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, number)
        services.mark_submitted(
            session, order, order.parts[0], SYSTEM, provider_order_id=f"P-{number}"
        )
    with runtime.db.unit_of_work() as session:
        services.record_tracking(session, number, "UPS", "1Z999AA10123456784", STAFF)


def status_of(runtime: Runtime, number: str) -> OrderStatus | None:
    with runtime.db.unit_of_work() as session:
        order = session.scalar(select(Order).where(Order.number == number))
        return None if order is None else OrderStatus(order.status)


def webhook(base_url: str, order: dict[str, object]) -> httpx.Response:
    body = json.dumps(order).encode()
    headers = {
        "content-type": "application/json",
        "x-wc-webhook-topic": "order.created",
        "x-wc-webhook-resource": "order",
        "x-wc-webhook-delivery-id": f"d-{order['id']}",
        "x-wc-webhook-signature": signature_for(body, WEBHOOK_SECRET),
    }
    url = f"{base_url}/webhooks/woocommerce/main"
    return httpx.post(url, content=body, headers=headers, timeout=3 * SLOW_SHOP_S)


def promptly(what: str, started: float, done: Callable[[], object]) -> None:
    """`done()` comes true within PROMPT_S of `started`."""
    while not done():
        elapsed = time.monotonic() - started
        assert elapsed < PROMPT_S, f"{what} took {elapsed:.2f} s and counting"
        time.sleep(0.02)
    elapsed = time.monotonic() - started
    assert elapsed < PROMPT_S, f"{what} took {elapsed:.2f} s"


def test_a_slow_shop_push_holds_up_no_webhook_and_no_slack_command(
    runtime: Runtime, shop: FakeWooCommerce, fake_slack: FakeSlack, server: str
) -> None:
    placed = datetime.now(UTC) - timedelta(hours=1)
    shop.add(sample_order(1001, created=placed), sample_order(1002, created=placed))
    sync_one(runtime, "main")
    shipped(runtime, 1001)
    shop.delay_next(1, SLOW_SHOP_S, method="POST")  # the tracking reaches the shop after 10 s
    slack = SlackSender(server, fake_slack)
    with pushing_to(shop, runtime) as push:
        wait_for(lambda: shop.state.count("POST", "/orders/1001/shipment-trackings"))

        started = time.monotonic()
        answer = webhook(server, sample_order(1003, created=placed))
        promptly("the webhook's answer", started, lambda: answer.status_code == 200)
        promptly("storing the webhook's order", started, lambda: status_of(runtime, "1003"))

        started = time.monotonic()
        answer = slack.command("hold 1002 customer asked to wait")
        promptly("the /order hold answer", started, lambda: answer.status_code == 200)
        held = OrderStatus.ON_HOLD
        promptly("storing the hold", started, lambda: status_of(runtime, "1002") == held)
        promptly("the private reply", started, lambda: fake_slack.responses)

        assert push.is_alive(), "the shop was still answering the push meanwhile"
        connections = runtime.db.engine.pool.checkedout()  # type: ignore[attr-defined]
        assert connections == 0, "the push holds no connection, so no transaction"
    slack.client.close()
    assert not push.is_alive()
    assert [t["tracking_number"] for t in shop.state.trackings[1001]] == ["1Z999AA10123456784"]
    assert status_of(runtime, "1001") == OrderStatus.COMPLETED
