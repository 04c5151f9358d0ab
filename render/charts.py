"""Charts people read in Slack's preview, drawn with matplotlib (Agg, no display):
the daily summary's orders per day stacked by store with late orders marked, and the
weekly report's charts. Every chart has a title, labelled axes and the shop's time
zone, and lays its labels out so none overlap (constrained layout, rotated days).

matplotlib is imported only here, and the service draws in a short-lived child
process (`podops.reporting.apart`), so the idle service never holds it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from podops.ports.notify import Chart, DailySummary

if TYPE_CHECKING:
    from podops.reporting.report import Report

SIZE_IN = (9.0, 4.2)
DPI = 100
LATE_COLOR = "#c62828"
PALETTE = ("#2e7dc8", "#f0a030", "#43a047", "#8e6cc0", "#00897b", "#6d4c41", "#d81b60")
MAX_DAY_LABELS = 16
"""More days than this are labelled every other (third...) day, so labels never touch."""
MAX_STORES = len(PALETTE) - 1
"""More stores than this are drawn as the largest ones and "other"."""


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    _pyplot().close(figure)
    return buffer.getvalue()


def _fold_stores(per_store: Sequence[dict[str, int]]) -> dict[str, list[int]]:
    totals: dict[str, int] = {}
    for day in per_store:
        for store, count in day.items():
            totals[store] = totals.get(store, 0) + count
    ranked = sorted(totals, key=lambda s: (-totals[s], s))
    kept = ranked[:MAX_STORES] if len(ranked) > MAX_STORES + 1 else ranked
    series = {store: [day.get(store, 0) for day in per_store] for store in kept}
    rest = [s for s in ranked if s not in kept]
    if rest:
        series["other"] = [sum(day.get(s, 0) for s in rest) for day in per_store]
    return series


def orders_per_day_chart(
    days: Sequence[date],
    per_store: Sequence[dict[str, int]],
    late: Sequence[int],
    *,
    title: str,
    timezone: str,
) -> bytes:
    """Bars of orders per day stacked by store; a red mark and count over each day whose
    orders include late ones."""
    from matplotlib.ticker import MaxNLocator

    plt = _pyplot()
    figure, axes = plt.subplots(figsize=SIZE_IN, layout="constrained")
    positions = list(range(len(days)))
    bottom = [0] * len(days)
    for (store, counts), color in zip(_fold_stores(per_store).items(), PALETTE, strict=False):
        axes.bar(positions, counts, bottom=bottom, color=color, label=store, width=0.7)
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    if any(late):
        marked = [(x, top, n) for x, top, n in zip(positions, bottom, late, strict=True) if n]
        axes.scatter(
            [x for x, _, _ in marked],
            [top for _, top, _ in marked],
            marker="v",
            color=LATE_COLOR,
            zorder=3,
            label="late (count)",
        )
        for x, top, n in marked:
            axes.annotate(
                str(n),
                (x, top),
                textcoords="offset points",
                xytext=(0, 6),
                ha="center",
                color=LATE_COLOR,
                fontsize=8,
            )
    axes.set_title(title)
    axes.set_xlabel(f"Day placed ({timezone})")
    axes.set_ylabel("Orders")
    step = max(1, -(-len(days) // MAX_DAY_LABELS))
    axes.set_xticks(positions[::step], [d.strftime("%a %d %b") for d in days][::step])
    plt.setp(axes.get_xticklabels(), rotation=45, ha="right", rotation_mode="anchor")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylim(0, max([*bottom, 1]) * 1.18)
    axes.margins(x=0.01)
    axes.grid(axis="y", alpha=0.3)
    if bottom and any(bottom):
        axes.legend(loc="upper left", fontsize=8, ncols=4, frameon=False)
    else:
        axes.text(0.5, 0.5, "No orders", transform=axes.transAxes, ha="center", color="gray")
    return _png(figure)


def summary_chart(summary: DailySummary) -> bytes:
    """The daily summary's chart: its 14 days, stacked by store, late orders marked."""
    days = [day for day, _ in summary.per_day]
    per_store = summary.per_store or [{"orders": n} for _, n in summary.per_day]
    late = summary.late_per_day or [0] * len(days)
    last = days[-1].isoformat() if days else summary.day.isoformat()
    return orders_per_day_chart(
        days,
        per_store,
        late,
        title=f"Orders per day, {len(days)} days to {last}",
        timezone=summary.timezone,
    )


