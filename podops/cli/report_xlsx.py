"""`podops report --xlsx`: the report as a workbook, one sheet per table, written with
openpyxl (which podops already uses for its local spreadsheet)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from podops.reporting.export import as_dict, plain
from podops.reporting.report import Report


def write_xlsx(report: Report, path: Path) -> None:
    """One sheet per table. Text starting with `=` (a SKU, a provider's reason) is
    stored as text, never as a formula, as the local workbook does."""
    from openpyxl import Workbook

    data = as_dict(report)
    sheets: dict[str, pd.DataFrame] = {
        "Report": pd.DataFrame(
            {
                "item": ["headline", "period", "grouped by", "orders", "currency", "generated"],
                "value": [
                    report.headline,
                    report.period.label,
                    report.by,
                    report.orders,
                    report.currency,
                    report.generated_at.isoformat(),
                ],
            }
        ),
        "Turnaround (days)": report.turnaround.reset_index(),
        "Quality": report.quality.reset_index(),
        "Money": report.money,
        "Late": pd.DataFrame(data["late"]),
        "Stuck": pd.DataFrame(data["stuck"]),
        "Not timed": pd.DataFrame(data["not_timed"]),
        "Failure reasons": pd.DataFrame(data["failure_reasons"]),
        "Notes": pd.DataFrame({"note": report.notes}),
    }
    book = Workbook()
    for blank in list(book.worksheets):
        book.remove(blank)
    for name, table in sheets.items():
        sheet = book.create_sheet(name)
        sheet.append([str(c) for c in table.columns])
        for values in table.itertuples(index=False):
            sheet.append([plain(v) for v in values])
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"
    book.save(path)
