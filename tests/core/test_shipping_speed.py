"""Shipping speed at receipt and by staff: the store's method becomes a speed by the
store's table, a rush speed has its own countdown, an unknown method holds the order,
and what a table leaves out is named at load (errors) or in status (gaps)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from podops import services
from podops.db import Database
from podops.errors import ConfigError
from podops.models import Event
from podops.reports import daily_summary
from podops.routing import ShopPolicy
from podops.settings import Settings
from podops.speeds import config_gaps
from podops.status import OrderStatus
from podops.wording import describe_event
from sync.console_notifier import summary_text
from tests.factories import STAFF, SYSTEM, incoming

TABLE: dict[str, Any] = {
    "methods": {
        "flat_rate:3": "express",
        "flat_rate": "standard",
        "Next Day": "overnight",
    },
    "speeds": {"express": {"countdown_hours": 2}, "overnight": {"countdown_hours": 0}},
    "providers": {"cc": {"standard": "Economy", "express": "Expedited", "overnight": "Overnight"}},
}
PLACED = datetime.now(UTC) - timedelta(minutes=5)


def settings_with(shipping: dict[str, Any] | None = None, provider: str = "cc") -> Settings:
    store: dict[str, Any] = {"platform": "sandbox", "default_provider": provider}
    if shipping is not None:
        store["shipping"] = shipping
    settings = Settings(
        stores={"main": store},
        providers={"cc": {"kind": "customcat"}, "manual": {"kind": "manual"}},
    )  # type: ignore[arg-type]
    settings.check_references()
    return settings


def receive(db: Database, settings: Settings, number: str, **fields: Any) -> Any:
    order_in = incoming(number, placed_at=PLACED, **fields)
    with db.unit_of_work() as session:
        services.receive_orders(session, [order_in], ShopPolicy.from_settings(settings), SYSTEM)
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        session.expunge(order)
        return order


@pytest.mark.parametrize(
    ("method_id", "title", "speed", "hours"),
    [
        ("flat_rate:3", "Express", "express", 2),  # id:instance first
        ("flat_rate:1", "Flat rate", "standard", 24),  # then the id alone
        ("ups", "  next   DAY ", "overnight", 0),  # then the title, case and spaces ignored
        ("", "", "standard", 24),  # no shipping line: standard
    ],
)
def test_the_store_method_becomes_a_speed_with_its_countdown(
    db: Database, method_id: str, title: str, speed: str, hours: float
) -> None:
    order = receive(
        db, settings_with(TABLE), "8001", shipping_method_id=method_id, shipping_method=title
    )
    assert (order.shipping_speed, order.rush) == (speed, hours != 24)
    assert order.submit_at == order.placed_at + timedelta(hours=hours)
    assert OrderStatus(order.status) == OrderStatus.PENDING


def test_a_store_without_a_table_ships_everything_standard(db: Database) -> None:
    order = receive(db, settings_with(None), "8002", shipping_method="Overnight Air")
    assert (order.shipping_speed, order.rush, order.shipping_method) == (
        "standard",
        False,
        "Overnight Air",
    )
    assert order.submit_at == order.placed_at + timedelta(hours=24)


def test_a_method_the_table_does_not_know_is_held_for_a_person(db: Database) -> None:
    order = receive(db, settings_with(TABLE), "8003", shipping_method="Overnight Air")
    assert OrderStatus(order.status) == OrderStatus.ON_HOLD
    assert order.shipping_speed is None
    assert order.problems == [
        "shipping method 'Overnight Air' has no mapping for cc "
        "(not in stores.main.shipping.methods)"
    ]


def test_a_provider_made_by_the_shop_needs_no_method_table(db: Database) -> None:
    order = receive(db, settings_with(TABLE, provider="manual"), "8004", shipping_method="Next Day")
    assert (order.shipping_speed, OrderStatus(order.status)) == ("overnight", OrderStatus.PENDING)


def test_shipping_text_is_bounded_like_every_store_field(db: Database) -> None:
    order = receive(
        db,
        settings_with(TABLE),
        "8005",
        shipping_method="Next\x00 Day",
        shipping_method_id="x" * 99,
    )
    assert order.shipping_method == "Next Day" and len(order.shipping_method_id) == 64
    assert any("control characters" in p for p in order.problems)
    assert any("shipping method id was longer than 64" in p for p in order.problems)
    assert OrderStatus(order.status) == OrderStatus.ON_HOLD


def test_a_staff_hold_keeps_its_hold_and_its_time_follows_the_speed(db: Database) -> None:
    settings = settings_with(TABLE)
    receive(db, settings, "8006", shipping_method_id="flat_rate")
    with db.unit_of_work() as session:
        services.hold(session, "8006", STAFF, "customer called")
        left = services.get_order(session, "8006").hold_remaining_s
    with db.unit_of_work() as session:
        policy = ShopPolicy.from_settings(settings)
        assert services.set_shipping_speed(session, "8006", "EXPRESS", STAFF, policy)
    with db.unit_of_work() as session:
        order = services.get_order(session, "8006")
        assert OrderStatus(order.status) == OrderStatus.ON_HOLD
        assert order.hold_remaining_s == left - 22 * 3600
        event = session.query(Event).filter_by(action="shipping_speed").one()
        text = describe_event(event, "8006")
    assert text == "maria set order 8006 to ship express (rush; was standard)"


def test_the_daily_summary_counts_and_names_rush_orders(db: Database) -> None:
    settings = settings_with(TABLE)
    receive(db, settings, "8007", shipping_method_id="flat_rate:3")
    receive(db, settings, "8008", shipping_method_id="flat_rate")
    with db.unit_of_work() as session:
        summary = daily_summary(
            session, PLACED.date(), UTC, late_after_days=7, now=PLACED + timedelta(hours=1)
        )
    assert summary.rush_received == 1
    assert [(o.number, o.rush) for o in summary.rush_waiting] == [("8007", True)]
    assert "[RUSH] 8007 Ana Smith (pending" in summary_text(summary)


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ({"speeds": {"standard": {"countdown_hours": 1}}}, "standard uses the store's"),
        ({"speeds": {"Fast Lane": {}}}, "speed name 'Fast Lane' must be lowercase"),
        ({"methods": {"Express": "express", " express ": "express"}}, "are the same method"),
        ({"methods": {"": "standard"}}, "is not a shipping method name"),
        ({"providers": {"cc": {"standard": ""}}}, "1 to 128 printable characters"),
        ({"providers": {"cc": {"warp": "W"}}}, "cc.warp: unknown speed 'warp'"),
    ],
)
def test_table_mistakes_are_refused_at_load(table: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        settings_with({"speeds": {"express": {}}, **table})


def test_gaps_name_the_speeds_a_provider_has_no_method_for() -> None:
    partial = {**TABLE, "providers": {"cc": {"express": "Expedited"}}}
    assert config_gaps(settings_with(partial)) == [
        "stores.main.shipping.providers.cc: no method for overnight; such orders going to "
        "cc are held"
    ]
    assert config_gaps(settings_with(TABLE)) == []
    assert config_gaps(settings_with(partial, provider="manual")) == []
