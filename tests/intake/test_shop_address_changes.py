"""A shipping address changed in the shop (WooCommerce `shipping` edited after
checkout), by poll and by webhook: before submission podops follows it (with an
event and a Slack notice), never mistakes the shop's old address for a change,
and refuses what it cannot send; after submission the change goes to the
provider (ShineOn takes it) or is refused with where to change it (CustomCat)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from podops import services
from podops.db import Database
from podops.models import Event, Order, OutboxMessage
from podops.outbox import Topic
from podops.runtime.root import Runtime
from podops.runtime.web import build_asgi_app
from podops.settings import ProviderConfig, RenderConfig, Settings
from podops.status import OrderStatus
from providers.woocommerce import WooCommerceStore, build_client
from sync.intake import sync_one
from sync.webhooks import routes, signature_for
from tests.asgi_client import AsgiClient
from tests.factories import STAFF, SYSTEM
from tests.fakes.customcat import API_KEY, FakeCustomCat
from tests.fakes.shineon import TOKEN, FakeShineOn
from tests.fakes.woocommerce import FakeWooCommerce
from tests.fakes.woocommerce_orders import sample_order
from tests.fulfillment.conftest import give_print_files
from tests.intake.conftest import FAST_RETRY, WEBHOOK_SECRET, store_config

NOW = datetime.now(UTC)


@pytest.fixture(autouse=True)
def _now_is_when_the_test_runs() -> None:
    """The store's cursor follows the wall clock, so "now" must be the test's
    own moment, not the suite's collection time (minutes earlier under load)."""
    global NOW
    NOW = datetime.now(UTC)


SHIP = {
    "first_name": "Zoë",
    "last_name": "Müller",
    "company": "",
    "address_1": "9 Rue de la Paix",
    "address_2": "",
    "city": "Paris",
    "state": "",
    "postcode": "75002",
    "country": "FR",
}


@pytest.fixture
def providers() -> Iterator[tuple[FakeCustomCat, FakeShineOn]]:
    customcat, shineon = FakeCustomCat().start(), FakeShineOn().start()
    yield customcat, shineon
    customcat.stop()
    shineon.stop()


@pytest.fixture
def runtime(
    db: Database,
    tmp_path: Path,
    shop: FakeWooCommerce,
    providers: tuple[FakeCustomCat, FakeShineOn],
) -> Iterator[Runtime]:
    """A WooCommerce store whose orders go to a fake ShineOn (or CustomCat)."""
    customcat, shineon = providers
    config = store_config(shop.url, default_provider="so")
    settings = Settings(
        data_dir=tmp_path,
        stores={"main": config},
        providers={
            "so": ProviderConfig(kind="shineon", base_url=shineon.url, api_key=TOKEN),  # type: ignore[arg-type]
            "cc": ProviderConfig(kind="customcat", base_url=customcat.base_url, api_key=API_KEY),  # type: ignore[arg-type]
        },
        render=RenderConfig(
            public_base_url="https://podops.example",
            link_secret=SecretStr("shop-address-link-0123456789"),
        ),
    )
    rt = Runtime(settings)
    rt.__dict__["db"] = db
    rt._store_clients[1]["main"] = WooCommerceStore(
        "main", config, build_client("main", config, timeout=2.0), retry=FAST_RETRY
    )
    yield rt
    rt.close()


def later(minutes: int) -> datetime:
    return NOW + timedelta(minutes=minutes)


def order_of(runtime: Runtime, number: str) -> Order:
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, number)
        session.expunge(order)
        return order


def events_of(runtime: Runtime, action: str) -> list[Event]:
    with runtime.db.unit_of_work() as session:
        found = list(session.scalars(select(Event).where(Event.action == action)))
        for event in found:
            session.expunge(event)
        return sorted(found, key=lambda event: event.id)


def noticed(runtime: Runtime, event_id: int) -> bool:
    with runtime.db.unit_of_work() as session:
        messages = session.scalars(
            select(OutboxMessage).where(OutboxMessage.topic == Topic.NOTIFY.value)
        )
        return any(m.payload.get("event_id") == event_id for m in messages)


