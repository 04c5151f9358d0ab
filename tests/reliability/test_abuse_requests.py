"""Forged, replayed, fuzzed and unauthorized requests into the real web app:
WooCommerce webhooks (HMAC) and Slack commands, buttons and events (signed
requests). Each is refused or applied once; nothing is stored that should not be."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from sqlalchemy import func, select

from podops import services
from podops.db import Database
from podops.models import Event, InboundDelivery, Order
from podops.runtime.root import Runtime
from podops.runtime.web import build_asgi_app
from podops.status import OrderStatus
from sync.webhooks import routes, signature_for
from tests.fakes.woocommerce_orders import gmt, sample_order
from tests.intake.conftest import make_runtime, store_config
from tests.intake.test_webhooks import URL, AsgiClient
from tests.reliability.conftest import WEBHOOK_SECRET, Outcome, tried

FUZZ = settings(
    max_examples=40,
    deadline=None,
    # The same draws every run and on every database: `bad_inputs_tried` counts distinct
    # inputs, so random draws (whose collisions vary) made it differ from run to run
    # (306 vs 311 on one database, 482 over two), and a saved example replayed from
    # .hypothesis/ added to it. Changing the strategy or the test draws new ones.
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@pytest.fixture
def shop_runtime(db: Database, tmp_path: Path) -> Iterator[Runtime]:
    config = store_config("https://shop.example", webhook_secret=SecretStr(WEBHOOK_SECRET))
    yield make_runtime(db, tmp_path, {"main": config})


@pytest.fixture
def web(shop_runtime: Runtime) -> AsgiClient:
    return AsgiClient(build_asgi_app(shop_runtime, [routes]))


def deliver(
    web: AsgiClient, body: bytes, *, delivery: str, topic: str = "order.updated", **headers: str
) -> int:
    sent = {
        "content-type": "application/json",
        "x-wc-webhook-topic": topic,
        "x-wc-webhook-delivery-id": delivery,
        "x-wc-webhook-signature": signature_for(body, WEBHOOK_SECRET),
        **headers,
    }
    return web.post(URL, content=body, headers=sent).status_code


def counts(db: Database) -> tuple[int, int, int]:
    with db.unit_of_work() as session:
        return (
            int(session.scalar(select(func.count()).select_from(Order)) or 0),
            int(session.scalar(select(func.count()).select_from(Event)) or 0),
            int(session.scalar(select(func.count()).select_from(InboundDelivery)) or 0),
        )


def test_forged_webhooks_store_nothing(
    web: AsgiClient, db: Database, record: list[Outcome]
) -> None:
    body = json.dumps(sample_order(4001)).encode()
    forged = [
        {"x-wc-webhook-signature": signature_for(body, "guessed-secret")},
        {"x-wc-webhook-signature": ""},
        {"x-wc-webhook-signature": "A" * 44},
        {"x-wc-webhook-signature": signature_for(body + b" ", WEBHOOK_SECRET)},
        {"x-wc-webhook-signature": signature_for(body, WEBHOOK_SECRET).lower()},
    ]
    answers = [deliver(web, body, delivery=f"forged-{i}", **h) for i, h in enumerate(forged)]
    tampered = body.replace(b"Paris", b"Evil!")
    sent = {"x-wc-webhook-signature": signature_for(body, WEBHOOK_SECRET)}
    answers.append(deliver(web, tampered, delivery="tampered", **sent))
    record.append(
        Outcome(
            "forged WooCommerce webhooks (wrong key, empty, lower-cased, tampered body)",
            "abuse",
            "401, nothing stored",
            bad_inputs=len(answers),
        )
    )
    assert set(answers) == {401}
    assert counts(db) == (0, 0, 0)


def test_replayed_webhooks_change_nothing(
    web: AsgiClient, shop_runtime: Runtime, db: Database, record: list[Outcome]
) -> None:
    row = Outcome(
        "replayed WooCommerce webhooks (same delivery id; an old body after a cancel)",
        "abuse",
        "applied once; an old order body never revives a cancelled order nor enters its timeline",
        orders=1,
    )
    record.append(row)
    at = datetime.now(UTC) - timedelta(hours=1)
    placed = json.dumps(sample_order(4001, created=at)).encode()
    later = at + timedelta(minutes=5)
    cancelled = json.dumps(sample_order(4001, status="cancelled", created=at, modified=later))
    cancelled = cancelled.encode()
    assert deliver(web, placed, delivery="d1", topic="order.created") == 200
    assert deliver(web, cancelled, delivery="d2") == 200
    after = counts(db)
    replays = [deliver(web, cancelled, delivery="d2") for _ in range(3)]
    # A captured old delivery replayed under a new id must not revive the order.
    replays.append(deliver(web, placed, delivery="d3", topic="order.created"))
    replays.append(deliver(web, placed, delivery="", topic="order.updated"))
    with db.unit_of_work() as session:
        status = services.get_order(session, "4001").status
    orders, _, _ = counts(db)
    row.bad_inputs, row.duplicates = len(replays), orders - 1
    assert set(replays) == {200}
    assert status == OrderStatus.CANCELLED
    with db.unit_of_work() as session:
        actions = [e.action for e in session.scalars(select(Event).order_by(Event.id))]
    assert orders == after[0]
    # The store's modification time is kept: the old body is older, so it is ignored.
    assert actions == ["receive", "cancel"]


def undated(number: int, status: str, created: datetime) -> bytes:
    """A hand-made body without `date_modified_gmt`: it cannot be told old from new."""
    order = sample_order(number, status=status, created=created)
    order.pop("date_modified_gmt", None)
    order.pop("date_modified", None)
    return json.dumps(order).encode()


def test_a_replayed_delivery_is_applied_once_even_when_it_cannot_be_dated(
    web: AsgiClient, db: Database, record: list[Outcome]
) -> None:
    """Undated bodies (RELIABILITY.md's known gaps) are told apart only by the
    delivery: a replay of the shop's "on-hold" after its "processing" must not hold
    the order again, nor add to its timeline."""
    row = Outcome(
        "replayed undated WooCommerce webhook (no modification time) after a later change",
        "abuse",
        "applied once: a replay never undoes the later change nor enters the timeline",
        orders=1,
    )
    record.append(row)
    at = datetime.now(UTC) - timedelta(hours=1)
    placed = json.dumps(sample_order(4002, created=at)).encode()
    assert deliver(web, placed, delivery="u1", topic="order.created") == 200
    held, back = undated(4002, "on-hold", at), undated(4002, "processing", at)
    assert deliver(web, held, delivery="u2") == 200
    assert deliver(web, back, delivery="u3") == 200
    _, applied, _ = counts(db)
    replays = [deliver(web, held, delivery="u2") for _ in range(3)]
    _, after, _ = counts(db)
    with db.unit_of_work() as session:
        status = services.get_order(session, "4002").status
    row.bad_inputs = 1
    row.outside(lost=int(status == OrderStatus.ON_HOLD), duplicates=after - applied)
    assert set(replays) == {200}
    assert status == OrderStatus.PENDING, "a replayed delivery undid a later change"
    assert after == applied, "a replayed delivery entered the timeline again"


DRAWN_AT = datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC)
"""The clock of a drawn order. The input counted is what hypothesis drew, so its
digest must not change with the time it ran (the same draws on every run and
database count once); the body sent carries the current time in its place."""


def mutated_order(draw: Any) -> dict[str, Any]:
    """A webhook order with 1-4 fields (top level, addresses, first line) set to any JSON."""
    order = sample_order(4100 + draw(st.integers(0, 20)), created=DRAWN_AT)
    targets = [order, order["billing"], order["shipping"], order["line_items"][0]]
    for _ in range(draw(st.integers(1, 4))):
        target = draw(st.sampled_from(targets))
        target[draw(st.sampled_from(sorted(target)))] = draw(json_value)
    return order


def test_a_fuzzed_webhooks_input_is_the_same_on_every_run() -> None:
    """`bad_inputs_tried` counts distinct digests over runs and databases: a drawn order
    must not carry the clock, or the same draws count again on every run."""
    drawn: list[str] = []

    @settings(FUZZ, max_examples=5)
    @given(order=st.composite(mutated_order)())
    def draw(order: dict[str, Any]) -> None:
        drawn.append(json.dumps(order))

    draw()
    first = drawn[:]
    drawn.clear()
    time.sleep(1.1)  # a later run: the clock's seconds have moved
    draw()
    assert drawn == first


FUZZED_WEBHOOKS = Outcome(
    "fuzzed signed webhook bodies (hypothesis: any JSON in any order field, random bytes)",
    "abuse",
    "200 (received, held with the reason) or 400; never a 500, never a duplicate",
)


@FUZZ
@given(order=st.composite(mutated_order)(), junk=st.binary(max_size=80))
def test_fuzzed_signed_webhook_bodies_never_break_intake(
    web: AsgiClient, db: Database, record: list[Outcome], order: dict[str, Any], junk: bytes
) -> None:
    drawn = json.dumps(order)
    tried(record, FUZZED_WEBHOOKS, drawn.encode(), junk)
    sent = drawn.replace(gmt(DRAWN_AT), gmt(datetime.now(UTC)))  # modified now, as before
    for index, body in enumerate((sent.encode(), junk)):
        status = deliver(web, body, delivery=f"fuzz-{time.monotonic_ns()}-{index}")
        assert status in (200, 400), (status, body[:200])
    with db.unit_of_work() as session:
        numbers = list(session.scalars(select(Order.external_id)))
    assert len(numbers) == len(set(numbers))


def test_a_reused_order_number_is_received_not_a_server_error(
    web: AsgiClient, db: Database, record: list[Outcome]
) -> None:
    first, second = sample_order(4001), sample_order(4002)
    second["number"] = "4001"  # a sequential-number plugin reset, or a forged body
    answers = [
        deliver(web, json.dumps(first).encode(), delivery="n1", topic="order.created"),
        deliver(web, json.dumps(second).encode(), delivery="n2", topic="order.created"),
    ]
    with db.unit_of_work() as session:
        numbers = sorted(session.scalars(select(Order.number)))
    record.append(
        Outcome(
            "two shop orders with the same order number (different ids)",
            "abuse",
            "both received (the second as NUMBER-ID); never a 500 or a stalled intake",
            bad_inputs=1,
            orders=2,
            lost=2 - len(numbers),
        )
    )
    assert answers == [200, 200]
    assert numbers == ["4001", "4001-4002"]


def test_over_long_shop_text_is_cut_and_held_not_a_server_error(
    web: AsgiClient, db: Database, record: list[Outcome]
) -> None:
    order = sample_order(4001)
    line = order["line_items"][0]
    line["name"] = "Custom Tee " + "with a very long variation name " * 15  # ~490 characters
    line["id"] = "x" * 100  # not a WooCommerce id, but signed: it must not break intake
    order["shipping"]["phone"] = order["billing"]["phone"] = "+33 " + "1" * 80
    answer = deliver(web, json.dumps(order).encode(), delivery="long", topic="order.created")
    again = deliver(web, json.dumps(order).encode(), delivery="long-2", topic="order.created")
    with db.unit_of_work() as session:
        stored = services.get_order(session, "4001")
        names = [item.name for item in stored.items]
        status, problems = stored.status, list(stored.problems)
        count = session.scalar(select(func.count()).select_from(Order))
    record.append(
        Outcome(
            "shop text longer than its column (a 490-character product name, a 100-character "
            "line id, an 84-character phone)",
            "abuse",
            "received once, cut to fit and held with the reason; never a 500 (PostgreSQL)",
            bad_inputs=3,
            orders=1,
            duplicates=int(count or 0) - 1,
        )
    )
    assert (answer, again, count) == (200, 200, 1)
    assert status == OrderStatus.ON_HOLD and len(names[0]) == 300
    assert any("was cut" in problem for problem in problems)
