"""The Orders tab's `return` column (both adapters), and on Google one filter view per
order state and shipped rows' tracking in their status's green."""

from __future__ import annotations

from pathlib import Path

from podops import services
from podops.db import Database
from podops.routing import ShopPolicy
from podops.settings import Settings, SheetConfig
from podops.sheet.rows import FILTER_VIEWS, ORDERS, STATUS_COLOURS
from podops.status import OrderStatus
from sync.sheets.google_layout import _hex_colour
from sync.sheets.mirror import SheetMirror
from tests import factories
from tests.fakes.sheets_server import FakeSheetsServer
from tests.sheet.conftest import SheetEnv, google_sheet
from tests.sheet.test_sheet_guards import _Clock


def _returned(env: SheetEnv, number: str) -> tuple[str, list[int]]:
    with env.db.unit_of_work() as session:
        order = services.get_order(session, number)
        return order.status, [item.quantity_returned for item in order.items]


def test_typing_a_reason_returns_the_line_and_the_cell_shows_it(
    env: SheetEnv, policy: ShopPolicy
) -> None:
    number = factories.shipped_order(env.db, policy)
    env.cycle()
    row = int(env.row_of(f"{number}-01")["_row"])
    env.hands.set(ORDERS, row, env.col("return"), "1 wrong size")
    report = env.cycle()
    assert report.edits_applied == 1
    assert _returned(env, number) == (OrderStatus.SHIPPED, [1, 0])
    shown = env.row_of(f"{number}-01")
    assert (shown["return"], shown["sheet message"]) == ("returned 1 (wrong size)", "")
    mug = int(env.row_of(f"{number}-02")["_row"])
    env.hands.set(ORDERS, mug, env.col("return"), "damaged")
    env.hands.set(ORDERS, row, env.col("return"), "damaged")
    env.cycle()
    assert _returned(env, number) == (OrderStatus.RETURNED, [2, 1])
    assert env.row_of(f"{number}-01")["return"] == "returned 2 (wrong size; damaged)"
    assert env.row_of(f"{number}-01")["status"] == "returned"


def test_a_refused_return_is_put_back_with_the_reason_beside_the_row(
    env: SheetEnv, policy: ShopPolicy
) -> None:
    pending = factories.received_order(env.db, policy)
    shipped = factories.shipped_order(env.db, policy)
    env.cycle()
    env.hands.set(ORDERS, int(env.row_of(f"{pending}-01")["_row"]), env.col("return"), "damaged")
    env.hands.set(ORDERS, int(env.row_of(f"{shipped}-01")["_row"]), env.col("return"), "5 lost")
    report = env.cycle()
    assert report.edits_refused == 2
    refused = env.row_of(f"{pending}-01")
    assert refused["return"] == ""
    assert "return was not changed to 'damaged'" in refused["sheet message"]
    assert "nothing of it has shipped yet" in refused["sheet message"]
    assert "5 to return, but 2 of it shipped" in env.row_of(f"{shipped}-01")["sheet message"]
    assert _returned(env, shipped) == (OrderStatus.SHIPPED, [0, 0])


def test_google_gets_a_filter_view_per_state_and_green_tracking(
    env: SheetEnv, policy: ShopPolicy
) -> None:
    if env.fake is None:
        return  # the workbook has no filter views (docs/sheet.md)
    factories.shipped_order(env.db, policy)
    env.cycle()
    tab = env.fake.tab(ORDERS)
    views = {v["title"]: v for v in tab.filter_views}
    assert (
        set(views)
        == set(FILTER_VIEWS)
        == {
            "not shipped",
            "partially shipped",
            "shipped",
            "cancelled",
            "returned",
        }
    )
    status = env.col("status") - 1
    letter = chr(64 + env.col("status"))
    returned = views["returned"]["filterSpecs"][0]["filterCriteria"]["condition"]
    assert views["returned"]["filterSpecs"][0]["columnIndex"] == status
    assert returned["values"][0]["userEnteredValue"].startswith(f'=OR(${letter}2="returned"')
    shipped = views["shipped"]["filterSpecs"][0]["filterCriteria"]["condition"]
    assert shipped["values"][0]["userEnteredValue"] == (
        f'=OR(${letter}2="completed",${letter}2="shipped")'
    )
    tracking = {env.col("tracking") - 1, env.col("tracking link") - 1}
    green = _hex_colour(STATUS_COLOURS["shipped"])
    rules = [
        r
        for r in tab.formats
        if {rng["startColumnIndex"] for rng in r["ranges"]} == tracking
        and r["booleanRule"]["format"]["backgroundColor"] == green
    ]
    assert [r["booleanRule"]["condition"]["values"][0]["userEnteredValue"] for r in rules] == [
        f'=${letter}2="shipped"'
    ]


def test_a_deleted_filter_view_comes_back_within_the_hour_and_staff_views_stay(
    fake_server: FakeSheetsServer, db: Database, policy: ShopPolicy, tmp_path: Path
) -> None:
    fake, clock = fake_server.fake, _Clock()
    sheet = google_sheet(fake_server.base, fake, clock=clock)
    mirror = SheetMirror(db, sheet, Settings(data_dir=tmp_path, sheet=SheetConfig()))
    factories.received_order(db, policy)
    mirror.run_cycle()
    tab = fake.tab(ORDERS)
    tab.filter_views = [v for v in tab.filter_views if v["title"] != "cancelled"]
    tab.filter_views.append({"filterViewId": 7, "title": "maria's", "range": {"sheetId": 0}})
    clock.now += 3601
    checked = mirror.run_cycle()
    assert any("added 1 filter view(s)" in text for text in checked.repairs)
    assert sorted(v["title"] for v in tab.filter_views) == sorted([*FILTER_VIEWS, "maria's"])
    assert mirror.run_cycle().requests.requests == 1
