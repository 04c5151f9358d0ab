"""`podops orders ...` and the staff verbs `hold`, `release`, `cancel`."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from podops import queries, services
from podops.cli.args import OrderArg, UsageProblem, order_label
from podops.cli.styled import styled
from podops.cli.views import order_as_dict, print_order, print_order_list
from podops.events import Actor, Channel
from podops.status import OrderStatus

orders_app = typer.Typer(help="Look at orders.", no_args_is_help=True)


def cli_actor() -> Actor:
    import getpass

    try:
        user = getpass.getuser()
    except OSError:
        user = "unknown"
    return Actor(f"cli:{user}", Channel.CLI)


def _statuses(values: list[str] | None) -> list[OrderStatus]:
    result = []
    for value in values or []:
        for part in value.split(","):
            name = part.strip().lower().replace(" ", "_").replace("-", "_")
            if not name:
                continue
            try:
                result.append(OrderStatus(name))
            except ValueError:
                known = ", ".join(s.value for s in OrderStatus)
                raise UsageProblem(f"unknown status {part!r}; expected one of: {known}") from None
    return result


@orders_app.command("list")
def list_command(
    status: Annotated[
        list[str] | None, typer.Option("--status", "-s", help="Only these statuses.")
    ] = None,
    not_shipped: Annotated[
        bool, typer.Option("--not-shipped", help="Only orders not yet shipped.")
    ] = False,
    store: Annotated[str | None, typer.Option(help="Only this store.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List orders, newest first."""
    from podops.cli.main import out, runtime

    rt = runtime()
    rt.db.check()
    with rt.db.unit_of_work() as session:
        found = queries.list_orders(
            session,
            statuses=_statuses(status),
            not_shipped=not_shipped,
            store=store,
            limit=limit,
        )
        if as_json:
            typer.echo(json.dumps([order_as_dict(o) for o in found], indent=2))
        else:
            print_order_list(out, found)


@orders_app.command("show")
def show_command(
    number: OrderArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show one order with its items, tracking and event timeline."""
    from podops.cli.main import out, runtime

    rt = runtime()
    rt.db.check()
    with rt.db.unit_of_work() as session:
        order = services.get_order(session, number)
        events = queries.timeline(session, order)
        if as_json:
            data = order_as_dict(order, events=events)
            typer.echo(json.dumps(data, indent=2))
        else:
            print_order(out, order, events, tz=rt.settings.tz)


def hold_command(
    number: OrderArg,
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why.")] = "",
) -> None:
    """Stop an order's countdown until it is released."""
    _act(lambda s: services.hold(s, number, cli_actor(), reason), "is on hold")


def release_command(number: OrderArg) -> None:
    """Restart the countdown of a held order."""
    _act(lambda s: services.release(s, number, cli_actor()), "is released")


def cancel_command(
    number: OrderArg,
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why (required).")] = "",
) -> None:
    """Cancel an order (before submission), or ask the provider to cancel it."""
    if not reason.strip():
        raise UsageProblem(
            f"say why order {number.strip().lstrip('#')} is cancelled: "
            f'podops cancel {number} --reason "out of stock"'
        )
    _act(lambda s: services.cancel(s, number, cli_actor(), reason), None)


def _act(call, done: str | None) -> None:  # type: ignore[no-untyped-def]
    from podops.cli.main import out, runtime

    rt = runtime()
    rt.db.check()
    with rt.db.unit_of_work() as session:
        order = call(session)
        label, status = order.label, OrderStatus(order.status)
    if done is None:
        done = (
            "is cancelled"
            if status == OrderStatus.CANCELLED
            else "has a cancellation request at its provider"
        )
    out.print(styled("{} {} ([bold]{}[/bold]).", order_label(label), done, status.label))


def register(app: typer.Typer) -> None:
    app.add_typer(orders_app, name="orders")
    app.command("hold")(hold_command)
    app.command("release")(release_command)
    app.command("cancel")(cancel_command)
