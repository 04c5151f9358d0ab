"""What people type: Orders-tab edits and pasted Tracking rows, on both adapters."""

from __future__ import annotations

from sqlalchemy import select

from podops import services
from podops.models import Event
from podops.routing import ShopPolicy
from podops.sheet.rows import FULFILLED, ORDERS, TRACKING
from podops.status import OrderStatus
from tests import factories
from tests.sheet.conftest import SheetEnv


def _status(env: SheetEnv, number: str) -> OrderStatus:
    with env.db.unit_of_work() as session:
        return OrderStatus(services.get_order(session, number).status)


def test_ticking_hold_holds_the_order_through_the_services(
    env: SheetEnv, policy: ShopPolicy
) -> None:
    number = factories.received_order(env.db, policy)
    env.cycle()
    row = int(env.row_of(f"{number}-02")["_row"])
    env.hands.set(ORDERS, row, env.col("hold"), True)

    report = env.cycle()

    assert report.edits_applied == 1
    assert _status(env, number) == OrderStatus.ON_HOLD
    assert env.row_of(f"{number}-01")["hold"] == "TRUE"
    assert env.row_of(f"{number}-01")["status"] == "on hold"
    with env.db.unit_of_work() as session:
        event = session.scalars(select(Event).where(Event.action == "hold")).one()
        assert event.channel == "sheet"
    env.hands.set(ORDERS, row, env.col("hold"), "FALSE")
    env.cycle()
    assert _status(env, number) == OrderStatus.PENDING


def test_personalization_and_notes_edits_are_applied_and_audited(
    env: SheetEnv, policy: ShopPolicy
) -> None:
    number = factories.received_order(env.db, policy)
    env.cycle()
    row = int(env.row_of(f"{number}-01")["_row"])
    env.hands.set(ORDERS, row, env.col("name"), "  BOB ")
    env.hands.set(ORDERS, row, env.col("notes"), "customer called: rush")

    env.cycle()

    with env.db.unit_of_work() as session:
        order = services.get_order(session, number)
        assert order.items[0].personalization["name"] == "BOB"
        actions = [
            e.action for e in session.scalars(select(Event).where(Event.order_id == order.id))
        ]
    assert {"edit_personalization", "sheet_note"} <= set(actions)
    shown = env.row_of(f"{number}-01")
    assert (shown["name"], shown["notes"], shown["sheet message"]) == (
        "BOB",
        "customer called: rush",
        "",
    )


def test_an_invalid_edit_is_reverted_and_the_reason_left_beside_it(
    env: SheetEnv, policy: ShopPolicy
) -> None:
    shipped = factories.shipped_order(env.db, policy)
    pending = factories.received_order(env.db, policy)
    env.cycle()
    env.hands.set(ORDERS, int(env.row_of(f"{shipped}-01")["_row"]), env.col("name"), "ZOE")
    env.hands.set(ORDERS, int(env.row_of(f"{pending}-01")["_row"]), env.col("hold"), "maybe")

    report = env.cycle()

    assert report.edits_refused == 2
    locked = env.row_of(f"{shipped}-01")
    assert locked["name"] == "ANA"
    assert (
        "'ZOE'" in locked["sheet message"] and "can no longer be changed" in locked["sheet message"]
    )
    held = env.row_of(f"{pending}-01")
    assert held["hold"] == "FALSE" and "'maybe'" in held["sheet message"]
    assert "TRUE" in held["sheet message"]
    assert env.cycle().edits_refused == 0
    assert "'ZOE'" in env.row_of(f"{shipped}-01")["sheet message"]


def _paste(env: SheetEnv, rows: list[list[object]], start: int = 2) -> None:
    for offset, cells in enumerate(rows):
        for col, value in enumerate(cells, start=1):
            env.hands.set(TRACKING, start + offset, col, value)


def _results(env: SheetEnv) -> list[str]:
    return [(row + [""] * 6)[5] for row in env.hands.values(TRACKING)[1:]]


