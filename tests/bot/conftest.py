"""Fixtures for the Slack tests: the fake Slack Web API, a runtime pointed at
it, the real web server (uvicorn in a thread) and a client that signs requests
the way Slack does."""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import uvicorn
from PIL import Image
from pydantic import SecretStr
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import func, select

from podops import services
from podops.db import Database
from podops.events import Actor
from podops.models import Event, Order
from podops.runtime.root import Runtime
from podops.runtime.web import build_asgi_app
from podops.settings import DatabaseConfig, Settings, SlackConfig
from tests.fakes.slack import FakeSlack
from tests.rendered import Rendered

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
_ids = itertools.count(1)


def wait_for(predicate: Callable[[], Any], timeout: float = 8.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("timed out waiting for the condition")


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


def slack_settings(db_url: str, fake: FakeSlack, **slack: Any) -> Settings:
    config = SlackConfig(
        enabled=True,
        channel="#orders",
        base_url=fake.api_url,
        bot_token=SecretStr("xoxb-test"),
        signing_secret=SecretStr(SECRET),
        **slack,
    )
    return Settings(database=DatabaseConfig(url=db_url), slack=config)


@pytest.fixture
def allowed_users() -> dict[str, list[str]]:
    return {"cancel": ["U1", "S0MANAGERS"], "submit": ["U1"]}


@pytest.fixture
def runtime(
    db_url: str, fake_slack: FakeSlack, allowed_users: dict[str, list[str]]
) -> Iterator[Runtime]:
    rt = Runtime(slack_settings(db_url, fake_slack, allowed_users=allowed_users))
    yield rt
    rt.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(runtime: Runtime) -> Iterator[str]:
    """The real web server with the Slack routes, on loopback."""
    from bot.http import routes

    port = free_port()
    config = uvicorn.Config(
        build_asgi_app(runtime, [routes]), host="127.0.0.1", port=port, log_level="warning"
    )
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    wait_for(lambda: uv.started)
    yield f"http://127.0.0.1:{port}"
    uv.should_exit = True
    thread.join(5)


@dataclass
class SlackSender:
    """Sends what Slack sends: signed form posts and JSON events."""

    base_url: str
    fake: FakeSlack
    secret: str = SECRET
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=10))

    def post(
        self,
        path: str,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        secret: str | None = None,
        retry: int | None = None,
    ) -> httpx.Response:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        signature = str(
            SignatureVerifier(secret or self.secret).generate_signature(timestamp=ts, body=body)
        )
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature,
        }
        if retry is not None:
            headers["X-Slack-Retry-Num"] = str(retry)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        return self.client.post(self.base_url + path, content=body, headers=headers)

    def command_body(
        self, text: str, *, user: str = "U1", name: str = "maria", trigger: str | None = None
    ) -> str:
        return urlencode(
            {
                "token": "legacy",
                "team_id": "T0SHOP",
                "team_domain": "shop",
                "channel_id": "C0ORDERS",
                "channel_name": "orders",
                "user_id": user,
                "user_name": name,
                "command": "/order",
                "text": text,
                "api_app_id": "A0APP",
                "is_enterprise_install": "false",
                "response_url": self.fake.response_url(f"cmd{next(_ids)}"),
                "trigger_id": trigger or f"trig.{next(_ids)}",
            }
        )

    def command(self, text: str, **kwargs: Any) -> httpx.Response:
        options = {k: kwargs.pop(k) for k in ("timestamp", "secret", "retry") if k in kwargs}
        body = self.command_body(text, **kwargs)
        return self.post("/slack/commands", body, "application/x-www-form-urlencoded", **options)

    def interaction(self, payload: dict[str, Any]) -> httpx.Response:
        body = urlencode({"payload": json.dumps(payload)})
        return self.post("/slack/interactions", body, "application/x-www-form-urlencoded")

    def button(self, action: str, reference: str, *, user: str = "U1") -> httpx.Response:
        return self.interaction(
            {
                "type": "block_actions",
                "user": {"id": user, "username": "maria", "name": "maria", "team_id": "T0SHOP"},
                "api_app_id": "A0APP",
                "token": "legacy",
                "trigger_id": f"trig.{next(_ids)}",
                "container": {
                    "type": "message",
                    "message_ts": "1700000000.000001",
                    "channel_id": "C0ORDERS",
                    "is_ephemeral": False,
                },
                "team": {"id": "T0SHOP", "domain": "shop"},
                "channel": {"id": "C0ORDERS", "name": "orders"},
                "message": {"ts": "1700000000.000001", "text": "alert"},
                "response_url": self.fake.response_url(f"btn{next(_ids)}"),
                "actions": [
                    {
                        "action_id": f"order_{action}",
                        "block_id": f"order:{reference}",
                        "type": "button",
                        "value": reference,
                        "action_ts": f"{time.time():.6f}",
                    }
                ],
            }
        )

    def submit_view(
        self,
        callback_id: str,
        values: dict[str, Any],
        metadata: dict[str, str],
        *,
        user: str = "U1",
    ) -> httpx.Response:
        return self.interaction(
            {
                "type": "view_submission",
                "team": {"id": "T0SHOP", "domain": "shop"},
                "user": {"id": user, "username": "maria", "name": "maria", "team_id": "T0SHOP"},
                "api_app_id": "A0APP",
                "token": "legacy",
                "trigger_id": f"trig.{next(_ids)}",
                "view": {
                    "id": f"V{next(_ids)}",
                    "type": "modal",
                    "callback_id": callback_id,
                    "private_metadata": json.dumps(metadata),
                    "hash": "h",
                    "state": {"values": values},
                },
                "response_urls": [],
            }
        )

    def event(self, event: dict[str, Any]) -> httpx.Response:
        body = json.dumps(
            {
                "token": "legacy",
                "team_id": "T0SHOP",
                "api_app_id": "A0APP",
                "event": event,
                "type": "event_callback",
                "event_id": f"Ev{next(_ids)}",
                "event_time": int(time.time()),
            }
        )
        return self.post("/slack/events", body, "application/json")


