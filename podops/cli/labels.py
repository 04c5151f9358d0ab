"""`podops label`: buy a shipping label for an order of the manual provider, void
one, print them.

    podops label 1234 [--line 2 --qty 1] [--rate cheapest|fastest|USPS:Priority]
    podops label void 1234 [--tracking 9400...]
    podops label print 1234          one PDF: the label and the packing slip
    podops label print --today       every label bought today, one per 4x6 page
"""

from __future__ import annotations

from typing import Annotated

import typer

from podops.cli.args import OrderCommand, UsageProblem, checked_reference, order_label
from podops.cli.orders import cli_actor
from podops.cli.styled import styled
from podops.tracking.parcels import ShipLine

ACTIONS = ("void", "print")


class LabelCommand(OrderCommand):
    """`label void -17`: the order number comes after the action word."""

    before_order = ACTIONS


def label_command(
    words: Annotated[
        list[str],
        typer.Argument(
            help="ORDER to buy its label; `void ORDER`; `print ORDER` or `print --today`.",
            metavar="[void|print] ORDER",
        ),
    ],
    line: Annotated[
        int | None, typer.Option(min=1, help="Only this line (its number, 1, 2...).")
    ] = None,
    qty: Annotated[int | None, typer.Option(min=1, help="Units of that line.")] = None,
    rate: Annotated[
        str | None, typer.Option(help="cheapest, fastest or CARRIER:SERVICE (USPS:Priority).")
    ] = None,
    tracking: Annotated[
        str | None, typer.Option(help="void: the label's tracking number (several labels).")
    ] = None,
    today: Annotated[
        bool, typer.Option("--today", help="print: every label bought today.")
    ] = False,
) -> None:
    """Buy a shipping label (EasyPost) for an order the shop makes, void or print one."""
    from podops.cli.main import out, runtime

    action = words[0].lower() if words and words[0].lower() in ACTIONS else "buy"
    rest = words[1:] if action != "buy" else words
    if action == "print" and today:
        if rest:
            raise UsageProblem("`label print --today` takes no order")
        rt = runtime()
        path, count = rt.labels.batch()
        out.print(f"{count} label(s) in {path}", markup=False)
        return
    if len(rest) != 1:
        raise UsageProblem("name one order: podops label 1234 (or label void 1234)")
    number = checked_reference(rest[0])
    if qty is not None and line is None:
        raise UsageProblem("--qty needs --line (which line the units belong to)")
    rt = runtime()
    rt.db.check()
    if action == "void":
        voided = rt.labels.void(number, cli_actor(), tracking=tracking)
        out.print(
            styled(
                "{}: label {} voided (refund {}); the order is [bold]{}[/bold].",
                order_label(voided.order),
                voided.tracking_number,
                voided.refund_status,
                voided.status,
            )
        )
        return
    if action == "print":
        path = rt.labels.order_sheet(number)
        out.print(f"Label and packing slip: {path}", markup=False)
        return
    lines = [ShipLine(line, qty)] if line is not None else None
    bought = rt.labels.buy(number, cli_actor(), lines=lines, rate=rate)
    out.print(
        styled(
            "{}: label bought, {} {} for {} {} ({}); tracking {} ([bold]{}[/bold]).",
            order_label(f"order {bought.order}"),
            bought.carrier,
            bought.service,
            bought.price,
            bought.currency,
            bought.rule,
            bought.tracking_number,
            bought.status,
        )
    )
    if bought.pdf is not None:
        out.print(f"Label: {rt.labels.link(bought.pdf)}", markup=False, soft_wrap=True)
    if bought.tracking_url:
        out.print(f"Tracking link: {bought.tracking_url}", markup=False)
    if bought.warning:
        out.print(f"warning: {bought.warning}", markup=False, soft_wrap=True, style="yellow")


def register(app: typer.Typer) -> None:
    app.command("label", cls=LabelCommand)(label_command)