def test_before_submission_the_shops_change_is_followed_and_staffs_edit_is_kept(
    shop: FakeWooCommerce, runtime: Runtime
) -> None:
    shop.add(sample_order(1001, created=NOW - timedelta(minutes=5), shipping=SHIP))
    sync_one(runtime, "main")
    moved = {**SHIP, "address_2": "Appartement 5"}
    shop.add(
        sample_order(1001, created=NOW - timedelta(minutes=5), modified=later(1), shipping=moved)
    )

    assert sync_one(runtime, "main").updated == 1
    assert order_of(runtime, "1001").shipping_address["address_2"] == "Appartement 5"
    (change,) = events_of(runtime, "store_address")
    assert change.channel == "store" and change.detail["changes"] == {
        "line2": ["", "Appartement 5"]
    }
    assert noticed(runtime, change.id)  # told in Slack (or the console)

    runtime.addresses.change("1001", {"line2": "Appartement 6"}, STAFF)
    shop.add(
        sample_order(1001, created=NOW - timedelta(minutes=5), modified=later(2), shipping=moved)
    )
    sync_one(runtime, "main")  # the shop's old address again: not a change
    assert order_of(runtime, "1001").shipping_address["address_2"] == "Appartement 6"
    assert len(events_of(runtime, "store_address")) == 1

    newest = {**SHIP, "address_2": "Appartement 7"}
    shop.add(
        sample_order(1001, created=NOW - timedelta(minutes=5), modified=later(3), shipping=newest)
    )
    sync_one(runtime, "main")  # a new change in the shop wins
    assert order_of(runtime, "1001").shipping_address["address_2"] == "Appartement 7"


def test_a_webhook_brings_the_missing_address_and_the_order_goes_back_to_its_countdown(
    shop: FakeWooCommerce, runtime: Runtime
) -> None:
    blank = {key: "" for key in SHIP}
    shop.add(sample_order(1002, created=NOW - timedelta(minutes=5), shipping=blank))
    sync_one(runtime, "main")
    held = order_of(runtime, "1002")
    assert held.status == OrderStatus.ON_HOLD and held.problems == ["no shipping address"]

    body = json.dumps(
        sample_order(1002, created=NOW - timedelta(minutes=5), modified=later(1), shipping=SHIP)
    ).encode()
    web = AsgiClient(build_asgi_app(runtime, [routes]))
    headers = {
        "content-type": "application/json",
        "x-wc-webhook-topic": "order.updated",
        "x-wc-webhook-resource": "order",
        "x-wc-webhook-delivery-id": "d-addr",
        "x-wc-webhook-signature": signature_for(body, WEBHOOK_SECRET),
    }
    assert web.post("/webhooks/woocommerce/main", content=body, headers=headers).status_code == 200

    order = order_of(runtime, "1002")
    assert order.status == OrderStatus.PENDING and order.problems == []
    assert order.shipping_address["address_1"] == "9 Rue de la Paix"


def test_a_change_podops_cannot_send_keeps_the_old_address_and_blocks_with_the_reason(
    shop: FakeWooCommerce, runtime: Runtime
) -> None:
    shop.add(sample_order(1003, created=NOW - timedelta(minutes=5), shipping=SHIP))
    sync_one(runtime, "main")
    odd = {**SHIP, "country": "Frankreich", "address_2": "Bât. B"}
    shop.add(
        sample_order(1003, created=NOW - timedelta(minutes=5), modified=later(1), shipping=odd)
    )
    sync_one(runtime, "main")

    order = order_of(runtime, "1003")
    assert order.shipping_address["country"] == "FR" and order.shipping_address["address_2"] == ""
    assert order.problems[0].startswith("shipping address from the shop: address.country")
    (refused,) = events_of(runtime, "address_change_refused")
    assert refused.detail["changes"]["country"] == ["FR", "Frankreich"]  # nothing lost
    runtime.addresses.change("1003", {"line2": "Bât. B"}, STAFF)  # staff fix it
    assert order_of(runtime, "1003").problems == []


def submitted(runtime: Runtime, shop: FakeWooCommerce, order_id: int, provider: str) -> str:
    shop.add(sample_order(order_id, created=NOW - timedelta(minutes=5), shipping=SHIP))
    sync_one(runtime, "main")
    number = str(order_id)
    with runtime.db.unit_of_work() as session:
        for item in services.get_order(session, number).items:
            item.provider = provider  # setup: which provider makes it
    give_print_files(runtime.db, number)
    assert runtime.submission.submit_now(number, SYSTEM).status == OrderStatus.SUBMITTED
    return number


