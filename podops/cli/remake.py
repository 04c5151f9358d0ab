"""`podops remake`: lines of a shipped order made again (a misprint, a lost parcel)."""

from __future__ import annotations

from typing import Annotated

import typer

from podops import services
from podops.cli.args import OrderArg, OrderCommand, UsageProblem, order_label
from podops.cli.orders import cli_actor
from podops.services.remakes import PAYERS, REASONS, RemakeLine


def remake_command(
    number: OrderArg,
    reason: Annotated[str, typer.Option(help=f"Why: {', '.join(REASONS)}.")],
    pays: Annotated[str, typer.Option(help=f"Who pays: {', '.join(PAYERS)}.")],
    line: Annotated[
        list[int] | None,
        typer.Option(min=1, help="Only this line (by position, 1, 2...); repeat for several."),
    ] = None,
    qty: Annotated[
        list[int] | None,
        typer.Option(min=1, help="Units of each --line, in order (default: every unit shipped)."),
    ] = None,
) -> None:
    """Make lines of a shipped order again under a new provider reference; the remake
    leaves at the next countdown tick and is linked to the original."""
    from podops.cli.main import out, runtime

    lines, units = line or [], qty or []
    if units and len(units) != len(lines):
        raise UsageProblem("give one --qty per --line (or none: every unit that shipped)")
    wanted = [RemakeLine(p, units[i] if units else None) for i, p in enumerate(lines)]
    rt = runtime()
    rt.db.check()
    with rt.db.unit_of_work() as session:
        made = services.remake(
            session, number, cli_actor(), reason=reason, paid_by=pays, lines=wanted
        )
        label = made[0].order.label
        told = [
            f"{part.reference} to {part.provider}: "
            + ", ".join(f"{pl.line_item.reference} x{pl.quantity}" for pl in part.lines)
            for part in made
        ]
    out.print(f"{order_label(label)} will be remade at the next countdown tick:", markup=False)
    for text in told:
        out.print(f"  {text}", markup=False)


def register(app: typer.Typer) -> None:
    app.command("remake", cls=OrderCommand)(remake_command)