def test_pasted_tracking_rows_are_imported_with_a_result_beside_each(
    env: SheetEnv, policy: ShopPolicy
) -> None:
    whole = factories.submitted_order(env.db, policy)
    partial = factories.submitted_order(env.db, policy)
    pending = factories.received_order(env.db, policy)
    env.cycle()
    _paste(
        env,
        [
            [f" #{whole} ", "ups", "1Z999AA10123456784"],
            [f"{partial}-01", "FedEx", "123456789012", "", "1"],
            ["99999", "UPS", "1Z999AA10123456785"],
            [pending, "UPS", "1Z999AA10123456786"],
            [partial, "USPS", "9.40011E+21"],
            [partial, "ups", "1Z999AA10123456787", "MUG-11OZ", "2026-01-02"],
            [f" #{whole} ", "ups", "1Z999AA10123456784"],
            [partial, '=HYPERLINK("x")', "1Z999AA10123456788"],
            [partial, "UPS", "1Z12"],
        ],
    )

    report = env.cycle()

    results = _results(env)
    assert results[0].startswith("imported ") and results[1].startswith("imported ")
    assert results[2] == "error: no order 99999"
    assert "cannot be marked shipped yet" in results[3] or "pending" in results[3]
    assert "9.40011E+21" in results[4] and "plain text" in results[4]
    assert "looks like a date" in results[5]
    assert "same tracking number as row 2" in results[6]
    assert "formula" in results[7]
    assert "does not look like a UPS tracking number" in results[8]
    assert (report.tracking_imported, report.tracking_errors) == (2, 7)
    assert _status(env, whole) == OrderStatus.SHIPPED
    assert _status(env, partial) == OrderStatus.PARTIALLY_SHIPPED
    assert env.row_of(f"{partial}-01")["shipped"] == "1"
    assert env.hands.values(TRACKING)[1][0].strip() == f"#{whole}"


def test_importing_twice_changes_nothing_and_an_edited_row_is_tried_again(
    env: SheetEnv, policy: ShopPolicy
) -> None:
    number = factories.submitted_order(env.db, policy)
    env.cycle()
    _paste(env, [[number, "UPS", "1Z999AA10123456784"], ["4242", "UPS", "1Z999AA10123456785"]])
    env.cycle()
    before = env.hands.values(TRACKING)

    again = env.cycle()

    assert env.hands.values(TRACKING) == before
    assert (again.tracking_imported, again.tracking_errors) == (0, 0)
    env.hands.set(TRACKING, 2, 6, None)
    env.cycle()
    assert _results(env)[0] == before[1][5]
    later = factories.submitted_order(env.db, policy)
    env.hands.set(TRACKING, 3, 1, later)
    env.cycle()
    assert _results(env)[1].startswith("imported ")
    assert _status(env, later) == OrderStatus.SHIPPED


def test_fulfilled_by_shop_completes_a_held_order_and_sends_nothing(
    env: SheetEnv, policy: ShopPolicy
) -> None:
    plain, parcel, typo = (factories.received_order(env.db, policy) for _ in range(3))
    with env.db.unit_of_work() as session:
        for number in (plain, parcel, typo):
            services.hold(session, number, factories.SYSTEM, "placed before podops watched")
    env.cycle()
    for number, typed in ((plain, "yes"), (parcel, "UPS 1Z999AA10123456784"), (typo, "maybe")):
        row = int(env.row_of(f"{number}-01")["_row"])
        env.hands.set(ORDERS, row, env.col(FULFILLED), typed)

    report = env.cycle()

    assert (report.edits_applied, report.edits_refused) == (2, 1)
    assert _status(env, plain) == _status(env, parcel) == OrderStatus.COMPLETED
    assert _status(env, typo) == OrderStatus.ON_HOLD
    assert "write yes if the shop fulfilled it" in env.row_of(f"{typo}-01")["sheet message"]
    assert env.row_of(f"{parcel}-01")["tracking"] == "UPS 1Z999AA10123456784"


def test_a_row_pasted_again_is_already_recorded_and_a_shared_number_warns(
    env: SheetEnv, policy: ShopPolicy
) -> None:
    first = factories.submitted_order(env.db, policy)
    second = factories.submitted_order(env.db, policy)
    env.cycle()
    _paste(env, [[first, "UPS", "1Z999AA10123456784"]])
    env.cycle()
    # The same parcel pasted again lower down (its cells differ only in spacing and
    # case), and the same number for another order: a combined parcel, or a typo.
    _paste(
        env, [[f"#{first}", "ups", "1Z999 AA10123456784"], [second, "UPS", "1Z999AA10123456784"]], 3
    )

    report = env.cycle()

    results = _results(env)
    assert results[1] == f"already recorded on order {first}"
    assert results[2].startswith("imported ") and results[2].endswith(
        f"; warning: tracking 1Z999AA10123456784 is also on order {first}: one parcel for "
        "several orders, or a typo?"
    )
    assert (report.tracking_imported, report.tracking_errors, report.tracking_already) == (1, 0, 1)
    assert "1 already recorded" in "\n".join(report.lines())
    assert _status(env, second) == OrderStatus.SHIPPED
    with env.db.unit_of_work() as session:
        shipped = session.scalars(select(Event).where(Event.action == "ship_all")).all()
        assert [e.detail.get("shared_with") for e in shipped] == [None, [first]]
