"""`podops report` as the owner runs it: the table, the files, JSON, and the refusals."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from podops.cli.main import main
from podops.db import Database


def config_for(db: Database, tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "podops.toml"
    path.write_text(
        f'data_dir = "{tmp_path}"\n[database]\nurl = "{db.url}"\n'
        '[stores.main]\nplatform = "csv"\ndefault_provider = "manual"\n'
        "[stores.main.fees]\npercent = 3\nfixed = 0.30\n"
        '[providers.manual]\nkind = "manual"\npromised_days = 5\n' + extra
    )
    return path


def test_the_table_names_groups_late_orders_and_what_is_estimated(
    db: Database, month: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_for(db, tmp_path)
    args = ["-c", str(config), "report", "--from", "2026-11-01", "--to", "2026-11-30"]
    assert main([*args, "--by", "store"]) == 0
    out = capsys.readouterr().out
    assert "9 orders placed 2026-11-01 to 2026-11-30, by store" in out
    assert "Turnaround" in out and "Quality" in out and "Money" in out
    assert f"main:{month['late']}" in out  # late orders are listed by reference
    assert f"main:{month['untimed']}: no submitted time" in out
    usd = next(line for line in out.splitlines() if " USD " in line)
    assert "~" in usd and "estimate" in out  # the margin is marked, the mark explained
    assert "delivered: not known" in out


def test_json_csv_and_xlsx_carry_the_same_numbers(
    db: Database, month: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_for(db, tmp_path)
    csv_path, xlsx_path = tmp_path / "r.csv", tmp_path / "r.xlsx"
    args = ["-c", str(config), "report", "--from", "2026-11-01", "--to", "2026-11-30"]
    assert main([*args, "--json", "--csv", str(csv_path), "--xlsx", str(xlsx_path)]) == 0
    data = json.loads(capsys.readouterr().out)
    groups = {row["provider"]: row for row in data["turnaround_days"]}
    assert set(groups) == {"manual", "(not sent)"}  # cancelled and late: never sent
    assert groups["manual"]["placed_shipped_median"] == 3.0
    rows = list(csv.DictReader(csv_path.open()))
    median = [r for r in rows if r["group"] == "manual" and r["measure"] == "placed_shipped_median"]
    assert [r["value"] for r in median] == ["3.0"]
    book = load_workbook(xlsx_path)
    assert {"Turnaround (days)", "Quality", "Money", "Late", "Not timed"} <= set(book.sheetnames)
    sheet = book["Turnaround (days)"]
    header = [c.value for c in sheet[1]]
    medians = [
        row[header.index("placed_shipped_median")]
        for row in sheet.iter_rows(min_row=2, values_only=True)
    ]
    assert 3.0 in medians


def test_an_empty_period_says_so(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_for(db, tmp_path)
    assert main(["-c", str(config), "report", "--since", "7d"]) == 0
    assert "nothing to report" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--since", "soon"], "not a period"),
        (["--since", "7d", "--from", "2026-11-01"], "not both"),
        (["--from", "2026-11-30", "--to", "2026-11-01"], "before it starts"),
        (["--from", "1/11/2026"], "expected YYYY-MM-DD"),
        (["--by", "colour"], "cannot group by 'colour'"),
    ],
)
def test_bad_options_are_usage_errors(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], said: str
) -> None:
    config = config_for(db, tmp_path)
    assert main(["-c", str(config), "report", *args]) == 2
    assert said in capsys.readouterr().err
