"""A report as data: a JSON document and a tidy CSV (one measure per row); the .xlsx
workbook is written by the CLI (`podops.cli.report_xlsx`: openpyxl is an adapter
library the core does not import)."""

from __future__ import annotations

import csv
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd

from podops.reporting.report import Report

CSV_COLUMNS = ("section", "group", "currency", "measure", "value")


def plain(value: Any) -> Any:
    """A JSON/CSV value: NaN and NA become None, numpy numbers plain Python."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):
        value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
    if isinstance(value, float):
        return round(value, 4)
    return value


def _records(table: pd.DataFrame, index: bool = True) -> list[dict[str, Any]]:
    frame = table.reset_index() if index else table
    return [{k: plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def as_dict(report: Report) -> dict[str, Any]:
    return {
        "period": {
            "from": report.period.first_day.isoformat(),
            "to": report.period.last_day.isoformat(),
            "start_utc": report.period.start.isoformat(),
            "end_utc": report.period.end.isoformat(),
        },
        "by": report.by,
        "generated_at": report.generated_at.isoformat(),
        "currency": report.currency,
        "orders": report.orders,
        "empty": report.empty,
        "headline": report.headline,
        "turnaround_days": _records(report.turnaround),
        "quality": _records(report.quality),
        "money": _records(report.money, index=False),
        "failure_reasons": [
            {"provider": p, "reason": r, "count": n} for p, r, n in report.failure_reasons
        ],
        "remakes": [{"reason": r, "paid_by": p, "count": n} for r, p, n in report.remakes],
        "late": [{k: plain(v) for k, v in asdict(w).items()} for w in report.late],
        "stuck": [{k: plain(v) for k, v in asdict(w).items()} for w in report.stuck],
        "not_timed": [asdict(n) for n in report.not_timed],
        "notes": report.notes,
    }


def tidy_rows(report: Report) -> list[tuple[Any, ...]]:
    """(section, group, currency, measure, value) for every number of the report."""
    rows: list[tuple[Any, ...]] = []
    for section, table in (("turnaround_days", report.turnaround), ("quality", report.quality)):
        for group, values in table.iterrows():
            for measure, value in values.items():
                rows.append((section, group, "", measure, plain(value)))
    for record in _records(report.money, index=False):
        group, currency = record.pop(report.by), record.pop("currency")
        for measure, value in record.items():
            rows.append(("money", group, currency, measure, value))
    for name, watched in (("late", report.late), ("stuck", report.stuck)):
        for w in watched:
            rows.append((name, w.reference, "", "days", round(w.days, 2)))
    for n in report.not_timed:
        rows.append(("not_timed", n.reference, "", "missing", n.missing))
    for note in report.notes:
        rows.append(("note", "", "", "", note))
    return rows


def write_csv(report: Report, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        writer.writerow(("report", "", "", "headline", report.headline))
        writer.writerows(tidy_rows(report))
