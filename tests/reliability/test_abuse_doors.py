"""Every door of the one web server (the app `podops run --role web` serves, with
every route module): oversized bodies, declared or streamed, are refused with 413
before they are read whole; malformed requests (bodies that are not JSON, links
with odd expiries, tokens in other scripts) answer 4xx with a reason and one log
line, never a 500 or a traceback."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr
from sqlalchemy import func, select
from starlette.routing import Route

from podops.db import Database
from podops.models import Event, InboundDelivery, Order
from podops.runtime.body_limits import DEFAULT_MAX_BODY_BYTES
from podops.runtime.instance import build_web_app
from podops.runtime.root import Runtime
from podops.settings import ProviderConfig, RenderConfig, Settings, SlackConfig
from tests.asgi_client import AsgiClient
from tests.intake.conftest import store_config
from tests.reliability.conftest import WEBHOOK_SECRET, Outcome, tried
from tests.reliability.test_abuse_requests import FUZZ

KB = 1024
WEBHOOK = "/webhooks/woocommerce/main"
CALLBACK = "/providers/shine/shipments/main-1001/0123456789abcdef"
# (path, the limit the route module declares)
DOORS = {
    WEBHOOK: 2048 * KB,
    CALLBACK: 1024 * KB,
    "/slack/commands": 64 * KB,
    "/slack/events": 512 * KB,
    "/slack/interactions": 1024 * KB,
}


@pytest.fixture
def every_route(db: Database, tmp_path: Path) -> Iterator[Runtime]:
    """A runtime with every door open: a WooCommerce store with a webhook secret,
    Slack over HTTP, a ShineOn provider (callbacks) and print-file links."""
    settings = Settings(
        data_dir=tmp_path,
        stores={
            "main": store_config("https://shop.example", webhook_secret=SecretStr(WEBHOOK_SECRET))
        },
        providers={"shine": ProviderConfig(kind="shineon", api_key=SecretStr("shineon-doors-key"))},
        slack=SlackConfig(
            enabled=True,
            base_url="http://127.0.0.1:9/api/",
            bot_token=SecretStr("xoxb-doors"),
            signing_secret=SecretStr("slack-doors-signing-secret"),
        ),
        render=RenderConfig(link_secret=SecretStr("render-doors-link-secret-0123")),
    )
    runtime = Runtime(settings)
    runtime.__dict__["db"] = db
    yield runtime
    runtime.close()


@pytest.fixture
def web(every_route: Runtime) -> AsgiClient:
    return AsgiClient(build_web_app(every_route))


def stored(db: Database) -> tuple[int, int, int]:
    with db.unit_of_work() as session:
        return tuple(  # type: ignore[return-value]
            int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in (Order, Event, InboundDelivery)
        )


def test_every_door_with_a_body_declares_its_limit(every_route: Runtime) -> None:
    app = build_web_app(every_route)
    posts = {r.path for r in app.routes if isinstance(r, Route) and "POST" in (r.methods or ())}
    from podops.runtime.body_limits import declared_limits
    from podops.runtime.instance import ROUTE_MODULES

    modules = [__import__(name, fromlist=["routes"]).routes for name in ROUTE_MODULES]
    assert posts and posts <= set(declared_limits(modules))


def test_oversized_bodies_are_refused_before_they_are_read(
    web: AsgiClient, db: Database, record: list[Outcome]
) -> None:
    """What an attacker sends: a declared 100 MB body, a body one byte over the
    route's limit, and a chunked body with no Content-Length that never ends."""
    answers: dict[str, list[int]] = {}
    streamed_bytes: dict[str, int] = {}
    for path, limit in DOORS.items():
        declared = {"content-length": str(100 * 1024 * KB), "content-type": "application/json"}
        huge = web.post(path, content=b"{}", headers=declared)
        over = web.post(path, content=b"x" * (limit + 1), headers={"content-type": "text/plain"})
        sent = [0]

        async def endless(sent: list[int] = sent) -> AsyncIterator[bytes]:
            for _ in range(10_000):  # 640 MB if nobody stops reading
                sent[0] += 64 * KB
                yield b"{" * (64 * KB)

        chunked = web.post(path, content=endless(), headers={"content-type": "application/json"})
        answers[path] = [huge.status_code, over.status_code, chunked.status_code]
        streamed_bytes[path] = sent[0]
        assert "larger than" in over.json()["error"] and "larger than" in chunked.json()["error"]
    record.append(
        Outcome(
            "oversized bodies on every inbound route (declared 100 MB, one byte over the "
            "route's limit, chunked without a length)",
            "abuse",
            "413 with the limit in words before the body is read whole; nothing stored",
            bad_inputs=3 * len(DOORS),
        )
    )
    assert all(codes == [413, 413, 413] for codes in answers.values()), answers
    assert all(sent <= DOORS[path] + 128 * KB for path, sent in streamed_bytes.items())
    assert stored(db) == (0, 0, 0)


