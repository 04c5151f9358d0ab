"""`podops products`: the Products table (list, import the CSV file, check it)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from podops.errors import ConfigError
from podops.products.rows import VariantRow, result_text

if TYPE_CHECKING:
    from podops.runtime.root import Runtime

products_app = typer.Typer(
    help="The Products table: SKUs routed to a provider's product code before the rules.",
    no_args_is_help=True,
)
PathArg = Annotated[
    Path | None,
    typer.Argument(help="A CSV file (default: [products] csv from the config)."),
]


@products_app.command("list")
def list_command() -> None:
    """Every row of the table (CSV file and Products tab), with its verdict."""
    from podops.cli.main import out, runtime
    from podops.products.stored import stored_rows

    rt = runtime()
    rt.db.check()
    with rt.db.reading() as session:
        rows = stored_rows(session)
    if not rows:
        out.print("The Products table is empty: every SKU goes by the [[routing]] rules.")
        return
    table = Table("source", "row", "sku", "provider", "provider_sku", "template", "countries")
    table.add_column("result")
    for source, row in rows:
        table.add_row(
            source,
            str(row.row),
            row.sku,
            row.provider,
            row.provider_sku,
            row.product_key,
            " ".join(row.countries) or "all",
            result_text(row),
        )
    out.print(table)
    bad = sum(1 for _, row in rows if not row.ok)
    out.print(f"{len(rows)} row(s), {bad} with errors (those SKUs go by the rules).")


@products_app.command("import")
def import_command(path: PathArg = None) -> None:
    """Read the CSV file now and replace its rows in the table; exits 1 on bad rows."""
    from podops.cli.main import out, runtime
    from sync.products_csv import import_file

    rt = runtime()
    rt.db.check()
    chosen, configured = _file(rt, path)
    done = import_file(rt, chosen, remember=chosen == configured)
    _print_rows(done.rows, chosen)
    out.print(f"{chosen}: {len(done.rows)} row(s) stored, {len(done.errors)} with errors.")
    if done.errors:
        raise typer.Exit(1)


@products_app.command("check")
def check_command(path: PathArg = None) -> None:
    """Check the CSV file's rows without storing them; exits 1 on bad rows."""
    from podops.cli.main import out, runtime
    from sync.products_csv import check_file

    rt = runtime()
    chosen, _ = _file(rt, path)
    done = check_file(rt, chosen)
    _print_rows(done.rows, chosen)
    out.print(f"{chosen}: {len(done.rows)} row(s), {len(done.errors)} with errors.")
    if done.errors:
        raise typer.Exit(1)


def _file(rt: Runtime, path: Path | None) -> tuple[Path, Path | None]:
    name = rt.settings.products.csv
    configured = rt.settings.resolve(name) if name else None
    chosen = path or configured
    if chosen is None:
        raise ConfigError("no CSV file given and none configured ([products] csv)")
    return chosen, configured


def _print_rows(rows: list[VariantRow], path: Path) -> None:
    """The rows with errors or warnings, each with where it is in the file."""
    from podops.cli.main import out

    for row in rows:
        if row.problem or row.note:
            out.print(
                f"{path.name} row {row.row} ({row.sku or 'no sku'}): {result_text(row)}",
                markup=False,
                soft_wrap=True,
            )


def register(app: typer.Typer) -> None:
    app.add_typer(products_app, name="products")
