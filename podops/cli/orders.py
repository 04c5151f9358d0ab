"""`podops orders ...` and the staff verbs `hold`, `release`, `cancel`, `fulfilled`."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from podops import queries, reports, services
from podops.cli.args import OrderArg, OrderCommand, UsageProblem, order_label
from podops.cli.views import order_as_dict, print_order, print_order_list
from podops.errors import InvalidInput
from podops.events import Actor, Channel
from podops.order_views import OrderView, parse_view
from podops.refs import OrderRef, in_shell
from podops.status import OrderStatus
from podops.tracking.shipments import shipment_rows

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from podops.models import Order

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
            if not name or name == OrderStatus.RETURNED:
                continue  # `returned` is the view: whole orders and lines back
            try:
                result.append(OrderStatus(name))
            except ValueError:
                known = ", ".join(s.value for s in OrderStatus)
                raise UsageProblem(f"unknown status {part!r}; expected one of: {known}") from None
    return result


def _views(states: list[str] | None, statuses: list[str] | None) -> list[OrderView]:
    """`--state` values, and `--status returned` (orders with anything back)."""
    words = [p for value in states or [] for p in value.split(",") if p.strip()]
    views = []
    for word in words:
        try:
            views.append(parse_view(word))
        except InvalidInput as exc:
            raise UsageProblem(exc.message) from None
    asked = [p.strip().lower() for value in statuses or [] for p in value.split(",")]
    if OrderStatus.RETURNED.value in asked:
        views.append(OrderView.RETURNED)
    return views


@orders_app.command("list")
def list_command(
    status: Annotated[
        list[str] | None, typer.Option("--status", "-s", help="Only these statuses.")
    ] = None,
    state: Annotated[
        list[str] | None,
        typer.Option(
            "--state",
            help="Only orders in this state: not-shipped, partially-shipped, shipped "
            "(completed too), cancelled, returned (also orders with some units back).",
        ),
    ] = None,
    not_shipped: Annotated[
        bool, typer.Option("--not-shipped", help="Only orders not yet fully shipped.")
    ] = False,
    store: Annotated[str | None, typer.Option(help="Only this store.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List orders, newest first."""
    from podops.cli.main import out, runtime

    views = _views(state, status)
    statuses = _statuses(status)
    rt = runtime()
    rt.db.check()
    with rt.db.unit_of_work() as session:
        found = queries.list_orders(
            session,
            statuses=statuses,
            not_shipped=not_shipped,
            store=store,
            views=views,
            limit=limit,
        )
        if as_json:
            typer.echo(json.dumps([order_as_dict(o) for o in found], indent=2))
        else:
            print_order_list(out, found)


@orders_app.command("show", cls=OrderCommand)
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
        parcels = shipment_rows(session, order, rt.storage.url_for)
        if as_json:
            data = order_as_dict(order, events=events, parcels=parcels)
            typer.echo(json.dumps(data, indent=2))
        else:
            print_order(out, order, events, tz=rt.settings.tz, parcels=parcels)


def hold_command(
    number: OrderArg,
    reason: Annotated[
        str, typer.Option("--reason", "-r", help="Why (on a held order: one more reason).")
    ] = "",
) -> None:
    """Stop an order's countdown until it is released; on a held order, add a reason."""
    _act(lambda s: services.hold(s, number, cli_actor(), reason))


def release_command(number: OrderArg) -> None:
    """Restart the countdown of a held order."""
    _act(lambda s: services.release(s, number, cli_actor()))


def cancel_command(
    number: OrderArg,
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why (required).")] = "",
) -> None:
    """Cancel an order (before submission), or ask the provider to cancel it."""
    if not reason.strip():
        raise UsageProblem(
            f"say why order {number.strip().lstrip('#')} is cancelled: "
            f'podops cancel --reason "out of stock" {in_shell(number)}'
        )
    _act(lambda s: services.cancel(s, number, cli_actor(), reason))


def fulfilled_command(
    number: OrderArg,
    tracking: Annotated[
        tuple[str, str] | None,
        typer.Option(
            "--tracking",
            metavar="CARRIER NUMBER",
            help="The parcel's carrier and tracking number: only that goes to the store.",
        ),
    ] = None,
) -> None:
    """Record an order the shop already fulfilled by hand: it is completed, nothing goes
    to a provider, and the store is told nothing (or only the tracking)."""
    carrier, parcel = tracking or ("", "")
    _act(
        lambda s: services.record_fulfilled_by_shop(
            s, number, cli_actor(), carrier=carrier, number=parcel
        ),
        "is recorded as fulfilled by the shop"
        + (", its tracking goes to the store" if tracking else "; nothing was sent anywhere"),
    )


def _act(call: Callable[[Session], Order], done: str | None = None) -> None:
    """Run a staff verb and say where it left the order, its status named once
    (or `done`, for a verb whose own words say more)."""
    from podops.cli.main import out, runtime

    rt = runtime()
    rt.db.check()
    with rt.db.unit_of_work() as session:
        order = call(session)
        label, typed = order.label, OrderRef.of(order).typed
        result = done or reports.after_staff_step(order)
    if result.endswith("needs design"):
        result += f" (podops edit {in_shell(typed)})"
    out.print(f"{order_label(label)} {result}.", markup=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.add_typer(orders_app, name="orders")
    app.command("hold", cls=OrderCommand)(hold_command)
    app.command("release", cls=OrderCommand)(release_command)
    app.command("cancel", cls=OrderCommand)(cancel_command)
    app.command("fulfilled", cls=OrderCommand)(fulfilled_command)