def test_a_body_within_the_limit_still_reaches_its_route(web: AsgiClient) -> None:
    """The limit refuses only what is too large: an unsigned body of exactly the
    limit is the route's to judge (401 for a missing signature)."""
    for path in ("/slack/commands", WEBHOOK):
        body = b"a" * DOORS[path]
        answer = web.post(path, content=body, headers={"content-type": "application/json"})
        assert answer.status_code == 401
    assert web.get("/healthz", content=b"x" * (DEFAULT_MAX_BODY_BYTES + 1)).status_code == 413
    bad_length = web.post(WEBHOOK, content=b"{}", headers={"content-length": "²".encode()})
    assert bad_length.status_code == 400


MALFORMED_SLACK = [
    ("application/json", b"not json"),
    ("application/json", b"[1, 2]"),
    ("application/json", b"\xff\xfe\x00"),
    ("application/x-www-form-urlencoded", b"payload=not-json"),
    ("application/x-www-form-urlencoded", b"payload=%5B%5D"),
    ("text/plain", b""),
]
MALFORMED_LINKS = [
    "exp=%C2%B2&sig=00",
    "exp=%D9%A3&sig=00",
    "exp=99999999999&sig=%C3%A9",
    "exp=&sig=",
]


def test_malformed_requests_answer_4xx_with_one_line(
    web: AsgiClient, caplog: pytest.LogCaptureFixture, record: list[Outcome]
) -> None:
    """Unsigned bodies that are not JSON on the Slack routes, and print-file links
    whose expiry is '²' (a digit to str.isdigit, not to int) or whose signature is
    not ASCII, answered 500 with a traceback."""
    caplog.set_level(logging.INFO)
    answers = [
        web.post(path, content=body, headers={"content-type": kind}).status_code
        for path in ("/slack/events", "/slack/commands", "/slack/interactions")
        for kind, body in MALFORMED_SLACK
    ]
    answers += [web.get(f"/files/x.png?{query}").status_code for query in MALFORMED_LINKS]
    answers.append(web.post(CALLBACK.replace("0123", "é012"), content=b"{}").status_code)
    record.append(
        Outcome(
            "malformed requests (Slack bodies that are not JSON or not UTF-8, link expiry '²', "
            "non-ASCII signatures and tokens)",
            "abuse",
            "4xx with a reason and one log line; never a 500 or a traceback",
            bad_inputs=len(answers),
        )
    )
    assert all(400 <= code < 500 for code in answers), answers
    assert [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR] == []


FUZZED_DOORS = Outcome(
    "fuzzed requests on every route (hypothesis: any bytes, content type, signature, "
    "timestamp, path segment and link query)",
    "abuse",
    "4xx (or 200 for a valid ping); never a 5xx, never a traceback",
)
header_text = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FFF), max_size=40)


@FUZZ
@given(
    body=st.binary(max_size=300) | st.builds(lambda v: json.dumps(v).encode(), st.from_type(dict)),
    kind=st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain"]),
    signature=header_text,
    timestamp=header_text,
    segment=st.text(min_size=1, max_size=20),
    query=st.dictionaries(st.sampled_from(["exp", "sig", "x"]), header_text, max_size=3),
)
def test_fuzzed_requests_never_answer_5xx(
    web: AsgiClient,
    record: list[Outcome],
    caplog: pytest.LogCaptureFixture,
    body: bytes,
    kind: str,
    signature: str,
    timestamp: str,
    segment: str,
    query: dict[str, str],
) -> None:
    request = (body, kind, signature, timestamp, segment, sorted(query.items()))
    tried(record, FUZZED_DOORS, repr(request))  # one request sent to every route
    headers = {  # as raw bytes, the way any client may send them
        "content-type": kind.encode(),
        "x-slack-signature": signature.encode(),
        "x-slack-request-timestamp": timestamp.encode(),
        "x-wc-webhook-signature": signature.encode(),
    }
    segment = quote(segment, safe="")
    posts = [WEBHOOK, f"/webhooks/woocommerce/{segment}", CALLBACK, f"{CALLBACK[:-16]}{segment}"]
    posts += ["/slack/events", "/slack/commands", "/slack/interactions"]
    answers = [web.post(path, content=body, headers=headers).status_code for path in posts]
    answers.append(web.get(f"/files/{segment}", params=query).status_code)
    assert all(code < 500 for code in answers), answers
    assert [r for r in caplog.records if r.exc_info] == []
