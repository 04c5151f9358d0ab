"""Customer photos from the terminal: `podops accept-photo`, and the crop settings
`podops edit` takes (`photo.zoom=1.5 photo.x=10%`, docs/render.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from podops import reports, services
from podops.cli.args import OrderArg, OrderCommand, UsageProblem, order_label
from podops.cli.orders import cli_actor
from podops.cli.styled import styled
from podops.crop_input import CROP_KEYS, split_crop_settings
from podops.errors import OrderLocked
from podops.status import OrderStatus

if TYPE_CHECKING:
    from podops.runtime.root import Runtime


def crop_settings(fields: dict[str, str]) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """`podops edit` words apart: personalization fields, and crop settings by photo."""
    personalization, crops = split_crop_settings(fields)
    for field, typed in crops.items():
        for key, text in typed.items():
            if not text.strip():
                raise UsageProblem(
                    f"{field}.{key} needs a value (for example {field}.zoom=1.5 or "
                    f"{field}.x=10%; {', '.join(CROP_KEYS)} are the crop settings)"
                )
    return personalization, crops


def refuse_late_crops(crops: dict[str, dict[str, str]], label: str, provider: str) -> None:
    """A crop changes the print file a provider already has: only text may change then."""
    if crops:
        raise OrderLocked(
            f"{label} is already at {provider}; its photos can no longer be cropped "
            "(only its personalization text may still change there)"
        )


def accept_photo_command(
    number: OrderArg,
    line: Annotated[
        int | None,
        typer.Option(
            "--line", "-l", min=1, help="Line position (needed when the order has several)."
        ),
    ] = None,
    field: Annotated[
        str | None,
        typer.Option("--field", "-f", help="The photo field (default: every low one)."),
    ] = None,
) -> None:
    """Print a photo below the template's minimum resolution as it is.

    The order stops in needs design when a photo prints under its template's
    minimum DPI; this accepts that photo at that crop and resolution (a new
    photo or a new crop is checked again). Exits with 1 when there is nothing
    to accept, with the reason.
    """
    from podops.cli.main import out, runtime

    rt = runtime()
    rt.db.check()
    actor = cli_actor()
    position = _line(rt, number, line)
    with rt.db.unit_of_work() as session:
        order = services.accept_photo(session, number, position, actor, field)
        status, when, label = OrderStatus(order.status), reports.countdown(order), order.label
        item = next(i for i in order.items if i.position == position)
        reference = item.reference
    out.print(f"{reference}: the photo prints as it is.", markup=False, soft_wrap=True)
    submits = f", submits {when}" if when else ""
    out.print(styled("{} is now: [bold]{}[/bold]{}.", order_label(label), status.label, submits))


def _line(rt: Runtime, reference: str, line: int | None) -> int:
    with rt.db.unit_of_work() as session:
        order = services.get_order(session, reference)
        positions = [item.position for item in order.items]
        label = order.label
    if line is None:
        if len(positions) != 1:
            listed = ", ".join(str(p) for p in positions) or "none"
            raise UsageProblem(
                f"{label} has {len(positions)} lines ({listed}); say which with --line"
            )
        return positions[0]
    if line not in positions:
        listed = ", ".join(str(p) for p in positions)
        raise UsageProblem(f"{label} has no line {line} (its lines: {listed})")
    return line


def register(app: typer.Typer) -> None:
    app.command("accept-photo", cls=OrderCommand)(accept_photo_command)
