"""A sheet written before columns were added (here: preview and the later "fulfilled by
shop") is upgraded without losing edits."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from podops.models import SyncState
from podops.routing import ShopPolicy
from podops.sheet.rows import FIXED_HEADERS, ORDERS, PREVIEW, TAIL_START
from sync.sheets.mirror import STATE_KEY
from tests import factories
from tests.sheet.conftest import SheetEnv


def test_a_sheet_without_the_preview_column_keeps_staff_edits_when_upgraded(
    env: SheetEnv, policy: ShopPolicy, tmp_path: Path
) -> None:
    if env.kind != "xlsx":
        pytest.skip("the old layout is made by deleting a workbook column")
    number = factories.received_order(env.db, policy)
    env.cycle()
    column, name = env.col(PREVIEW), env.col("name")
    newer = FIXED_HEADERS[FIXED_HEADERS.index(PREVIEW) :]  # preview and every column after it
    path = tmp_path / "orders.xlsx"
    book = openpyxl.load_workbook(path)
    book[ORDERS].delete_cols(column, len(newer))
    book.save(path)
    with env.db.unit_of_work() as session:
        state = session.get(SyncState, STATE_KEY)
        assert state is not None
        value = dict(state.value)
        value["headers"] = [h for h in value["headers"] if h not in newer]
        value["rows"] = {
            k: r[: column - 1] + r[column - 1 + len(newer) :] for k, r in value["rows"].items()
        }
        state.value = value
    row = int(env.row_of(f"{number}-01")["_row"])
    env.hands.set(ORDERS, row, TAIL_START + 3, "rush order")  # notes, old layout
    env.hands.set(ORDERS, row, name - len(newer), "BOB")  # fields sit left of today's
    env.hands.set(ORDERS, row, column, "Hi there")  # the first field: where preview goes now

    report = env.cycle()

    assert (report.edits_applied, report.edits_refused) == (3, 0)
    shown = env.row_of(f"{number}-01")
    assert (shown["notes"], shown["name"], shown["message"]) == ("rush order", "BOB", "Hi there")
    assert shown[PREVIEW] == ""
    assert shown["hold"] == "FALSE"