@pytest.fixture
def slack(server: str, fake_slack: FakeSlack) -> Iterator[SlackSender]:
    sender = SlackSender(server, fake_slack)
    yield sender
    sender.client.close()


def snapshot(db: Database) -> tuple[list[tuple[str, str]], int]:
    """Every order's status and the event count: 'nothing changed' means equal."""
    with db.unit_of_work() as session:
        statuses = [(o.number, str(o.status)) for o in session.scalars(select(Order))]
        events = int(session.scalar(select(func.count()).select_from(Event)) or 0)
    return sorted(statuses), events


class FakeSubmission:
    """A stand-in for `runtime.submission` (the fulfillment port): submits at once."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.calls: list[str] = []

    def submit_now(self, reference: str, actor: Actor) -> Order:
        self.calls.append(reference)
        with self.db.unit_of_work() as session:
            order = services.get_order(session, reference, for_update=True)
            services.begin_submit(session, order, services.plan_fulfillments(session, order), actor)
        with self.db.unit_of_work() as session:
            order = services.get_order(session, reference, for_update=True)
            services.mark_submitted(
                session, order, order.parts[0], actor, provider_order_id=f"P-{order.number}"
            )
            return order


@dataclass
class Outcome:
    reference: str
    ok: bool
    preview_path: Path | None
    message: str
    preview: str | None = None
    """Where the preview is kept (`podops.ports.storage`): here, its path."""


class FakePrintFiles:
    """A stand-in for `runtime.print_files`: writes a small preview per line."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.calls: list[tuple[str, list[int] | None]] = []

    def render_order(
        self, reference: str, actor: Actor, positions: list[int] | None = None
    ) -> list[Outcome]:
        self.calls.append((reference, positions))
        outcomes = []
        for position in positions or [1]:
            path = self.folder / f"{reference.replace(':', '_')}-{position}-preview.png"
            Image.new("RGB", (40, 30), "navy").save(path)
            outcomes.append(
                Outcome(f"{reference}-{position:02d}", True, path, "rendered", str(path))
            )
        return outcomes

    def render_detached(
        self,
        canonical: str,
        position: int,
        product_key: str,
        personalization: dict[str, Any],
        image_urls: dict[str, Any],
        crops: dict[str, Any] | None = None,
    ) -> Rendered:
        self.calls.append((canonical, [position]))
        revision = len(self.calls)
        stem = f"{canonical.replace(':', '_')}-{position}-r{revision:03d}"
        preview = self.folder / f"{stem}-preview.png"
        Image.new("RGB", (40, 30), "teal").save(preview)
        return Rendered(self.folder / f"{stem}.png", preview, "cd" * 32, revision)
