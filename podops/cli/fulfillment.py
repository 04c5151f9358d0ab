"""`podops submit`, `retry`, `track` and `podops fulfillment tick|poll|reconcile`."""

from __future__ import annotations

from typing import Annotated

import typer

from podops import services
from podops.cli.args import OrderArg, OrderCommand, UsageProblem, order_label
from podops.cli.orders import cli_actor
from podops.cli.styled import styled
from podops.errors import InvalidInput
from podops.fulfillment_status import FulfillmentStatus
from podops.refs import OrderRef, in_shell
from podops.services.shipping import ShipLine
from podops.status import OrderStatus

fulfillment_app = typer.Typer(help="Send orders to providers and bring tracking back.")


def submit_command(number: OrderArg) -> None:
    """Submit a pending order to its provider now (skipping the rest of its countdown)."""
    from podops.cli.main import out, runtime

    rt = runtime()
    rt.db.check()
    order = rt.submission.submit_now(number, cli_actor())
    status = OrderStatus(order.status)
    if status == OrderStatus.SUBMIT_FAILED:
        raise InvalidInput(f"{order.label} could not be submitted: {order.last_error}")
    with rt.db.reading() as session:  # a split order: each part where it went
        parts = [
            (p.label, p.provider, p.reference, FulfillmentStatus(p.status), p.provider_order_id,
             p.last_error)
            for p in services.get_order(session, number).parts
        ]  # fmt: skip
    if len(parts) > 1:
        out.print(styled("{} is [bold]{}[/bold]:", order_label(order.label), status.label))
        for label, provider, reference, part_status, answer, error in parts:
            said = answer or error or ""
            out.print(
                f"  {label} at {provider} ({reference}): {part_status.label}"
                + (f", {said}" if said else ""),
                markup=False,
                soft_wrap=True,
                style="yellow" if part_status == FulfillmentStatus.SUBMIT_FAILED else None,
            )
        if any(p[3] == FulfillmentStatus.SUBMIT_FAILED for p in parts):
            out.print(
                "  the others go on; fix what was refused, then podops retry "
                + in_shell(OrderRef.of(order).typed),
                markup=False,
                soft_wrap=True,
            )
        return
    out.print(
        styled(
            "{} is [bold]{}[/bold] at {} ({}).",
            order_label(order.label),
            status.label,
            order.provider,
            order.provider_order_id,
        )
    )
    if order.last_error:
        out.print(f"warning: {order.last_error}", markup=False, soft_wrap=True, style="yellow")


def retry_command(number: OrderArg) -> None:
    """Put a failed order back in the countdown (after fixing what the provider refused)."""
    from podops.cli.main import out, runtime

    rt = runtime()
    rt.db.check()
    order = rt.submission.retry(number, cli_actor())
    if OrderStatus(order.status) == OrderStatus.PENDING:
        out.print(
            f"{order_label(order.label)} is back in the countdown; it leaves at the next tick."
        )
    else:  # an order going on without one of its fulfillments
        out.print(f"{order_label(order.label)}: its failed part leaves at the next tick.")


def track_command(
    number: OrderArg,
    carrier: Annotated[str, typer.Argument(help="Carrier, e.g. UPS, USPS, FedEx.")],
    tracking: Annotated[str, typer.Argument(help="Tracking number.")],
    sku: Annotated[str | None, typer.Option(help="Only this line (by SKU).")] = None,
    qty: Annotated[
        int | None, typer.Option(min=1, help="Units of that line (needs --sku).")
    ] = None,
) -> None:
    """Record a parcel (manual provider): the store gets the tracking, the order completes."""
    from podops.cli.main import out, runtime

    if qty is not None and sku is None:
        raise UsageProblem("--qty needs --sku (which line the units belong to)")
    rt = runtime()
    rt.db.check()
    with rt.db.unit_of_work() as session:
        order = services.get_order(session, number, for_update=True)
        lines = None
        if sku is not None:
            same = [i for i in order.items if i.sku.upper() == sku.strip().upper()]
            if not same:
                skus = ", ".join(sorted({i.sku for i in order.items})) or "none"
                raise UsageProblem(f"{order.label} has no line with SKU {sku} (its SKUs: {skus})")
            open_units = sum(i.quantity_open for i in same)
            lines = [ShipLine(sku, qty if qty is not None else max(open_units, 1))]
        shipment = services.record_tracking(
            session, order, carrier, tracking, cli_actor(), lines=lines
        )
        label, status = order.label, OrderStatus(order.status)
        text = f"{shipment.carrier} {shipment.tracking_number}"
        link = shipment.tracking_url
        warning = services.shipping.tracking_warning(session, shipment)
    out.print(styled("{}: recorded {} ([bold]{}[/bold]).", order_label(label), text, status.label))
    if link:
        out.print(f"Tracking link: {link}", markup=False)
    if warning:
        out.print(f"warning: {warning}", markup=False, soft_wrap=True, style="yellow")


@fulfillment_app.command("tick")
def tick_command() -> None:
    """Run one countdown pass now: submit every due order, print what happened."""
    from podops.cli.main import out, runtime

    rt = runtime()
    rt.db.check()
    report = rt.submission.tick()
    for reference in report.reconciled:
        out.print(f"reconciled  {reference}", markup=False)
    for number in report.submitted:
        out.print(f"submitted   {number}", markup=False)
    for number, reason in report.failed:
        out.print(styled("[red]failed[/red]      {}: {}", number, reason))
    for number, reason in report.blocked:
        out.print(styled("[yellow]waiting[/yellow]     {}: {}", number, reason))
    out.print(
        f"{len(report.submitted)} submitted, {len(report.failed)} failed, "
        f"{len(report.blocked)} waiting."
    )


@fulfillment_app.command("poll")
def poll_command() -> None:
    """Ask the providers for production and tracking news now."""
    from podops.cli.main import out, runtime

    rt = runtime()
    rt.db.check()
    report = rt.follow_up.poll_tracking()
    for reference, changes in report.changed.items():
        out.print(f"{reference}: {', '.join(changes)}", markup=False)
    for reference, reason in report.errors.items():
        out.print(styled("[red]{}[/red]: {}", reference, reason))
    out.print(f"{len(report.changed)} order(s) changed.")


def register(app: typer.Typer) -> None:
    app.command("submit", cls=OrderCommand)(submit_command)
    app.command("retry", cls=OrderCommand)(retry_command)
    app.command("track", cls=OrderCommand)(track_command)
    app.add_typer(fulfillment_app, name="fulfillment")
