"""The Stats tab: the last 30 days by provider, one number per row, refreshed daily,
on Google Sheets (real gspread, fake server) and the local workbook alike."""

from __future__ import annotations

from datetime import timedelta

from podops.routing import ShopPolicy
from podops.settings import DatabaseConfig, Settings
from podops.sheet.stats import STATS, refresh_stats
from sync.sheets.mirror import jobs
from tests.factories import received_order, shipped_order
from tests.sheet.conftest import SheetEnv


def test_the_stats_tab_holds_the_report_and_drops_stale_rows(
    env: SheetEnv, policy: ShopPolicy
) -> None:
    settings = Settings(
        database=DatabaseConfig(url=str(env.db.url)), data_dir=env.settings.data_dir
    )
    shipped_order(env.db, policy, placed_at=env.now - timedelta(days=3))
    received_order(env.db, policy, placed_at=env.now - timedelta(days=2))
    numbers = refresh_stats(env.db, env.sheet, settings, env.now)
    values = env.hands.values(STATS)
    assert values[0] == ["section", "group", "currency", "measure", "value"]
    assert values[2][4] == "2 orders placed " + values[2][4].split("placed ")[1]
    rows = {(r[0], r[1], r[3]): r[4] for r in values[3:] if r and r[0]}
    assert rows[("quality", "manual", "orders")] == "1"
    assert rows[("quality", "(not sent)", "orders")] == "1"
    assert ("turnaround_days", "manual", "placed_shipped_median") in rows
    assert numbers == len(values) - 3

    # A month later nothing was placed: the tab says so and keeps no stale row.
    refresh_stats(env.db, env.sheet, settings, env.now + timedelta(days=60))
    later = [row for row in env.hands.values(STATS) if any(row)]
    assert later[2][4].startswith("No orders were placed")
    assert not [row for row in later if row[0] in ("quality", "turnaround_days")]


def test_it_is_refreshed_daily_at_the_summary_hour(env: SheetEnv) -> None:
    class Wired:
        settings = env.settings
        db = env.db
        sheet = env.sheet
        field_checks = None
        addresses = None

    [spec] = [s for s in jobs(Wired()) if s.name == "sheet.stats"]  # type: ignore[arg-type]
    assert spec.trigger == "cron" and spec.singleton
    assert (spec.trigger_args["hour"], spec.trigger_args["minute"]) == (8, 0)
