"""Field columns take only what the line's template prints, on both adapters: a value for
a field the product lacks is refused beside the row, a photo column takes a link the
renderer can fetch, emptying a field the product does not print removes it, and a column
an older podops named after a store's meta key is removed with what was typed in it
refused."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from podops import services
from podops.incoming import IncomingLineItem
from podops.routing import ShopPolicy
from podops.settings import Settings, SheetConfig
from podops.sheet.rows import FIXED_HEADERS, MESSAGE, ORDERS
from tests import factories
from tests.field_templates import photo_host
from tests.sheet.conftest import SheetEnv


@pytest.fixture
def photos() -> Iterator[str]:
    with photo_host() as base:
        yield base


def _order(env: SheetEnv, policy: ShopPolicy, photos: str) -> str:
    """A tee with a name and a photo, and a mug whose customer also wrote a name."""
    items = [
        IncomingLineItem("t", "TEE-BLK-M", "Tee", 1, Decimal(10), {"name": "ANA"}),
        IncomingLineItem("m", "MUG-11OZ", "Mug", 1, Decimal(9), {"message": "Hej", "name": "BJÖ"}),
    ]
    for item in items:
        item.image_urls = {"photo": f"{photos}/ana.jpg"}
    return factories.received_order(env.db, policy, items=items)


def _with_mapping(env: SheetEnv, fields: dict[str, str]) -> Settings:
    """The test settings with store `main` mapping these meta keys to fields."""
    store = {"platform": "csv", "personalization": {"fields": fields}}
    return Settings(
        data_dir=env.settings.data_dir, sheet=SheetConfig(backend="xlsx"), stores={"main": store}
    )  # type: ignore[arg-type]


def _line(env: SheetEnv, number: str, position: int) -> tuple[dict, dict]:
    with env.db.unit_of_work() as session:
        item = services.get_order(session, number).items[position - 1]
        return dict(item.personalization), dict(item.image_urls)


def test_a_value_for_a_field_the_product_lacks_is_refused_beside_the_row(
    env: SheetEnv, policy: ShopPolicy
) -> None:
    number = factories.received_order(env.db, policy)  # line 2: a mug without a name
    env.cycle()
    row = int(env.row_of(f"{number}-02")["_row"])
    env.hands.set(ORDERS, row, env.col("name"), "BOB")

    report = env.cycle()

    assert (report.edits_applied, report.edits_refused) == (0, 1)
    shown = env.row_of(f"{number}-02")
    assert "name was not changed to 'BOB'" in shown[MESSAGE]
    assert "this mug prints no name (its fields: message, photo (a photo link))" in shown[MESSAGE]
    assert shown["name"] == ""
    assert "name" not in _line(env, number, 2)[0]


def test_the_photo_column_takes_a_link_the_renderer_can_fetch(
    env: SheetEnv, policy: ShopPolicy, photos: str
) -> None:
    number = _order(env, policy, photos)
    env.cycle()
    assert env.row_of(f"{number}-01")["photo"] == f"{photos}/ana.jpg"
    row = int(env.row_of(f"{number}-01")["_row"])

    env.hands.set(ORDERS, row, env.col("photo"), f"{photos}/page.jpg")
    report = env.cycle()
    assert report.edits_refused == 1
    assert "not an image" in env.row_of(f"{number}-01")[MESSAGE]
    assert _line(env, number, 1)[1] == {"photo": f"{photos}/ana.jpg"}

    env.hands.set(ORDERS, row, env.col("photo"), f"{photos}/new.jpg")
    report = env.cycle()
    assert (report.edits_applied, report.edits_refused) == (1, 0)
    texts, images = _line(env, number, 1)
    assert images == {"photo": f"{photos}/new.jpg"} and texts == {"name": "ANA"}
    assert env.row_of(f"{number}-01")[MESSAGE] == ""


def test_emptying_a_name_the_mug_does_not_print_removes_it(
    env: SheetEnv, policy: ShopPolicy, photos: str
) -> None:
    number = _order(env, policy, photos)
    env.cycle()
    row = int(env.row_of(f"{number}-02")["_row"])
    env.hands.set(ORDERS, row, env.col("name"), "")

    report = env.cycle()

    assert (report.edits_applied, report.edits_refused) == (1, 0)
    assert _line(env, number, 2)[0] == {"message": "Hej"}
    assert env.row_of(f"{number}-02")["name"] == ""


def test_an_old_meta_key_column_is_removed_and_what_was_typed_there_refused(
    env: SheetEnv, policy: ShopPolicy
) -> None:
    number = factories.received_order(env.db, policy)
    # An older podops showed the store's meta key as a column of its own.
    env.settings = _with_mapping(env, {"Name on shirt": "Name on shirt"})
    env.cycle()
    assert env.hands.values(ORDERS)[0][len(FIXED_HEADERS) :] == ["Name on shirt", "message", "name"]
    tee, mug = (int(env.row_of(f"{number}-0{n}")["_row"]) for n in (1, 2))
    env.hands.set(ORDERS, tee, env.col("Name on shirt"), "BOB")
    env.hands.set(ORDERS, mug, env.col("message"), "Hi there")  # right of the old column
    env.settings = _with_mapping(env, {"Name on shirt": "name"})

    report = env.cycle()

    assert (report.edits_applied, report.edits_refused) == (1, 1)
    values = env.hands.values(ORDERS)
    width = len(FIXED_HEADERS) + 2
    assert values[0][len(FIXED_HEADERS) :] in (["message", "name"], ["message", "name", ""])
    assert not any(cell for row in values for cell in row[width:])  # the old last column
    shown = env.row_of(f"{number}-01")
    assert "'Name on shirt' is the store's name for the field 'name'" in shown[MESSAGE]
    assert "'BOB'" in shown[MESSAGE] and shown["name"] == "ANA"
    assert env.row_of(f"{number}-02")["message"] == "Hi there"
    assert _line(env, number, 1)[0] == {"name": "ANA"}
    assert _line(env, number, 2)[0] == {"message": "Hi there"}

    again = env.cycle()  # the layout stays: no column comes back
    assert env.hands.values(ORDERS)[0][len(FIXED_HEADERS) : width] == ["message", "name"]
    assert (again.edits_applied, again.edits_refused, again.updated) == (0, 0, 0)


def test_a_split_orders_part_left_behind_takes_edits_and_the_part_at_a_provider_refuses(
    env: SheetEnv, photos: str
) -> None:
    """The tee is at provider a, the mug's part failed at provider b: the mug's row takes
    a new message (rendered by the next pass), the tee's row says why it cannot."""
    from podops.routing import StorePolicy
    from podops.settings import RoutingRule

    split = ShopPolicy(
        {"main": StorePolicy(24, "a")},
        [
            RoutingRule(sku="TEE-*", provider="a", product_key="tee-front"),
            RoutingRule(sku="MUG-*", provider="b", product_key="mug-11oz"),
        ],
    )
    items = [
        IncomingLineItem("t", "TEE-BLK-M", "Tee", 1, Decimal(10), {"name": "ANA"}),
        IncomingLineItem("m", "MUG-11OZ", "Mug", 1, Decimal(9), {"message": "Hej"}),
    ]
    number = factories.received_order(env.db, split, items=items)
    with env.db.unit_of_work() as session:
        order = services.get_order(session, number)
        tee, mug = services.begin_submit(
            session, order, services.plan_fulfillments(session, order), factories.SYSTEM
        )
        services.mark_submitted(session, order, tee, factories.SYSTEM, provider_order_id="A-1")
        services.mark_submit_failed(session, order, mug, factories.SYSTEM, reason="no such sku")
    env.cycle()
    tee_row = int(env.row_of(f"{number}-01")["_row"])
    mug_row = int(env.row_of(f"{number}-02")["_row"])
    env.hands.set(ORDERS, tee_row, env.col("name"), "BEA")
    env.hands.set(ORDERS, mug_row, env.col("message"), "Tack")

    report = env.cycle()

    assert (report.edits_applied, report.edits_refused) == (1, 1)
    assert _line(env, number, 2)[0] == {"message": "Tack"}
    assert _line(env, number, 1)[0] == {"name": "ANA"}
    said = env.row_of(f"{number}-01")[MESSAGE]
    assert f"line {number}-01 of order {number} is at its provider (a, part 1)" in said
    assert env.row_of(f"{number}-02")[MESSAGE] == ""
