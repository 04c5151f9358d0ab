"""The sheet's **Stats** tab: the last `reports.stats_days` days' report by provider, one
number per row (section, group, currency, measure, value), refreshed daily.

The numbers are computed in a child process (pandas stays out of the service:
`podops.reporting.apart`); the tab is protected (nobody edits it) and rewritten whole
in one batched write, padded with blank rows over what the last refresh wrote, so no
stale row survives a shorter report.
"""

from __future__ import annotations

from datetime import datetime

from podops.db import Database
from podops.models import SyncState, utcnow
from podops.ports.sheet import Cell, CellBlock, Spreadsheet, TabSpec
from podops.settings import Settings

STATS = "Stats"
STATS_HEADERS = ("section", "group", "currency", "measure", "value")
STATE_KEY = "sheet.stats"


def stats_tab() -> TabSpec:
    return TabSpec(title=STATS, headers=STATS_HEADERS, protect_all=True)


def stats_rows(settings: Settings, now: datetime) -> list[list[Cell]]:
    """The header and one row per number (run in a child process: it imports pandas)."""
    from podops.reporting.export import tidy_rows
    from podops.reporting.period import last_days
    from podops.reporting.report import build_report

    db = Database(settings.database_url)
    try:
        period = last_days(settings.reports.stats_days, settings.tz, now)
        report = build_report(db, settings, period, "provider", now)
    finally:
        db.dispose()
    rows: list[list[Cell]] = [list(STATS_HEADERS)]
    rows.append(
        ["report", "", "", "refreshed", now.astimezone(settings.tz).isoformat(" ", "minutes")]
    )
    rows.append(["report", "", "", "headline", report.headline])
    for row in tidy_rows(report):
        rows.append(["" if value is None else value for value in row])
    return rows


def refresh_stats(
    db: Database, sheet: Spreadsheet, settings: Settings, now: datetime | None = None
) -> int:
    """Rewrite the Stats tab; returns how many numbers it holds."""
    from podops.reporting.apart import run_apart

    now = now or utcnow()
    rows = run_apart(stats_rows, settings, now)
    with db.unit_of_work() as session:
        state = session.get(SyncState, STATE_KEY)
        before = int((state.value if state else {}).get("rows", 0))
    blank: list[Cell] = [""] * len(STATS_HEADERS)
    padded = rows + [list(blank) for _ in range(max(0, before - len(rows)))]
    sheet.prepare([stats_tab()], {STATS: len(padded)})
    sheet.write([CellBlock(STATS, 1, 1, padded)])
    with db.unit_of_work() as session:
        state = session.get(SyncState, STATE_KEY)
        if state is None:
            session.add(SyncState(key=STATE_KEY, value={"rows": len(rows)}))
        else:
            state.value = {"rows": len(rows)}
    return len(rows) - 3
