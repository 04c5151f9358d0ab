"""`podops edit`: fix an order's personalization (or its address) from the terminal.

`address.FIELD=VALUE` words change the shipping address through the same desk as
the Slack form and the sheet (`podops.fulfillment.address_change`).

The same path as the Slack edit form: save the fields, render the edited lines
again (a needs_design order whose lines all render goes back to the
countdown), and post the new previews in the order's thread. A submitted order
whose provider still takes design changes gets the new design sent there
first (`podops.fulfillment.late_design`); only a design the provider accepted is kept.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated

import typer

from podops import reports, services, wording
from podops.address import field_name
from podops.cli.args import OrderArg, OrderCommand, UsageProblem, order_label, parse_assignments
from podops.cli.edit_shipping import SHIPPING_FIELD, set_speed
from podops.cli.orders import cli_actor
from podops.cli.photos import crop_settings, refuse_late_crops
from podops.cli.styled import styled
from podops.cli.views import photo_lines
from podops.fulfillment.late_design import accepts_design_changes, change_submitted_design
from podops.refs import in_shell
from podops.services.design_gate import design_may_change
from podops.status import OrderStatus

if TYPE_CHECKING:
    from podops.events import Actor
    from podops.runtime.root import Runtime
    from podops.services.field_edits import FieldEdit


def edit_command(
    number: OrderArg,
    assignments: Annotated[
        list[str],
        typer.Argument(
            help='FIELD=VALUE pairs, e.g. name=Ana "message=Happy birthday" '
            "photo=https://... (a photo field takes a link, checked before it is saved); "
            "FIELD= empties a field the product does not print; a photo's crop as "
            "photo.zoom=1.5 photo.x=10% photo.y=-5%; "
            "shipping=SPEED sets the shipping speed (express...); or the shipping "
            'address: "address.line2=Apt 4" (name, company, line1, line2, city, '
            "state, postcode, country, phone).",
            metavar="FIELD=VALUE...",
        ),
    ],
    line: Annotated[
        int | None,
        typer.Option(
            "--line", "-l", min=1, help="Line position (needed when the order has several)."
        ),
    ] = None,
) -> None:
    """Change an order line's personalization (or crop its photo) and render it again,
    or the order's shipping speed, or its address.

    Only the fields the line's template prints can be set (a photo field takes a
    link, fetched and checked before it is saved). Prints the new preview; exits
    with 1 when the change is refused or a line cannot be rendered (the reason is
    printed and recorded on the order). `address.FIELD=VALUE` changes the shipping
    address: every field given, or none; after submission the provider gets it
    where its API allows.
    """
    from podops.cli.main import out, runtime

    fields, crops = crop_settings(parse_assignments(assignments))
    address = {name: value for word, value in fields.items() if (name := field_name(word))}
    if address and (len(address) != len(fields) or crops):
        raise UsageProblem(
            "change the address and the rest in two commands "
            "(address.FIELD=VALUE belongs to the whole order, FIELD=VALUE to one line)"
        )
    if address and line is not None:
        raise UsageProblem("--line is for personalization; the address belongs to the whole order")
    rt = runtime()
    rt.db.check()
    actor = cli_actor()
    if address:
        _edit_address(rt, number, address, actor)
        return
    speed = fields.pop(SHIPPING_FIELD, None)
    target = _target(rt, number, line) if fields or crops else None  # usage errors change nothing
    checked = rt.field_checks.check(number, target[0], fields) if target else None
    if speed is not None:
        set_speed(rt, number, speed, actor)
    if target is None or checked is None:
        return
    position, label, late_provider = target
    if late_provider is not None:
        refuse_late_crops(crops, label, late_provider)
        _edit_submitted(rt, number, [checked], actor)
        return
    with rt.db.unit_of_work() as session:
        services.edit_fields(session, checked, actor)
        services.set_crop_settings(session, number, position, crops, actor)
        order = services.get_order(session, number)
        stale = any(i.position == position and not i.print_file_current for i in order.items)
    if not stale:
        out.print(
            f"Nothing changed on {label} (to render it again: podops render "
            f"--line {position} {in_shell(number)})."
        )
        return
    outcomes = rt.print_files.render_order(number, actor, [position])
    previews = [o.preview for o in outcomes if o.ok and o.preview is not None]
    refused = [o for o in outcomes if not o.ok]
    for outcome in outcomes:
        if outcome.ok:
            out.print(
                f"{outcome.reference}: saved and rendered ({outcome.message})",
                markup=False,
                soft_wrap=True,
            )
            preview = outcome.preview or outcome.preview_path  # with a bucket: s3://...
            out.print(f"  preview     {preview}", markup=False, soft_wrap=True)
        else:
            out.print(
                f"{outcome.reference}: saved, but not rendered: {outcome.message}",
                markup=False,
                soft_wrap=True,
            )
    who = wording.actor_name(actor.name)
    _announce(rt, number, f"{who} edited {label}; new preview:", previews)
    with rt.db.unit_of_work() as session:
        order = services.get_order(session, number)
        status, when = OrderStatus(order.status), reports.countdown(order)
        photos = [p for i in order.items if i.position == position for p in photo_lines(i)]
    for text in photos:
        out.print(text, markup=False, soft_wrap=True)
    submits = f", submits {when}" if when else ""
    out.print(styled("{} is now: [bold]{}[/bold]{}.", order_label(label), status.label, submits))
    if refused:
        raise typer.Exit(1)


def _edit_address(rt: Runtime, reference: str, typed: dict[str, str], actor: Actor) -> None:
    """All the typed address fields at once, or none (the reason is printed). A split
    order whose one provider kept the old address exits with 1: the answer names
    the parts still shipping there, and the same command sends it to them again."""
    from podops.cli.main import out

    outcome = rt.addresses.change(reference, typed, actor)
    out.print(outcome.words, markup=False, soft_wrap=True)
    with rt.db.unit_of_work() as session:
        order = services.get_order(session, reference)
        status, when = OrderStatus(order.status), reports.countdown(order)
        waiting = [str(p) for p in order.problems]
        label = order.label
    submits = f", submits {when}" if when else ""
    out.print(styled("{} is now: [bold]{}[/bold]{}.", order_label(label), status.label, submits))
    if waiting:
        out.print(f"  still waiting for: {'; '.join(waiting)}", markup=False, soft_wrap=True)
    if outcome.partial:
        raise typer.Exit(1)


def _target(rt: Runtime, reference: str, line: int | None) -> tuple[int, str, str | None]:
    """The line to edit, the order's label and the provider to send a late design to."""
    with rt.db.unit_of_work() as session:
        order = services.get_order(session, reference)
        positions = [item.position for item in order.items]
        status, provider, label = OrderStatus(order.status), order.provider, order.label
        here = {item.position for item in order.items if design_may_change(order, item)}
    if line is None:
        if len(positions) != 1:
            listed = ", ".join(str(p) for p in positions) or "none"
            raise UsageProblem(
                f"{label} has {len(positions)} lines ({listed}); say which with --line"
            )
        line = positions[0]
    elif line not in positions:
        listed = ", ".join(str(p) for p in positions)
        raise UsageProblem(f"{label} has no line {line} (its lines: {listed})")
    late = None  # a line no provider has yet (a split order's failed part) changes here
    if line not in here and accepts_design_changes(rt.follow_up, status, provider):
        late = provider
    return line, label, late


def _edit_submitted(rt: Runtime, reference: str, changes: list[FieldEdit], actor: Actor) -> None:
    from podops.cli.main import out

    change = change_submitted_design(rt.follow_up, rt.print_files, reference, changes, actor)
    label = f"order {change.number}"
    if not change.previews:
        out.print(f"Nothing changed on {label}.")
        return
    out.print(f"Sent the new design of {label} to {change.provider}.")
    for preview in change.previews:
        out.print(f"  preview     {preview}", markup=False, soft_wrap=True)
    who = wording.actor_name(actor.name)
    text = f"{who} changed the design of {label}; {change.provider} has the new files:"
    _announce(rt, reference, text, change.previews)


def _announce(rt: Runtime, reference: str, text: str, previews: list[str]) -> None:
    """Queue the new previews for the order's thread (Slack or the console)."""
    if not previews:
        return
    from podops.notify.alerts import queue_previews

    with rt.db.unit_of_work() as session:
        order = services.get_order(session, reference)
        queue_previews(session, order, text, previews, key=f"cli-edit:{uuid.uuid4().hex}")


def register(app: typer.Typer) -> None:
    app.command("edit", cls=OrderCommand)(edit_command)
