"""A 10,000-row outside-orders file with a few malformed rows: every row gets its own
result, the good rows import, the table of refused rows always prints (text from the
file shown as typed, never read as markup), no traceback, exit code 1."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from podops.cli.main import main
from podops.db import Database
from podops.models import Order
from tests.intake.test_outside_orders import _config

ROWS = 10_000
HEADER = "order_number,customer_name,address1,country,sku,product_name,quantity,p:name\n"
BAD_ROWS = {
    # file row number (the header is row 1) -> (the row, what its result must say)
    101: ("Q-SUP,Ana,1 Rd,GB,TEE-1,Tee,²,Ana", "quantity '²' is not a whole number"),
    2002: ("Q-BIG,Bo,1 Rd,GB,TEE-1,Tee,12345678901234567890,Bo", "is more than 1,000,000"),
    5003: ("Q-MARK,Cy,1 Rd,GB,TEE-1,Tee,[/bold],Cy", "quantity '[/bold]' is not a whole"),
    8004: ("[/bold]Q-NUM,Di,1 Rd,GB,TEE-1,Tee,x,Di", "quantity 'x' is not a whole"),
}
FLAGGED_ROWS = {
    # good enough to import, held for staff with the reason
    3001: "N-NUL,Zo\x00ë,1 Rd,GB,TEE-1,Tee,1,Zoë",
    6001: "M-MARK,Ed,1 Rd,GB,TEE-1,[/bold]Tee[red],1,[/i]Ed\x00",
}


def _results(output: str) -> dict[int, str]:
    """The import table's Result per file row (wrapped cells joined again)."""
    results: dict[int, list[str]] = {}
    current: list[str] | None = None
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.split("│")]
        if len(cells) != 3:
            continue
        if cells[0].isdigit():
            current = results.setdefault(int(cells[0]), [])
        if current is not None:
            current.append(cells[2])
    return {row: " ".join(parts) for row, parts in results.items()}


def _file(path: Path) -> Path:
    lines = [HEADER]
    for row in range(2, ROWS + 2):
        if row in BAD_ROWS:
            lines.append(BAD_ROWS[row][0] + "\n")
        elif row in FLAGGED_ROWS:
            lines.append(FLAGGED_ROWS[row] + "\n")
        else:
            lines.append(f"G-{row},Customer {row},{row} Main St,US,TEE-1,Tee,1,Name{row}\n")
    path.write_text("".join(lines), encoding="utf-8")
    return path


@pytest.mark.slow
def test_a_large_file_with_bad_rows_imports_the_good_ones_and_names_the_bad(
    tmp_path: Path, db: Database, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, db_url)
    orders_csv = _file(tmp_path / "orders.csv")
    code = main(["--config", str(config), "orders", "import", str(orders_csv)])
    captured = capsys.readouterr()
    output = " ".join((captured.out + captured.err).split())
    assert code == 1, output[-2000:]
    assert "Traceback" not in output
    good = ROWS - len(BAD_ROWS)
    assert f"{good} new order(s)" in output
    assert f"{len(BAD_ROWS)} row(s) with errors" in output
    results = _results(captured.out)
    assert len(results) == ROWS, "every row has its own result"
    for row, (_, said) in BAD_ROWS.items():
        assert results[row].startswith("error:"), (row, results[row])
        assert said.replace(" ", "") in results[row].replace(" ", ""), (row, results[row])
    assert "[/bold]Q-NUM" in output, "an order number is shown as typed"
    for row in FLAGGED_ROWS:
        assert results[row].startswith("imported, waits for staff"), results[row]
    assert sum(1 for text in results.values() if text == "imported") == good - len(FLAGGED_ROWS)
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == good
        waiting = select(Order).where(Order.status.in_(["on_hold", "needs_design"]))
        held = {o.number: o for o in session.scalars(waiting)}
        assert sorted(held) == ["M-MARK", "N-NUL"]
        assert held["M-MARK"].status == "needs_design", "its only name had a NUL: not used"
        assert held["N-NUL"].customer_name == "Zoë"
        assert held["M-MARK"].items[0].name == "[/bold]Tee[red]"
