"""Values a spreadsheet changes behind people's backs: long numbers and formulas."""

from __future__ import annotations

from podops import services
from podops.routing import ShopPolicy
from podops.sheet.rows import ORDERS, TRACKING
from tests import factories
from tests.sheet.conftest import SheetEnv


def _results(env: SheetEnv) -> list[str]:
    return [(row + [""] * 6)[5] for row in env.hands.values(TRACKING)[1:]]


def test_a_tracking_number_the_spreadsheet_stored_as_a_number_is_refused(
    env: SheetEnv, policy: ShopPolicy
) -> None:
    number = factories.submitted_order(env.db, policy)
    env.cycle()
    # What a 22-digit USPS number and a 16-digit one become when pasted into a number cell.
    for row, value in ((2, 9.400111234567891e21), (3, 1234567890123450)):
        env.hands.set(TRACKING, row, 1, number)
        env.hands.set(TRACKING, row, 2, "USPS")
        env.hands.set(TRACKING, row, 3, value)

    report = env.cycle()

    results = _results(env)
    assert "9.40011E+21" in results[0] and "format the column as plain text" in results[0]
    assert "1.23457E+15" in results[1] and "paste it again" in results[1]
    assert report.tracking_imported == 0
    with env.db.unit_of_work() as session:
        assert not services.get_order(session, number).shipments


def test_a_formula_typed_into_an_editable_cell_is_refused_once_with_a_reason(
    env: SheetEnv, policy: ShopPolicy
) -> None:
    number = factories.received_order(env.db, policy)
    env.cycle()
    row = int(env.row_of(f"{number}-01")["_row"])
    env.hands.set(ORDERS, row, env.col("notes"), "=NOW()")
    env.hands.set(ORDERS, row, env.col("name"), "=1+1")

    report = env.cycle()

    assert (report.edits_applied, report.edits_refused) == (0, 2)
    shown = env.row_of(f"{number}-01")
    assert (shown["notes"], shown["name"]) == ("", "ANA")
    assert "formula" in shown["sheet message"]
    with env.db.unit_of_work() as session:
        assert services.get_order(session, number).items[0].personalization["name"] == "ANA"
    quiet = env.cycle()
    assert (quiet.edits_refused, quiet.requests.writes) == (0, 0)


def test_a_formula_in_the_tracking_tab_is_refused_not_its_result(
    env: SheetEnv, policy: ShopPolicy
) -> None:
    number = factories.submitted_order(env.db, policy)
    env.cycle()
    env.hands.set(TRACKING, 2, 1, number)
    env.hands.set(TRACKING, 2, 2, "UPS")
    env.hands.set(TRACKING, 2, 3, '="1Z999AA10123456784"')

    env.cycle()

    assert "formula" in _results(env)[0]
    with env.db.unit_of_work() as session:
        assert not services.get_order(session, number).shipments
