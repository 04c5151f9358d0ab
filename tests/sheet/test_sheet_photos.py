"""The photo columns on both adapters: `crop` moves and zooms a line's photo,
`accept photo` prints a low-resolution photo as it is; a crop that cannot be
printed is put back with the reason beside it and nothing changes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from podops import services
from podops.models import Event
from podops.photos import Crop, PhotoFit, crops_of
from podops.routing import ShopPolicy
from podops.sheet.rows import ACCEPT_PHOTO, CROP, ORDERS
from podops.status import OrderStatus
from tests import factories
from tests.factories import SYSTEM
from tests.sheet.conftest import SheetEnv

SMALL = "photo is 44 DPI at this size (at least 150 wanted)"


def _with_photo(env: SheetEnv, policy: ShopPolicy, pixels: int) -> str:
    """Given an order whose tee's photo a render measured in its 9-inch frame."""
    number = factories.received_order(env.db, policy)
    with env.db.unit_of_work() as session:
        for item in services.get_order(session, number).items:
            item.print_file, item.print_file_current = f"{item.position}.png", True
        services.get_order(session, number).items[0].image_urls = {
            "photo": "https://p.example/a.jpg"
        }
    with env.db.unit_of_work() as session:
        order = services.get_order(session, number)
        fit = PhotoFit("photo", pixels, pixels, 9.0, 9.0)
        services.record_photo_fits(session, order, order.items[0], [fit], SYSTEM)
    return number


def _line(env: SheetEnv, number: str) -> tuple[OrderStatus, dict[str, Crop], bool]:
    with env.db.unit_of_work() as session:
        order = services.get_order(session, number)
        item = order.items[0]
        return OrderStatus(order.status), crops_of(item.photos), item.print_file_current


def test_ticking_accept_photo_prints_a_low_resolution_photo_as_it_is(
    env: SheetEnv, policy: ShopPolicy
) -> None:
    number = _with_photo(env, policy, 400)
    env.cycle()
    row = env.row_of(f"{number}-01")
    assert SMALL in row["problems"] and row["status"] == "needs design"
    assert (row[CROP], row[ACCEPT_PHOTO]) == ("", "FALSE")

    env.hands.set(ORDERS, int(row["_row"]), env.col(ACCEPT_PHOTO), True)
    report = env.cycle()

    assert report.edits_applied == 1
    assert _line(env, number)[0] == OrderStatus.PENDING
    row = env.row_of(f"{number}-01")
    assert (row[ACCEPT_PHOTO], row["problems"], row["sheet message"]) == ("TRUE", "", "")
    with env.db.unit_of_work() as session:
        event = session.scalars(select(Event).where(Event.action == "photo_accepted")).one()
        assert event.channel == "sheet" and event.detail["dpi"] == 44

    env.hands.set(ORDERS, int(row["_row"]), env.col(ACCEPT_PHOTO), "FALSE")
    assert env.cycle().edits_refused == 1
    row = env.row_of(f"{number}-01")
    assert row[ACCEPT_PHOTO] == "TRUE" and "stays accepted" in row["sheet message"]


def test_a_line_with_nothing_to_accept_says_so(env: SheetEnv, policy: ShopPolicy) -> None:
    number = _with_photo(env, policy, 1500)
    env.cycle()
    env.hands.set(ORDERS, int(env.row_of(f"{number}-01")["_row"]), env.col(ACCEPT_PHOTO), True)
    assert env.cycle().edits_refused == 1
    row = env.row_of(f"{number}-01")
    assert row[ACCEPT_PHOTO] == "FALSE"
    assert "its photo prints at 166 DPI (at least 150 wanted)" in row["sheet message"]


def test_a_crop_typed_in_the_sheet_is_saved_and_shown(env: SheetEnv, policy: ShopPolicy) -> None:
    number = _with_photo(env, policy, 1500)
    env.cycle()
    row = int(env.row_of(f"{number}-01")["_row"])
    env.hands.set(ORDERS, row, env.col(CROP), "zoom=2 x=25%")

    assert env.cycle().edits_applied == 1

    assert _line(env, number) == (OrderStatus.PENDING, {"photo": Crop(2.0, 0.25, 0.0)}, False)
    assert env.row_of(f"{number}-01")[CROP] == "zoom=2 x=25% y=0%"
    env.hands.set(ORDERS, row, env.col(CROP), "")  # cleared: as the template places it
    env.cycle()
    assert _line(env, number)[1] == {}


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("x=30%", "x=30% would leave part of the photo frame empty"),
        ("zoom=1.5 y=-0.4", "at zoom 1.5 the photo moves at most 25% up or down"),
        ("zoom=abc", "zoom 'abc' is not a number"),
        ("zoom=nan", "zoom 'nan' is not a number"),
        ("zoom=0", "zoom '0' is out of range"),
        ("zoom=1e9", "zoom '1e9' is not a number"),
        ("logo: zoom=2", "this line has no photo 'logo' (its photos: photo)"),
    ],
)
def test_a_crop_that_cannot_be_printed_is_put_back_with_the_reason(
    env: SheetEnv, policy: ShopPolicy, typed: str, reason: str
) -> None:
    number = _with_photo(env, policy, 1500)
    env.cycle()
    before = _line(env, number)
    env.hands.set(ORDERS, int(env.row_of(f"{number}-01")["_row"]), env.col(CROP), typed)

    assert env.cycle().edits_refused == 1

    row = env.row_of(f"{number}-01")
    assert row[CROP] == ""
    assert f"crop was not changed to {typed!r}" in row["sheet message"]
    assert reason in row["sheet message"]
    assert _line(env, number) == before
    with env.db.unit_of_work() as session:
        assert not session.scalars(select(Event).where(Event.action == "photo_crop")).all()
