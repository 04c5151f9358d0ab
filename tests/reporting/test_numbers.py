"""The report's numbers from a known month: turnaround, late and stuck orders,
quality, money, and what cannot be timed."""

from __future__ import annotations

import math
from datetime import UTC, date

import pytest

from podops.db import Database
from podops.reporting.period import local_days
from podops.reporting.report import build_report
from tests.reporting.conftest import NOW, november, report_settings


def test_an_empty_period_is_an_empty_report_that_says_so(db: Database) -> None:
    period = local_days(date(2025, 1, 1), date(2025, 1, 31), UTC)
    report = build_report(db, report_settings(str(db.url)), period, "provider", NOW)
    assert report.empty and report.orders == 0
    assert report.headline == "No orders were placed 2025-01-01 to 2025-01-31: nothing to report."
    assert report.turnaround.empty and report.quality.empty and report.money.empty
    assert len(report.per_day) == 31


def test_turnaround_per_provider(db: Database, month: dict[str, str]) -> None:
    report = build_report(db, report_settings(str(db.url)), november(), "provider", NOW)
    row = report.turnaround.loc["manual"]
    # placed->shipped of the timed ones: 2, 3, 4, 9, 3 (untimed submit), 2 (EUR)
    assert row["placed_shipped_n"] == 6
    assert row["placed_shipped_median"] == pytest.approx(3.0)
    assert row["placed_shipped_p90"] == pytest.approx(6.5)
    # placed->submitted: 1, 1, 2, 3, 1 (stuck), 1 (EUR): the untimed one left out
    assert row["placed_submitted_n"] == 6 and row["placed_submitted_median"] == 1.0
    assert row["within_promise"] == pytest.approx(5 / 6)  # 9 days is over the 5 promised


def test_orders_without_times_are_counted_where_they_can_be_and_listed(
    db: Database, month: dict[str, str]
) -> None:
    report = build_report(db, report_settings(str(db.url)), november(), "store", NOW)
    assert [(n.reference, n.missing) for n in report.not_timed] == [
        (f"main:{month['untimed']}", "submitted time")
    ]


def test_late_and_stuck_orders_are_named(db: Database, month: dict[str, str]) -> None:
    report = build_report(db, report_settings(str(db.url)), november(), "provider", NOW)
    # oldest first: the stuck one is late too (submitted, placed 23 days ago)
    assert [(w.reference, w.status) for w in report.late] == [
        (f"main:{month['stuck']}", "submitted"),
        (f"main:{month['late']}", "pending"),
    ]
    assert report.late[1].days == pytest.approx(10) and report.late[1].limit == 3
    assert [w.reference for w in report.stuck] == [f"main-{month['stuck']}"]
    assert report.stuck[0].provider_order_id == f"P-{month['stuck']}"


def test_quality_counts_cancellations_before_submission(
    db: Database, month: dict[str, str]
) -> None:
    report = build_report(db, report_settings(str(db.url)), november(), "store", NOW)
    row = report.quality.loc["main"]
    assert row["orders"] == 9
    assert (row["cancelled_before"], row["cancelled_after"], row["returned"]) == (1, 0, 0)


def test_margin_is_unknown_when_a_provider_reports_no_charge(
    db: Database, month: dict[str, str]
) -> None:
    report = build_report(db, report_settings(str(db.url)), november(), "store", NOW)
    money = report.money.set_index(["store", "currency"])
    usd = money.loc[("main", "USD")]
    # 5 shipped or stuck USD orders charged 20.00 each, one with no charge reported
    # (its margin unknown, not 42.50), one pending (not at a provider yet); the one
    # cancelled before submission earned nothing and cost nothing.
    assert usd["margin_orders"] == 6 and usd["margin_unknown"] == 2
    fee = 42.50 * 0.03 + 0.30
    assert usd["margin"] == pytest.approx(5 * (42.50 - 20.00 - fee))
    assert usd["basis"] == "estimate"
    eur = money.loc[("main", "EUR")]  # apart, never summed with dollars
    assert eur["orders"] == 1 and eur["margin"] == pytest.approx(42.50 - 18.00 - fee)
    assert any("EUR" in note for note in report.notes)


def test_without_configured_fees_the_margin_says_so(db: Database, month: dict[str, str]) -> None:
    report = build_report(db, report_settings(str(db.url), fees=False), november(), "store", NOW)
    usd = report.money.set_index(["store", "currency"]).loc[("main", "USD")]
    assert usd["basis"] == "before store fees"
    assert usd["margin"] == pytest.approx(5 * (42.50 - 20.00))
    assert not math.isnan(usd["margin_per_order"])
