"""`podops orders import FILE.csv` (outside orders) and `podops sync once` (poll stores now)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from podops.cli.styled import styled
from podops.errors import ConfigError, DomainRefusal
from podops.events import Actor, Channel
from podops.intake.isolation import receive_isolated
from podops.intake.passes import IntakeReport, receive_batch

if TYPE_CHECKING:
    from datetime import datetime

    from podops.incoming import IncomingOrder
    from podops.ports.store import OrderPage
    from podops.runtime.root import Runtime

sync_app = typer.Typer(help="Pull orders from the stores.", no_args_is_help=True)
DEFAULT_OUTSIDE_STORE = "outside"


class ImportHadErrors(DomainRefusal):
    """Some rows could not be imported (the others were)."""


class SyncHadErrors(DomainRefusal):
    """A store could not be read (the others were)."""


def _outside_store(rt: Runtime, store: str | None) -> str:
    stores = rt.settings.stores
    if store is None:
        csv_stores = [name for name, cfg in stores.items() if cfg.platform == "csv"]
        return csv_stores[0] if csv_stores else DEFAULT_OUTSIDE_STORE
    if store not in stores and store != DEFAULT_OUTSIDE_STORE:
        known = ", ".join(sorted(stores)) or "none configured"
        raise ConfigError(f"no store named {store!r} (stores: {known}, or {DEFAULT_OUTSIDE_STORE})")
    return store


def import_command(
    file: Annotated[Path, typer.Argument(help="CSV file of outside orders.", dir_okay=False)],
    store: Annotated[
        str | None, typer.Option(help="Store the orders belong to (default: the csv store).")
    ] = None,
) -> None:
    """Import outside orders (Amazon, Etsy, phone) from a CSV file; safe to run twice."""
    from podops.cli.main import out, runtime
    from podops.models import utcnow
    from providers.csv_orders import parse_file

    rt = runtime()
    rt.db.check()
    key = _outside_store(rt, store)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {file}: {exc.strerror}") from None
    now = utcnow()
    parsed = parse_file(data, tz=rt.settings.tz, now=now, store=key)
    report = _receive_file(rt, key, parsed.orders, Actor(f"csv:{file.name}", Channel.CSV), now)
    for warning in parsed.warnings:
        out.print(styled("[yellow]! {}[/yellow]", warning))
    reasons = {
        order.number: [
            *order.problems,
            *(f"line {n}: {p}" for n, item in enumerate(order.items, 1) for p in item.problems),
        ]
        for order in parsed.orders
    }
    errors = {**parsed.errors, **_refused_rows(parsed.rows, report)}
    out.print(_import_table(parsed.rows, errors, report, reasons))
    out.print(
        f"{report.created} new order(s), {report.unchanged + report.updated} already imported, "
        f"{len(errors)} row(s) with errors (store {key}).",
        markup=False,
    )
    if errors:
        raise ImportHadErrors(f"{len(errors)} row(s) were not imported; see the table")


def _receive_file(
    rt: Runtime, key: str, orders: list[IncomingOrder], actor: Actor, now: datetime
) -> IntakeReport:
    """Receive the file's orders in one transaction, or (when the database refuses what one
    order holds) each on its own: the good orders are imported either way."""
    platform = rt.settings.stores[key].platform if key in rt.settings.stores else "csv"

    def receive(batch: list[IncomingOrder]) -> IntakeReport:
        with rt.db.unit_of_work() as session:
            return receive_batch(
                session,
                key,
                batch,
                rt.policy,
                fulfil_statuses=None,
                platform=platform,
                actor=actor,
                arrived_at=now,  # a back-dated order still gets its full countdown
            )

    return receive_isolated(orders, receive, IntakeReport(store=key), now)


def _refused_rows(rows: dict[str, list[int]], report: IntakeReport) -> dict[int, tuple[str, str]]:
    """The rows of orders the database refused even as a stub (isolation.py)."""
    return {row: (number, why) for number, why in report.refused for row in rows.get(number, [])}


def _import_table(
    rows: dict[str, list[int]],
    errors: dict[int, tuple[str, str]],
    report: IntakeReport,
    reasons: dict[str, list[str]],
) -> Table:
    """One line per file row; a flagged order says why it waits. Text from the file is
    shown as typed (`[/bold]` in a cell is never read as markup)."""
    table = Table(title="Import", show_edge=False, title_justify="left")
    for column in ("Row", "Order", "Result"):
        table.add_column(column, overflow="fold")
    new, flagged = set(report.new), set(report.flagged)
    results: dict[int, tuple[str, str | Text]] = {}
    for number, row_numbers in rows.items():
        for row in row_numbers:
            if number in flagged:
                why = "; ".join(reasons.get(number, []))
                text = "imported, waits for staff" + (f": {why}" if why else "")
                results[row] = (number, styled("[yellow]{}[/yellow]", text))
            elif number in new:
                results[row] = (number, styled("[green]imported[/green]"))
            else:
                results[row] = (number, "already imported (unchanged)")
    for row, (number, reason) in errors.items():
        results[row] = (number, styled("[red]error:[/red] {}", reason))
    for row in sorted(results):
        number, shown = results[row]
        table.add_row(str(row), number, shown)
    return table


@sync_app.command("once")
def sync_once_command(
    store: Annotated[str | None, typer.Option(help="Only this store.")] = None,
) -> None:
    """Poll the stores now (one pass), with progress for long imports."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

    from podops.cli.main import out, runtime
    from sync.intake import polled_stores, sync_one

    rt = runtime()
    rt.db.check()
    names = polled_stores(rt)
    if store is not None:
        if store not in names:
            raise ConfigError(f"no polled store named {store!r} (polled: {', '.join(names)})")
        names = [store]
    reports = []
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=out
    ) as progress:
        for name in names:
            task = progress.add_task(f"store {name}", total=None)

            def advance(report: IntakeReport, page: OrderPage, task_id: TaskID = task) -> None:
                progress.update(task_id, completed=report.fetched, total=max(page.total, 1))

            reports.append(sync_one(rt, name, on_page=advance))
    out.print(_sync_table(reports))
    failed = [r for r in reports if r.error]
    if failed:
        raise SyncHadErrors("; ".join(str(r.error) for r in failed))


def _sync_table(reports: list[IntakeReport]) -> Table:
    table = Table(title="Sync", show_edge=False, title_justify="left")
    for column in ("Store", "Fetched", "New", "Updated", "Unchanged", "Skipped", "Wait for staff"):
        table.add_column(column)
    for report in reports:
        skipped = ", ".join(f"{n} {status}" for status, n in report.skipped.items()) or "0"
        table.add_row(
            report.store,
            str(report.fetched),
            str(report.created),
            str(report.updated),
            str(report.unchanged),
            skipped,
            ", ".join(report.flagged[:10]) + (" ..." if len(report.flagged) > 10 else ""),
        )
        if report.error:
            table.add_row(report.store, styled("[red]{}[/red]", report.error), *[""] * 5)
        for number, why in report.refused:
            table.add_row(report.store, styled("[red]refused {}: {}[/red]", number, why), *[""] * 5)
    return table


def register(app: typer.Typer) -> None:
    from podops.cli.orders import orders_app

    orders_app.command("import")(import_command)
    app.add_typer(sync_app, name="sync")
