"""The Orders tab mirrors the database, over Google Sheets and a local workbook alike."""

from __future__ import annotations

from datetime import timedelta

import openpyxl

from podops import services
from podops.routing import ShopPolicy
from podops.sheet.rows import ARCHIVE, ORDERS, TRACKING
from tests import factories
from tests.sheet.conftest import SheetEnv

FORMULA_NAME = '=HYPERLINK("http://evil.example","click")'


def test_every_line_item_gets_a_row_with_its_order_facts(env: SheetEnv, policy: ShopPolicy) -> None:
    first = factories.received_order(env.db, policy)
    second = factories.received_order(env.db, policy, customer_name=FORMULA_NAME)

    report = env.cycle()

    rows = env.orders_rows()
    assert [r["line"] for r in rows] == [
        f"{first}-01",
        f"{first}-02",
        f"{second}-01",
        f"{second}-02",
    ]
    tee = env.row_of(f"{first}-01")
    assert (tee["order"], tee["store"], tee["status"], tee["sku"], tee["qty"]) == (
        first,
        "main",
        "pending",
        "TEE-BLK-M",
        "2",
    )
    assert tee["hold"] == "FALSE" and tee["name"] == "ANA" and tee["ship to"] == "US"
    assert env.row_of(f"{first}-02")["message"] == "Love you"
    assert env.row_of(f"{second}-01")["customer"] == FORMULA_NAME
    assert report.added == 4