def test_after_submission_shineon_takes_the_shops_change(
    shop: FakeWooCommerce, runtime: Runtime, providers: tuple[FakeCustomCat, FakeShineOn]
) -> None:
    shineon = providers[1]
    number = submitted(runtime, shop, 1004, "so")
    moved = {**SHIP, "address_1": "10 Rue de la Paix"}
    shop.add(
        sample_order(1004, created=NOW - timedelta(minutes=5), modified=later(1), shipping=moved)
    )
    sync_one(runtime, "main")
    assert order_of(runtime, number).shipping_address["address_1"] == "9 Rue de la Paix"
    (told,) = events_of(runtime, "store_address")
    assert "sending it to so" in told.detail["note"]

    report = runtime.addresses.drain()

    assert report.delivered == 1
    assert (
        shineon.by_source(f"main-{number}")["shipping_address"]["address1"] == "10 Rue de la Paix"
    )
    assert order_of(runtime, number).shipping_address["address_1"] == "10 Rue de la Paix"
    (edit,) = events_of(runtime, "edit_address")
    assert edit.actor == "store:main" and edit.detail["after_submission"] == "so"
    assert runtime.addresses.drain().delivered == 0  # sent once


def test_after_submission_customcat_refuses_and_staff_are_told_where_to_change_it(
    shop: FakeWooCommerce, runtime: Runtime, providers: tuple[FakeCustomCat, FakeShineOn]
) -> None:
    customcat = providers[0]
    number = submitted(runtime, shop, 1005, "cc")
    moved = {**SHIP, "address_1": "11 Rue de la Paix"}
    shop.add(
        sample_order(1005, created=NOW - timedelta(minutes=5), modified=later(1), shipping=moved)
    )
    sync_one(runtime, "main")

    assert runtime.addresses.drain().delivered == 1

    order = order_of(runtime, number)
    assert order.shipping_address["address_1"] == "9 Rue de la Paix"  # what CustomCat has
    assert customcat.orders[f"main-{number}"]["body"]["shipping_address1"] == "9 Rue de la Paix"
    assert "already at CustomCat: change the address there" in order.problems[0]
    (refused,) = events_of(runtime, "address_change_refused")
    assert refused.detail["changes"]["line1"] == ["9 Rue de la Paix", "11 Rue de la Paix"]
    assert noticed(runtime, refused.id)


def test_after_submission_a_split_orders_change_is_refused_naming_the_provider_without_api(
    shop: FakeWooCommerce, runtime: Runtime, providers: tuple[FakeCustomCat, FakeShineOn]
) -> None:
    """The tee at CustomCat, the mug at ShineOn: CustomCat takes no address change, so the
    shop's change reaches neither; staff are told where to change it."""
    customcat, shineon = providers
    body = sample_order(1006, created=NOW - timedelta(minutes=5), shipping=SHIP)
    mug = {**body["line_items"][0], "id": 99, "sku": "MUG-11OZ", "name": "Mug"}
    body["line_items"].append(mug)
    shop.add(body)
    sync_one(runtime, "main")
    number = "1006"
    with runtime.db.unit_of_work() as session:
        tee_line, mug_line = services.get_order(session, number).items
        tee_line.provider, mug_line.provider = "cc", "so"  # setup: who makes what
    give_print_files(runtime.db, number)
    assert runtime.submission.submit_now(number, SYSTEM).status == OrderStatus.SUBMITTED
    moved = {**SHIP, "address_1": "12 Rue de la Paix"}
    moved_body = sample_order(
        1006, created=NOW - timedelta(minutes=5), modified=later(1), shipping=moved
    )
    moved_body["line_items"].append(mug)
    shop.add(moved_body)
    sync_one(runtime, "main")

    assert runtime.addresses.drain().delivered == 1

    order = order_of(runtime, number)
    assert order.shipping_address["address_1"] == "9 Rue de la Paix"
    assert customcat.orders[f"main-{number}"]["body"]["shipping_address1"] == "9 Rue de la Paix"
    assert shineon.by_source(f"main--{number}_P2")["shipping_address"]["address1"] == (
        "9 Rue de la Paix"
    )
    assert any("cc takes no address change through its API" in p for p in order.problems), (
        order.problems
    )
    (refused,) = events_of(runtime, "address_change_refused")
    assert refused.detail["changes"]["line1"] == ["9 Rue de la Paix", "12 Rue de la Paix"]