def turnaround_chart(report: Report) -> bytes:
    """Median placed -> shipped days per group, p90 as a whisker, the promise marked."""
    import numpy as np

    plt = _pyplot()
    table = report.turnaround
    figure, axes = plt.subplots(figsize=SIZE_IN, layout="constrained")
    names = [str(n) for n in table.index]
    median = table["placed_shipped_median"].to_numpy(dtype=float, na_value=np.nan)
    p90 = table["placed_shipped_p90"].to_numpy(dtype=float, na_value=np.nan)
    rows = np.arange(len(names))
    axes.barh(rows, np.nan_to_num(median), height=0.5, color=PALETTE[0], label="median")
    axes.set_ylim(len(names) - 0.5 if len(names) > 1 else 1, -0.5 if len(names) > 1 else -1)
    spread = np.nan_to_num(np.clip(p90 - median, 0, None))
    axes.errorbar(
        np.nan_to_num(median),
        rows,
        xerr=[np.zeros_like(spread), spread],
        fmt="none",
        ecolor="#333333",
        capsize=4,
        label="90th percentile",
    )
    share = table["within_promise"].to_numpy(dtype=float, na_value=np.nan)
    for row, (m, s) in enumerate(zip(median, share, strict=True)):
        text = (
            "not timed"
            if np.isnan(m)
            else f"{m:.1f} d" + ("" if np.isnan(s) else f", {s:.0%} on time")
        )
        axes.annotate(
            text,
            (0 if np.isnan(m) else m, row),
            xytext=(6, -10),
            textcoords="offset points",
            fontsize=8,
        )
    axes.set_yticks(rows, names)
    axes.set_title(f"Placed to shipped by {report.by}, {report.period.label}")
    axes.set_xlabel("Days (orders placed in the period)")
    axes.set_ylabel(report.by.capitalize())
    axes.grid(axis="x", alpha=0.3)
    if names:
        axes.legend(loc="lower right", fontsize=8, frameon=False)
    return _png(figure)


QUALITY_BARS = (
    ("failed", "submit failed"),
    ("rejections", "rejected"),
    ("cancelled_after", "cancelled after submission"),
    ("returned", "returned"),
    ("design_fix", "needed a design fix"),
)


def quality_chart(report: Report) -> bytes:
    """Per group, the share of its orders that failed, were rejected, cancelled after
    submission, returned or needed a design fix."""
    import numpy as np

    plt = _pyplot()
    table = report.quality
    figure, axes = plt.subplots(figsize=SIZE_IN, layout="constrained")
    names = [str(n) for n in table.index]
    orders = table["orders"].to_numpy(dtype=float)
    rows = np.arange(len(names))
    height = 0.8 / len(QUALITY_BARS)
    top = 0.0
    for index, ((column, label), color) in enumerate(zip(QUALITY_BARS, PALETTE, strict=False)):
        share = np.divide(
            table[column].to_numpy(dtype=float), orders, out=np.zeros(len(names)), where=orders > 0
        )
        axes.barh(rows + index * height, share * 100, height=height, color=color, label=label)
        top = max([top, *(share * 100)])
    axes.set_xlim(0, max(10.0, top * 1.15))
    if top == 0:
        axes.text(0.5, 0.5, "No problems", transform=axes.transAxes, ha="center", color="gray")
    axes.set_yticks(
        rows + 0.4 - height / 2, [f"{n} ({int(o)})" for n, o in zip(names, orders, strict=True)]
    )
    axes.invert_yaxis()
    axes.set_title(f"Problems by {report.by}, {report.period.label}")
    axes.set_xlabel("% of the group's orders")
    axes.set_ylabel(f"{report.by.capitalize()} (orders)")
    axes.grid(axis="x", alpha=0.3)
    axes.legend(loc="lower right", fontsize=8, frameon=False)
    return _png(figure)


def report_charts(report: Report) -> list[Chart]:
    """The weekly report's charts: orders per day by store, turnaround and problems."""
    per_day = report.per_day
    days = list(per_day.index) if per_day is not None else []
    per_store = (
        [{str(store): int(count) for store, count in row.items()} for _, row in per_day.iterrows()]
        if per_day is not None
        else []
    )
    stem = report.period.first_day.isoformat()
    charts = [
        Chart(
            f"orders-{stem}.png",
            "Orders per day",
            orders_per_day_chart(
                days,
                per_store,
                [0] * len(days),
                title=f"Orders per day, {report.period.label}",
                timezone=report.period_timezone,
            ),
        )
    ]
    if not report.empty:
        charts.append(Chart(f"turnaround-{stem}.png", "Turnaround", turnaround_chart(report)))
        charts.append(Chart(f"problems-{stem}.png", "Problems", quality_chart(report)))
    return charts
