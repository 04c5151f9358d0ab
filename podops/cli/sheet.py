"""`podops sheet sync` (one mirror cycle by hand) and `podops tracking import FILE.csv`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from podops.cli.styled import styled
from podops.errors import ConfigError

if TYPE_CHECKING:
    from sync.tracking_import import RowResult

sheet_app = typer.Typer(
    help="The shared spreadsheet (Orders, Tracking, Archive tabs).", no_args_is_help=True
)
tracking_app = typer.Typer(help="Tracking numbers in bulk.", no_args_is_help=True)


@sheet_app.command("sync")
def sync_command() -> None:
    """Run one cycle now: read staff edits and pasted tracking, then mirror the orders."""
    from podops.cli.main import out, runtime
    from sync.sheets.links import preview_links
    from sync.sheets.mirror import SheetMirror

    rt = runtime()
    rt.db.check()
    sheet = rt.sheet
    if sheet is None:
        raise ConfigError('the sheet is switched off (sheet.backend = "none" in the config)')
    report = SheetMirror(
        rt.db,
        sheet,
        rt.settings,
        links=preview_links(rt.settings, rt.storage),
        field_checks=rt.field_checks,
        addresses=rt.addresses,
    ).run_cycle()
    out.print(styled("[bold]{}[/bold]", sheet.description))
    for line in report.lines():
        out.print(line, markup=False)


@tracking_app.command("import")
def import_command(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV: reference, tracking_company, tracking_number[, sku, quantity].",
            dir_okay=False,
        ),
    ],
) -> None:
    """Record tracking numbers from a CSV file; prints a result for every row."""
    from podops.cli.main import out, runtime
    from podops.cli.orders import cli_actor
    from podops.models import utcnow
    from sync.tracking_import import import_csv

    rt = runtime()
    rt.db.check()
    results = import_csv(rt.db, file, cli_actor(), utcnow())
    table = Table(show_edge=False, pad_edge=False)
    for column in ("Line", "Reference", "Carrier", "Number", "Result"):
        table.add_column(column, overflow="fold")
    for result in results:
        cells = list(result.cells) + [""] * 3
        outcome = _outcome(result)
        table.add_row(str(result.row), cells[0], cells[1], cells[2], outcome)
    out.print(table)
    failed = sum(not r.ok for r in results)
    already = sum(r.already for r in results)
    repeated = f"{already} already recorded, " if already else ""
    out.print(
        f"{len(results) - failed - already} imported, {repeated}"
        f"{failed} refused, {len(results)} row(s) read."
    )
    if failed:
        raise typer.Exit(1)


def _outcome(result: RowResult) -> Text:
    """The Result cell: imported (with a warning), already recorded, or the error."""
    if not result.ok:
        return styled("[red]error:[/red] {}", result.message)
    if result.already:
        return Text(result.message)
    if result.message:
        return styled("[green]imported[/green]; [yellow]warning:[/yellow] {}", result.message)
    return styled("[green]imported[/green]")


def register(app: typer.Typer) -> None:
    app.add_typer(sheet_app, name="sheet")
    app.add_typer(tracking_app, name="tracking")
