"""`podops report`: turnaround, late and stuck orders, provider quality and margin over
a period, as a rich table, or written as CSV, .xlsx or JSON.

pandas is imported only when the command runs (podops.reporting), so every other
command starts as fast as before."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from podops.cli.args import UsageProblem
from podops.cli.styled import styled
from podops.errors import InvalidInput

if TYPE_CHECKING:
    from podops.reporting.report import Report
    from podops.reporting.watch import Watched

LIST_ROWS = 20
BASIS_MARKS = {"estimate": "~", "before store fees": "^", "estimate, before store fees": "~^"}
MONEY_LEGEND = (
    "~ estimate (configured fees, or a refund's amount); ^ before store and payment fees "
    "(none configured); Unknown: orders whose margin is not known (a provider reported no "
    "charge, or the order is not at a provider yet), left out of the margin."
)


def _days(value: Any) -> str:
    return (
        "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.1f}"
    )


def _share(value: Any) -> str:
    return (
        "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.0%}"
    )


def _money(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "unknown"
    return f"{value:,.2f}"


def print_report(console: Console, report: Report) -> None:
    console.print(styled("[bold]{}[/bold]", report.headline))
    if report.empty:
        _print_watched(console, "Late orders (now)", report.late, "days open")
        _print_watched(console, "Stuck at the provider (now)", report.stuck, "days there")
        return
    by = report.by.capitalize()
    legs = (
        ("placed_submitted", "Placed→submitted"),
        ("submitted_shipped", "Submitted→shipped"),
        ("placed_shipped", "Placed→shipped"),
    )
    table = Table(title="Turnaround (days: median / p90)", title_justify="left", show_edge=False)
    table.add_column(by, overflow="fold")
    table.add_column("Parts", justify="right")
    for _, label in legs:
        table.add_column(label, justify="right", overflow="fold")
    table.add_column("Within promise", justify="right", overflow="fold")
    for group, row in report.turnaround.iterrows():
        table.add_row(
            str(group),
            str(int(row["fulfillments"])),
            *(f"{_days(row[f'{leg}_median'])} / {_days(row[f'{leg}_p90'])}" for leg, _ in legs),
            _share(row["within_promise"]),
        )
    console.print(table)
    quality = Table(title="Quality (orders)", title_justify="left", show_edge=False)
    quality.add_column(by, overflow="fold")
    heads = {
        "orders": "Orders",
        "failed": "Failed",
        "rejections": "Rejected",
        "cancelled_before": "Cancelled before",
        "cancelled_after": "Cancelled after",
        "returned": "Returned",
        "remakes": "Remakes",
        "design_fix": "Design fix",
    }
    for head in heads.values():
        quality.add_column(head, justify="right", overflow="fold")
    for group, row in report.quality.iterrows():
        quality.add_row(str(group), *(str(int(row[name])) for name in heads))
    console.print(quality)
    money = Table(
        title=f"Money ({report.currency} first; margin over orders whose every part is known)",
        title_justify="left",
        show_edge=False,
    )
    money.add_column(by, overflow="fold")
    for head in ("Cur", "Orders", "Revenue", "Provider", "Fees", "Margin", "/order", "Unknown"):
        money.add_column(head, justify="right", no_wrap=True)
    for record in report.money.to_dict(orient="records"):
        mark = BASIS_MARKS.get(str(record["basis"]), "")
        money.add_row(
            str(record[report.by]),
            str(record["currency"]),
            str(record["orders"]),
            _money(record["revenue"]),
            _money(record["provider_charges"]),
            _money(record["fees"]),
            mark + _money(record["margin"]),
            mark + _money(record["margin_per_order"]),
            str(record["margin_unknown"]),
        )
    console.print(money)
    console.print(MONEY_LEGEND)
    if report.failure_reasons:
        reasons = Table(title="Submit failures", title_justify="left", show_edge=False)
        for head in ("Provider", "Reason", "Count"):
            reasons.add_column(head, overflow="fold")
        for provider, reason, count in report.failure_reasons:
            reasons.add_row(provider, reason, str(count))
        console.print(reasons)
    _print_watched(console, "Late orders (now)", report.late, "days open")
    _print_watched(console, "Stuck at the provider (now)", report.stuck, "days there")
    if report.not_timed:
        console.print(f"Not timed ({len(report.not_timed)}): counted where they can be.")
        for item in report.not_timed[:LIST_ROWS]:
            console.print(f"  {item.reference}: no {item.missing}")
        if len(report.not_timed) > LIST_ROWS:
            console.print(f"  ... and {len(report.not_timed) - LIST_ROWS} more")
    for note in report.notes:
        console.print(f"Note: {note}")


def _print_watched(console: Console, title: str, found: list[Watched], age: str) -> None:
    if not found:
        return
    table = Table(title=f"{title}: {len(found)}", title_justify="left", show_edge=False)
    for head in ("Reference", "Status", age.capitalize(), "Limit", "Provider"):
        table.add_column(head, overflow="fold")
    for w in found[:LIST_ROWS]:
        provider = f"{w.provider} {w.provider_order_id}".strip()
        table.add_row(w.reference, w.status, f"{w.days:.1f}", f"{w.limit:g}", provider)
    console.print(table)
    if len(found) > LIST_ROWS:
        console.print(f"... and {len(found) - LIST_ROWS} more")


def report_command(
    since: Annotated[
        str | None, typer.Option(help="The last N days or weeks, e.g. 30d or 4w (default 30d).")
    ] = None,
    first: Annotated[
        str | None, typer.Option("--from", help="First local day, YYYY-MM-DD.")
    ] = None,
    last: Annotated[
        str | None, typer.Option("--to", help="Last local day, YYYY-MM-DD (default today).")
    ] = None,
    by: Annotated[str, typer.Option(help="Group by provider, product, store or sku.")] = "provider",
    csv_file: Annotated[
        Path | None, typer.Option("--csv", help="Also write every number as CSV.", dir_okay=False)
    ] = None,
    xlsx_file: Annotated[
        Path | None, typer.Option("--xlsx", help="Also write an .xlsx workbook.", dir_okay=False)
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead.")] = False,
) -> None:
    """Turnaround, late and stuck orders, provider quality and margin for a period."""
    from podops.cli.main import out, runtime
    from podops.models import utcnow
    from podops.reporting.period import check_grouping, choose

    rt = runtime()
    try:
        period = choose(rt.settings.tz, utcnow(), since=since, first=first, last=last)
        grouping = check_grouping(by)
    except InvalidInput as exc:
        raise UsageProblem(exc.message) from None
    rt.db.check()
    from podops.cli.report_xlsx import write_xlsx
    from podops.reporting import export
    from podops.reporting.report import build_report

    report = build_report(rt.db, rt.settings, period, grouping)
    if as_json:
        typer.echo(json.dumps(export.as_dict(report), indent=2))
    else:
        print_report(out, report)
    for path, write in ((csv_file, export.write_csv), (xlsx_file, write_xlsx)):
        if path is not None:
            try:
                write(report, path)
            except OSError as exc:
                raise UsageProblem(f"cannot write {path}: {exc.strerror}") from None
            if not as_json:
                out.print(styled("Written to [bold]{}[/bold].", path))


def register(app: typer.Typer) -> None:
    app.command("report")(report_command)
