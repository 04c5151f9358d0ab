"""`podops summary`: the daily summary's numbers on the terminal (rich) and its
chart as a PNG file; the same figures the Slack summary posts."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from podops.cli.args import UsageProblem
from podops.cli.styled import styled
from podops.ports.notify import DailySummary, NamedOrder


def print_summary(console: Console, summary: DailySummary) -> None:
    console.print(styled("[bold]Daily summary for {}[/bold]", f"{summary.day:%A %d %B %Y}"))
    numbers = Table(show_edge=False, pad_edge=False)
    for column in ("Received", "Submitted", "Shipped", "Cancelled", "Submit failures"):
        numbers.add_column(column, justify="right")
    numbers.add_row(
        *map(
            str,
            (
                summary.received,
                summary.submitted,
                summary.shipped,
                summary.cancelled,
                summary.submit_failures,
            ),
        )
    )
    console.print(numbers)
    ages = Table(title="Open orders by age", show_edge=False, title_justify="left")
    for label in summary.pending_by_age:
        ages.add_column(label, justify="right")
    ages.add_row(*map(str, summary.pending_by_age.values()))
    console.print(ages)
    _print_named(console, "Late (no tracking yet)", summary.late)
    _print_named(console, "Submit failed", summary.failed)


def _print_named(console: Console, title: str, orders: list[NamedOrder]) -> None:
    if not orders:
        return
    table = Table(title=title, show_edge=False, title_justify="left")
    for column in ("Order", "Customer", "Status", "Age (days)", "Note"):
        table.add_column(column, overflow="fold")
    for order in orders:
        table.add_row(
            order.number, order.customer_name, order.status_label, str(order.age_days), order.note
        )
    console.print(table)


def summary_command(
    day: Annotated[
        str | None, typer.Option(help="Local day YYYY-MM-DD (default: yesterday).")
    ] = None,
    chart: Annotated[
        Path | None, typer.Option(help="Where to write the chart PNG.", dir_okay=False)
    ] = None,
) -> None:
    """Print the daily summary numbers and write the 14-day chart."""
    from podops.cli.main import out, runtime
    from podops.notify.summary import build_summary, yesterday
    from render.charts import summary_chart

    try:
        given = date.fromisoformat(day) if day else None
    except ValueError:
        raise UsageProblem(f"{day!r} is not a day; expected YYYY-MM-DD") from None
    rt = runtime()
    rt.db.check()
    wanted = given or yesterday(rt.settings)
    result = build_summary(rt.db, rt.settings, wanted)
    print_summary(out, result)
    path = chart or rt.settings.data_dir / f"summary-{wanted.isoformat()}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(summary_chart(result))
    out.print(styled("Chart written to [bold]{}[/bold].", path))


def register(app: typer.Typer) -> None:
    app.command("summary")(summary_command)
