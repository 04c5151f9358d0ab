"""The sheet keeps telling the truth when people change what they should not."""

from __future__ import annotations

from podops import services
from podops.routing import ShopPolicy
from podops.sheet_rows import ORDERS
from podops.status import OrderStatus
from tests import factories
from tests.sheet.conftest import SheetEnv


def test_a_hand_edit_of_a_read_only_cell_is_put_back_in_the_one_write(
    env: SheetEnv, policy: ShopPolicy
) -> None:
    number = factories.received_order(env.db, policy)
    env.cycle()
    row = int(env.row_of(f"{number}-01")["_row"])
    env.hands.set(ORDERS, row, env.col("status"), "shipped")
    env.hands.set(ORDERS, row, env.col("customer"), "Somebody Else")

    report = env.cycle()

    shown = env.row_of(f"{number}-01")
    assert (shown["status"], shown["customer"]) == ("pending", "Ana Smith")
    assert report.restored == 1
    assert (report.requests.reads, report.requests.writes) == (1, 1)
    with env.db.unit_of_work() as session:
        assert services.get_order(session, number).status == OrderStatus.PENDING
    assert env.cycle().requests.writes == 0


def test_a_row_whose_key_was_cleared_keeps_what_was_typed_and_is_not_duplicated(
    env: SheetEnv, policy: ShopPolicy
) -> None:
    number = factories.received_order(env.db, policy)
    env.cycle()
    row = int(env.row_of(f"{number}-01")["_row"])
    env.hands.set(ORDERS, row, 1, "")
    env.hands.set(ORDERS, row, env.col("notes"), "gift wrap")

    env.cycle()

    rows = [r for r in env.orders_rows() if r["line"] == f"{number}-01"]
    assert len(rows) == 1
    assert rows[0]["key"] and rows[0]["notes"] == "gift wrap"
    assert len(env.orders_rows()) == 2
    env.cycle()
    assert len(env.orders_rows()) == 2


def test_a_keyless_row_that_matches_no_line_gets_a_message_and_is_left_alone(
    env: SheetEnv, policy: ShopPolicy
) -> None:
    factories.received_order(env.db, policy)
    env.cycle()
    env.hands.set(ORDERS, 4, env.col("notes"), "call the customer back")

    env.cycle()

    values = env.hands.values(ORDERS)
    header = values[0]
    typed = dict(zip(header, values[3] + [""] * len(header), strict=False))
    assert typed["notes"] == "call the customer back"
    assert "hidden key" in typed["sheet message"] and "not read" in typed["sheet message"]
    assert env.cycle().requests.writes == 0