def test_customer_text_is_never_run_as_a_formula(
    env: SheetEnv, policy: ShopPolicy, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    number = factories.received_order(env.db, policy, customer_name=FORMULA_NAME)
    env.cycle()
    if env.fake is not None:
        assert set(env.fake.input_options) == {"RAW"}
        assert not env.fake.tab(ORDERS).formulas
    else:
        sheet = openpyxl.load_workbook(tmp_path / "orders.xlsx")[ORDERS]
        cells = [c for c in sheet["H"] if c.value == FORMULA_NAME]
        assert cells and all(c.data_type == "s" for c in cells)
    assert env.row_of(f"{number}-01")["customer"] == FORMULA_NAME


def test_a_quiet_cycle_reads_once_and_writes_nothing(env: SheetEnv, policy: ShopPolicy) -> None:
    factories.received_order(env.db, policy)
    env.cycle()

    report = env.cycle()

    assert (report.added, report.updated) == (0, 0)
    if env.kind == "google":
        assert (report.requests.reads, report.requests.writes) == (1, 0)


def test_a_change_in_the_database_rewrites_only_that_order(
    env: SheetEnv, policy: ShopPolicy
) -> None:
    number = factories.received_order(env.db, policy)
    other = factories.received_order(env.db, policy)
    env.cycle()
    with env.db.unit_of_work() as session:
        services.hold(session, number, factories.STAFF, "address check")

    report = env.cycle()

    assert env.row_of(f"{number}-01")["status"] == "on hold"
    assert env.row_of(f"{number}-02")["hold"] == "TRUE"
    assert env.row_of(f"{other}-01")["status"] == "pending"
    assert report.updated == 2
    if env.kind == "google":
        assert (report.requests.reads, report.requests.writes) == (1, 1)


def test_tracking_and_shipped_quantities_show_with_a_link(
    env: SheetEnv, policy: ShopPolicy
) -> None:
    number = factories.shipped_order(env.db, policy)
    env.cycle()
    row = env.row_of(f"{number}-01")
    assert row["tracking"] == "UPS 1Z999AA10123456784"
    assert row["tracking link"].startswith("https://www.ups.com/track?tracknum=1Z999AA10123456784")
    assert (row["shipped"], row["status"]) == ("2", "shipped")


def test_rows_people_sorted_are_found_by_their_key(env: SheetEnv, policy: ShopPolicy) -> None:
    first = factories.received_order(env.db, policy)
    second = factories.received_order(env.db, policy)
    env.cycle()
    values = env.hands.values(ORDERS)
    for col, (a, b) in enumerate(zip(values[1], values[4], strict=False), start=1):
        env.hands.set(ORDERS, 2, col, b or None)
        env.hands.set(ORDERS, 5, col, a or None)
    with env.db.unit_of_work() as session:
        services.hold(session, first, factories.STAFF)

    env.cycle()

    assert env.row_of(f"{first}-01")["status"] == "on hold"
    assert env.row_of(f"{first}-01")["_row"] == "5"
    assert env.row_of(f"{second}-02")["status"] == "pending"
    assert len(env.orders_rows()) == 4


def test_finished_orders_move_to_the_archive_tab(env: SheetEnv, policy: ShopPolicy) -> None:
    done = factories.shipped_order(env.db, policy)
    kept = factories.received_order(env.db, policy)
    with env.db.unit_of_work() as session:
        services.complete(session, done, factories.SYSTEM)
    env.cycle()
    assert len(env.orders_rows()) == 4

    later = env.now + timedelta(days=31)
    report = env.cycle(later)

    assert report.archived == 2
    assert [r["order"] for r in env.orders_rows()] == [kept, kept]
    archive = env.hands.values(ARCHIVE)
    assert [row[1] for row in archive[1:]] == [done, done]
    assert archive[1][4] == "completed"
    new = factories.received_order(env.db, policy)
    env.cycle(later)
    assert {r["_row"] for r in env.orders_rows() if r["order"] == new} == {"2", "3"}


def test_the_first_mirror_puts_orders_finished_long_ago_in_the_archive(
    env: SheetEnv, policy: ShopPolicy
) -> None:
    old = factories.shipped_order(env.db, policy)
    recent = factories.shipped_order(env.db, policy)
    open_order = factories.received_order(env.db, policy)
    with env.db.unit_of_work() as session:
        for number in (old, recent):
            services.complete(session, number, factories.SYSTEM)
    with env.db.unit_of_work() as session:
        order = services.get_order(session, old)
        order.completed_at = env.now - timedelta(days=90)
    # The default for Google; a workbook opts in (it is rewritten whole every cycle).
    env.settings.sheet.backfill_archive = True

    report = env.cycle()

    assert report.archived == 2
    assert {r["order"] for r in env.orders_rows()} == {recent, open_order}
    archive = env.hands.values(ARCHIVE)
    assert [(row[1], row[2], row[4]) for row in archive[1:]] == [
        (old, f"{old}-01", "completed"),
        (old, f"{old}-02", "completed"),
    ]
    assert (archive[1][14], archive[2][14]) == ("name=ANA", "message=Love you")
    again = env.cycle()
    assert again.archived == 0 and env.hands.values(ARCHIVE) == archive


def test_a_deleted_header_and_a_deleted_tab_are_rebuilt(env: SheetEnv, policy: ShopPolicy) -> None:
    number = factories.received_order(env.db, policy)
    env.cycle()
    for col in range(1, 6):
        env.hands.set(ORDERS, 1, col, None)
    env.hands.delete_tab(TRACKING)

    report = env.cycle()

    assert env.hands.values(ORDERS)[0][:3] == ["key", "order", "line"]
    assert env.hands.values(TRACKING)[0][:3] == ["reference", "tracking_company", "tracking_number"]
    assert any("Tracking" in text for text in report.repairs)
    assert env.row_of(f"{number}-01")["status"] == "pending"


def test_a_renamed_header_stops_the_orders_mirror_with_a_reason(
    env: SheetEnv, policy: ShopPolicy
) -> None:
    factories.received_order(env.db, policy)
    env.cycle()
    env.hands.set(ORDERS, 1, 3, "my column")
    factories.received_order(env.db, policy)

    report = env.mirror().run_cycle()

    assert any("'my column' where 'line' belongs" in p for p in report.problems)
    assert len(env.orders_rows()) == 2


def test_a_workbook_does_not_fill_its_archive_with_old_history_by_default(
    env: SheetEnv, policy: ShopPolicy
) -> None:
    old = factories.shipped_order(env.db, policy)
    with env.db.unit_of_work() as session:
        services.complete(session, old, factories.SYSTEM)
        services.get_order(session, old).completed_at = env.now - timedelta(days=90)
    env.settings.sheet.backfill_archive = None
    report = env.cycle()
    expected = 1 if env.settings.sheet.backend == "google" else 0
    assert report.archived == expected


def test_a_held_order_whose_design_was_refused_shows_both(
    env: SheetEnv, policy: ShopPolicy
) -> None:
    number = factories.received_order(env.db, policy)
    with env.db.unit_of_work() as session:
        services.hold(session, number, factories.STAFF, "address check")
        order = services.get_order(session, number, for_update=True)
        services.record_render_refusal(
            session, order, order.items[0], "text too long", factories.SYSTEM, refused_design="x"
        )

    env.cycle()

    row = env.row_of(f"{number}-01")
    assert (row["status"], row["hold"]) == ("on hold, needs design", "TRUE")
    assert "print file: text too long" in row["problems"]
