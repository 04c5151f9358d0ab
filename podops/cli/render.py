"""`podops render` (print files for an order) and `podops templates check`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from podops import services
from podops.cli.args import OrderArg, OrderCommand, UsageProblem
from podops.cli.orders import cli_actor
from podops.cli.views import photo_lines

if TYPE_CHECKING:
    from podops.products.rows import VariantRow
    from podops.runtime.root import Runtime

templates_app = typer.Typer(help="Product templates for print files.", no_args_is_help=True)


def render_command(
    number: OrderArg,
    line: Annotated[
        list[int] | None,
        typer.Option("--line", "-l", help="Only this line position (repeatable)."),
    ] = None,
) -> None:
    """Render new print-file revisions for an order's lines and print where they are.

    Exits with 1 when any line was refused (the reason is printed and recorded
    on the order for staff, as when the service renders it).
    """
    from podops.cli.main import out, runtime

    rt = runtime()
    rt.db.check()
    if line:
        _check_lines(rt, number, line)
    outcomes = rt.print_files.render_order(number, cli_actor(), line or None)
    if not outcomes:
        out.print("No line to render (check the line positions).")
        raise typer.Exit(1)
    photos = _photo_lines(rt, number)
    refused = 0
    for outcome in outcomes:
        if outcome.ok and outcome.path is not None:
            out.print(f"{outcome.reference}: {outcome.message}", markup=False, soft_wrap=True)
            # where every host finds them (with a bucket, this host keeps no copy)
            where = outcome.location or outcome.path
            preview = outcome.preview or outcome.preview_path
            out.print(f"  print file  {where}", markup=False, soft_wrap=True)
            out.print(f"  preview     {preview}", markup=False, soft_wrap=True)
            for text in photos.get(outcome.reference, []):
                out.print(text, markup=False, soft_wrap=True)
        else:
            refused += 1
            out.print(
                f"{outcome.reference}: not rendered: {outcome.message}",
                markup=False,
                soft_wrap=True,
            )
    if refused:
        raise typer.Exit(1)


def _photo_lines(rt: Runtime, reference: str) -> dict[str, list[str]]:
    """Each line's photos at their print size (`photo  44 DPI at this size ...`)."""
    with rt.db.unit_of_work() as session:
        order = services.get_order(session, reference)
        return {item.reference: photo_lines(item) for item in order.items}


def _check_lines(rt: Runtime, reference: str, wanted: list[int]) -> None:
    """A line position the order does not have is mistyped (exit 2), as in `podops edit`."""
    with rt.db.unit_of_work() as session:
        order = services.get_order(session, reference)
        positions, label = [item.position for item in order.items], order.label
    missing = [str(p) for p in wanted if p not in positions]
    if missing:
        listed = ", ".join(str(p) for p in positions) or "none"
        raise UsageProblem(f"{label} has no line {', '.join(missing)} (its lines: {listed})")


@templates_app.command("check")
def check_command() -> None:
    """Load every template and render its sample, and ask each provider's catalog for
    the product codes routing sends; exits with 1 if a template is broken or a code
    unknown."""
    from podops.cli.main import out, runtime

    rt = runtime()
    results = rt.renderer.check_templates()
    out.print(f"Templates in {rt.templates_dir}:", markup=False, soft_wrap=True)
    for name, ok, message in results:
        out.print(
            f"  {'ok    ' if ok else 'BROKEN'} {name}: {message}", markup=False, soft_wrap=True
        )
    if not results:
        out.print("  (no *.toml template files)")
    codes_ok = _check_codes(rt)
    if not results or not all(ok for _, ok, _ in results) or not codes_ok:
        raise typer.Exit(1)


def _check_codes(rt: Runtime) -> bool:
    """Every routing rule's and Products row's code asked of its provider's catalog."""
    from podops.cli.main import out
    from podops.products.catalog import catalog_of
    from podops.products.codes import check_codes, code_uses

    uses = code_uses(rt.settings.routing, _table_rows(rt))
    out.print("Product codes (routing rules and the Products table):")
    if not uses:
        out.print("  (no product codes to check)")
        return True
    catalogs = {name: catalog_of(provider) for name, provider in rt.providers.items()}
    report = check_codes(uses, catalogs)
    for use, reason in report.unknown:
        out.print(
            f"  UNKNOWN {use.where}: {use.provider} does not know {use.code}: {reason}",
            soft_wrap=True,
        )
    for use in report.unconfigured:
        out.print(f"  UNKNOWN {use.where}: no provider named {use.provider!r}", soft_wrap=True)
    for _provider, reason in sorted(report.unchecked.items()):
        out.print(f"  {reason}", soft_wrap=True)
    out.print(f"  {report.checked} code(s) checked, {len(report.unknown)} unknown")
    return not report.unknown and not report.unconfigured


def _table_rows(rt: Runtime) -> list[tuple[str, VariantRow]]:
    """The Products table's rows, when the database is set up (else none)."""
    from podops.errors import DatabaseUnavailable
    from podops.products.stored import stored_rows

    try:
        rt.db.check()
        with rt.db.reading() as session:
            return stored_rows(session)
    except DatabaseUnavailable:
        return []


def register(app: typer.Typer) -> None:
    app.command("render", cls=OrderCommand)(render_command)
    app.add_typer(templates_app, name="templates")
