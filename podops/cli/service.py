"""`podops run` (the service) and `podops status` (what it is doing)."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from podops.cli.stores_shipping import gap_lines
from podops.cli.styled import styled
from podops.models import utcnow
from podops.outbox.retrying import ATTEMPTS, WAITING
from podops.runtime import status_report
from podops.settings import Settings, presigned_links_note


def run_command(
    role: Annotated[
        str, typer.Option(help="all: scheduler and web server; web or worker to split them.")
    ] = "all",
    log_json: Annotated[
        bool | None,
        typer.Option("--log-json/--log-text", help="JSON lines (default when not a terminal)."),
    ] = None,
    log_level: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING.")] = "INFO",
) -> None:
    """Run podops: sync stores, count down, submit, mirror the sheet, talk to Slack."""
    from podops import logs
    from podops.cli.main import out, runtime
    from podops.errors import InvalidInput
    from podops.runtime.instance import Instance, Role

    try:
        chosen = Role(role)
    except ValueError:
        raise InvalidInput(f"unknown role {role!r}; expected all, web or worker") from None
    rt = runtime()
    logs.configure(
        json_lines=not sys.stderr.isatty() if log_json is None else log_json,
        level=log_level,
        secrets=rt.settings.secret_values(),
    )
    service = Instance(rt, chosen)
    server = rt.settings.server

    def ready() -> None:
        where = f" on http://{server.host}:{server.port}" if chosen != Role.WORKER else ""
        out.print(f"podops is running ({chosen.value}){where}. Ctrl-C stops it.")

    service.run(on_ready=ready)


def _ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    seconds = int((now - moment).total_seconds())
    if seconds < 0:
        return f"in {_span(-seconds)}"
    return f"{_span(seconds)} ago"


def _span(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds}s"
    if seconds < 5400:
        return f"{seconds // 60}m"
    if seconds < 172800:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def _storage_lines(settings: Settings) -> list[Text]:
    """With a bucket: where links go, and how long they last."""
    storage, render = settings.storage, settings.render
    if storage.kind != "s3":
        return []
    note = presigned_links_note(storage, render)
    if note is not None:
        return [styled("Storage: bucket {}; [yellow]{}[/yellow]", storage.bucket, note)]
    return [
        styled(
            "Storage: bucket {}; links go through the web role at {}, valid {} h "
            "(render.link_ttl_hours), each download redirected to the bucket",
            storage.bucket,
            render.public_base_url,
            f"{render.link_ttl_hours:g}",
        )
    ]


def _retrying_lines(report: status_report.StatusReport, now: datetime) -> list[Text]:
    """Messages that keep failing, before they are parked: who to call, and why."""
    if not report.retrying:
        return []
    lines = [
        styled(
            "[yellow]Retrying[/yellow] (failed {}+ times or waiting over {} min): {}",
            ATTEMPTS,
            int(WAITING.total_seconds() // 60),
            report.retrying_total,
        )
    ]
    for item in report.retrying:
        lines.append(
            styled(
                "  [yellow]retrying[/yellow] {}{}: {} attempt{}, waiting {}: {}",
                f"order {item.order} " if item.order else "",
                item.kind,
                item.attempts,
                "" if item.attempts == 1 else "s",
                _span(max(0, int((now - item.since).total_seconds()))),
                item.error,
            )
        )
    if report.retrying_total > len(report.retrying):
        more = report.retrying_total - len(report.retrying)
        lines.append(styled("  and {} more (podops outbox retrying lists them all)", more))
    return lines


def status_command() -> None:
    """What the service is doing: instances, store syncs, outbox, next submissions, errors."""
    from podops.cli.main import out, runtime

    rt = runtime()
    rt.db.check()
    now = utcnow()
    with rt.db.reading() as session:  # never waits behind the service's writes
        report = status_report.build(session, now)
    if report.instances:
        for holder, role, seen in sorted(report.instances):
            out.print(
                styled(
                    "[green]running[/green] {} ({}), last heartbeat {}",
                    holder,
                    role,
                    _ago(seen, now),
                )
            )
    else:
        out.print(
            styled("[yellow]no running podops instance[/yellow] (start one with `podops run`)")
        )
    for holder, role, seen in sorted(report.vanished):
        out.print(
            styled(
                "[red]not seen since {}[/red] {} ({}): stopped without shutting down (killed, "
                "crashed or cut off from the database)",
                _ago(seen, now),
                holder,
                role,
            )
        )
    stores = Table(title="Stores", show_edge=False, title_justify="left")
    for column in ("Store", "Last sync", "Last error"):
        stores.add_column(column, overflow="fold")
    for key, synced, error in report.stores:
        stores.add_row(key, _ago(synced, now), error or "")
    out.print(stores)
    last_syncs = {key: at for key, at, _ in report.stores}
    for note in status_report.shopify_window_notes(rt.settings, last_syncs):
        out.print(styled("[yellow]{}[/yellow]", note))
    for line in gap_lines(rt.settings):
        out.print(line)
    for line in _storage_lines(rt.settings):
        out.print(line)
    counts = ", ".join(f"{s.label} {n}" for s, n in sorted(report.counts.items())) or "no orders"
    out.print(f"Orders: {counts}")
    backlog = {k: v for k, v in report.backlog.items() if k != "dead" and v}
    out.print(
        "Outbox: "
        + (", ".join(f"{topic} {n}" for topic, n in backlog.items()) or "empty")
        + f"; parked after failures: {report.backlog.get('dead', 0)}"
    )
    for topic, error in report.dead_letters:
        out.print(styled("  [red]parked[/red] {}: {}", topic, error))
    for line in _retrying_lines(report, now):
        out.print(line)
    for number, error in report.held_completions:
        out.print(
            styled(
                "  [yellow]completion held back[/yellow] order {}: its tracking is parked ({})",
                number,
                error,
            )
        )
    if report.next_submissions:
        upcoming = ", ".join(f"{n} {_ago(at, now)}" for n, at in report.next_submissions)
        out.print(f"Next submissions: {upcoming}")
    if report.recent_errors or report.job_errors:
        out.print("Last errors:")
    for at, job, error, resolved in report.job_errors:
        line = styled("[red]![/red] {}: job {}: {}", _ago(at, now), job, error)
        if resolved:
            line.append_text(styled(" [green](ran fine {})[/green]", _ago(resolved, now)))
        out.print(line)
    for at, number, reason in report.recent_errors:
        out.print(styled("[red]![/red] {}: order {}: {}", _ago(at, now), number, reason))


def demo_command(
    folder: Annotated[Path, typer.Option(help="Where the demo shop lives.")] = Path("podops-demo"),
    orders_for: Annotated[
        float, typer.Option(min=3, help="Seconds during which new orders arrive.")
    ] = 30.0,
    countdown: Annotated[
        float, typer.Option(min=1, help="Seconds each order waits before submission.")
    ] = 20.0,
    stage: Annotated[
        float, typer.Option(min=0.5, help="Seconds the sandbox provider takes per stage.")
    ] = 4.0,
    timeout: Annotated[float, typer.Option(min=10, help="Give up after this many seconds.")] = 180,
) -> None:
    """See the whole product work in about a minute: sandbox store and provider, no accounts."""
    from podops.cli.main import out
    from podops.runtime.demo import DemoTiming, run_demo

    out.print(
        styled(
            "[bold]podops demo[/bold]: a TEST MODE shop (sandbox store and provider, local "
            "workbook, console instead of Slack) in {}/",
            folder,
        )
    )
    timing = DemoTiming(
        intake_s=orders_for, countdown_s=countdown, stage_s=stage, timeout_s=timeout
    )
    result = run_demo(folder, timing, lambda line: out.print(line, markup=False, soft_wrap=True))
    counts = ", ".join(f"{s.label} {n}" for s, n in sorted(result.counts.items()))
    out.print(styled("\n[bold]Orders:[/bold] {}", counts))
    if result.fixed:
        out.print(
            f"Staff fixed the design of {len(result.fixed)} order(s) (typed a missing message, "
            "or emptied a name the mug does not print): " + ", ".join(result.fixed),
            markup=False,
            soft_wrap=True,
        )
    if result.addressed:
        out.print(
            f"Staff typed the missing shipping address of {len(result.addressed)} order(s): "
            + ", ".join(result.addressed),
            markup=False,
            soft_wrap=True,
        )
    if result.waiting:
        out.print(
            f"{len(result.waiting)} order(s) wait for staff (the test shop sends a few problem "
            "orders on purpose, as real shops get them):"
        )
        for reference, status, why in result.waiting:
            out.print(f"  {reference} ({status}): {why}", markup=False, soft_wrap=True)
    else:
        out.print("No order waits for staff.")
    if not result.finished:
        out.print(
            styled("[yellow]Some orders were still in progress when the demo stopped.[/yellow]")
        )
    out.print(styled("\n[bold]Where to look[/bold]"))
    out.print(
        f"  the workbook (Orders and Tracking tabs): {result.workbook}",
        markup=False,
        soft_wrap=True,
    )
    out.print(
        f"  print files (300 DPI) and previews:     {result.print_files}",
        markup=False,
        soft_wrap=True,
    )
    out.print(
        f"  the daily summary chart:                {result.chart}", markup=False, soft_wrap=True
    )
    out.print(
        f"  what was pushed to the store:           {result.store_journal}",
        markup=False,
        soft_wrap=True,
    )
    out.print(
        f"  the sample customer photos:             {result.photos}",
        markup=False,
        soft_wrap=True,
    )
    out.print(
        "    (they were served to the renderer only while the demo ran: re-rendering a demo "
        "order afterwards with `podops render` cannot fetch its photo; run `podops demo` "
        "again to watch renders)",
        markup=False,
        soft_wrap=True,
    )
    out.print(
        f"  the orders: podops --config {result.folder / 'podops.toml'} orders list",
        markup=False,
        soft_wrap=True,
    )
    if result.edited:
        out.print(
            f"  the edited order's timeline: podops --config {result.folder / 'podops.toml'} "
            f"orders show {result.edited}",
            markup=False,
            soft_wrap=True,
        )


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)
    app.command("run")(run_command)
    app.command("status")(status_command)
