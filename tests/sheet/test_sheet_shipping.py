"""The shipping speed in the Orders tab: shown with the rush flag, set by typing a
speed, a speed the store does not know refused with the known ones beside the row."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from podops import services
from podops.models import Event
from podops.routing import ShopPolicy
from podops.settings import StoreConfig
from podops.sheet.rows import ORDERS, RUSH, SHIPPING
from podops.shipping_settings import ShippingConfig
from tests import factories
from tests.sheet.conftest import SheetEnv

TABLE = {
    "methods": {"Standard Shipping": "standard", "Express Shipping": "express"},
    "speeds": {"express": {"countdown_hours": 2}},
}


@pytest.fixture
def shipping_env(env: SheetEnv) -> SheetEnv:
    store = StoreConfig(
        platform="sandbox",
        default_provider="manual",
        shipping=ShippingConfig.model_validate(TABLE),
    )
    settings = env.settings.model_copy(update={"stores": {"main": store}})
    return replace(env, settings=settings)


def _speed(env: SheetEnv, number: str) -> tuple[str | None, bool]:
    with env.db.unit_of_work() as session:
        order = services.get_order(session, number)
        return order.shipping_speed, order.rush


def test_the_tab_shows_the_speed_and_flags_rush_orders(shipping_env: SheetEnv) -> None:
    policy = ShopPolicy.from_settings(shipping_env.settings)
    rush = factories.received_order(shipping_env.db, policy, shipping_method="Express Shipping")
    calm = factories.received_order(shipping_env.db, policy, shipping_method="Standard Shipping")
    shipping_env.cycle()
    for line in ("01", "02"):
        assert shipping_env.row_of(f"{rush}-{line}")[SHIPPING] == "express"
        assert shipping_env.row_of(f"{rush}-{line}")[RUSH] == "RUSH"
    calm_row = shipping_env.row_of(f"{calm}-01")
    assert (calm_row[SHIPPING], calm_row[RUSH]) == ("standard", "")


def test_typing_a_speed_sets_it_for_the_whole_order(shipping_env: SheetEnv) -> None:
    env = shipping_env
    number = factories.received_order(
        env.db, ShopPolicy.from_settings(env.settings), shipping_method="Standard Shipping"
    )
    env.cycle()
    env.hands.set(ORDERS, int(env.row_of(f"{number}-02")["_row"]), env.col(SHIPPING), " Express")

    report = env.cycle()

    assert report.edits_applied == 1
    assert _speed(env, number) == ("express", True)
    assert env.row_of(f"{number}-01")[RUSH] == "RUSH", "every line of the order shows it"
    with env.db.unit_of_work() as session:
        event = session.scalars(select(Event).where(Event.action == "shipping_speed")).one()
        assert event.channel == "sheet" and event.detail["new"] == "express"


def test_an_unknown_speed_is_put_back_with_the_reason(shipping_env: SheetEnv) -> None:
    env = shipping_env
    number = factories.received_order(
        env.db, ShopPolicy.from_settings(env.settings), shipping_method="Standard Shipping"
    )
    env.cycle()
    env.hands.set(ORDERS, int(env.row_of(f"{number}-01")["_row"]), env.col(SHIPPING), "warp")

    report = env.cycle()

    assert report.edits_refused == 1
    shown = env.row_of(f"{number}-01")
    assert shown[SHIPPING] == "standard"
    assert "shipping was not changed to 'warp'" in shown["sheet message"]
    assert "known speeds: standard, express" in shown["sheet message"]
    assert _speed(env, number) == ("standard", False)
