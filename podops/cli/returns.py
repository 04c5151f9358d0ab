"""`podops return`: goods that came back from the customer (whole order or lines)."""

from __future__ import annotations

from typing import Annotated

import typer

from podops import services
from podops.cli.args import OrderArg, OrderCommand, UsageProblem, order_label
from podops.cli.orders import cli_actor
from podops.services import ReturnWanted
from podops.status import OrderStatus


def return_command(
    number: OrderArg,
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why it came back (required).")],
    line: Annotated[
        list[int] | None,
        typer.Option(min=1, help="Only this line (by position, 1, 2...); repeat for several."),
    ] = None,
    qty: Annotated[
        list[int] | None,
        typer.Option(min=1, help="Units of each --line, in order (default: all that shipped)."),
    ] = None,
) -> None:
    """Record goods that came back: the whole order, or some lines and units. Only units
    that shipped can come back; the order is returned once all of it is back."""
    from podops.cli.main import out, runtime

    lines, units = line or [], qty or []
    if units and len(units) != len(lines):
        raise UsageProblem("give one --qty per --line (or none: every unit that shipped)")
    wanted = [ReturnWanted(p, units[i] if units else None) for i, p in enumerate(lines)]
    rt = runtime()
    rt.db.check()
    with rt.db.unit_of_work() as session:
        made = services.return_order(session, number, cli_actor(), reason, lines=wanted)
        order = made.order
        label, status = order.label, OrderStatus(order.status).label
        back = ", ".join(f"{rl.line_item.reference} x{rl.quantity}" for rl in made.lines)
    out.print(f"{order_label(label)}: {back} came back ({status}).", markup=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("return", cls=OrderCommand)(return_command)
