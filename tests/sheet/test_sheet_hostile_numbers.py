"""The sheet with every hostile but legal order number (`tests/hostile_numbers.py`),
on both adapters: each order's rows show its number as the store sent it, a hold
ticked on its row holds that order and no other, and a Tracking row naming it
records the parcel on it (or, for text that names two orders, is refused)."""

from __future__ import annotations

from podops import services
from podops.refs import OrderRef
from podops.routing import ShopPolicy
from podops.sheet.rows import ORDERS, TRACKING
from podops.status import OrderStatus
from tests import factories
from tests.hostile_numbers import (
    AMBIGUOUS,
    HOSTILE_NUMBERS,
    orders_snapshot,
    status_of_number,
    store_id,
)
from tests.sheet.conftest import SheetEnv

PASTED_FOR = {"#1001": "main:#1001", "main:1001": "main:main:1001"}
"""What staff paste in the Tracking tab for the numbers whose own text names two orders."""


def test_every_number_has_its_rows_and_its_hold(env: SheetEnv, policy: ShopPolicy) -> None:
    for number in HOSTILE_NUMBERS:
        factories.received_order(env.db, policy, number=number, external_id=store_id(number))
    env.cycle()
    rows = {row["line"]: row for row in env.orders_rows()}
    for number in HOSTILE_NUMBERS:
        assert rows[f"{number}-01"]["order"] == number
        assert rows[f"{number}-02"]["order"] == number
    for number in HOSTILE_NUMBERS:
        before = orders_snapshot(env.db)
        row = int(rows[f"{number}-01"]["_row"])
        env.hands.set(ORDERS, row, env.col("hold"), "TRUE")
        assert env.cycle().edits_applied == 1
        after = orders_snapshot(env.db)
        assert {n for n in before if before[n] != after[n]} == {number}
        assert status_of_number(env.db, number) == OrderStatus.ON_HOLD


def test_a_tracking_row_names_each_number_or_is_refused(env: SheetEnv, policy: ShopPolicy) -> None:
    for number in HOSTILE_NUMBERS:
        factories.submitted_order(env.db, policy, number=number, external_id=store_id(number))
    env.cycle()
    pasted = [PASTED_FOR.get(n, n) for n in HOSTILE_NUMBERS] + list(AMBIGUOUS)
    for row, text in enumerate(pasted, start=2):
        for col, value in enumerate([text, "Acme Freight", f"ACME{row:08d}"], start=1):
            env.hands.set(TRACKING, row, col, value)
    before = orders_snapshot(env.db)
    env.cycle()
    results = [(r + [""] * 6)[5] for r in env.hands.values(TRACKING)[1:]]
    assert len(results) == len(pasted)
    for number, result in zip(HOSTILE_NUMBERS, results, strict=False):
        assert result.startswith("imported"), (number, result)
        with env.db.unit_of_work() as session:
            order = services.get_order(session, OrderRef("main", number))
            assert [s.carrier for s in order.shipments] == ["Acme Freight"], number
    for result in results[len(HOSTILE_NUMBERS) :]:
        assert "names more than one order" in result, result
    after = orders_snapshot(env.db)
    assert {n for n in before if before[n] != after[n]} == set(HOSTILE_NUMBERS)
