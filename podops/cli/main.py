"""The `podops` command. Exit codes: 0 success, 1 the business rules refuse
(with the reason), 2 usage or configuration errors (an order number that names
no order, or several, is mistyped: the person fixes the command, not the order),
3 the database is unusable.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from podops import logs
from podops.cli.args import UsageProblem
from podops.cli.styled import styled
from podops.errors import (
    AmbiguousReference,
    ConfigError,
    DatabaseUnavailable,
    DomainRefusal,
    OrderNotFound,
    PodopsError,
)
from podops.runtime.root import Runtime
from podops.settings import DEFAULT_CONFIG_NAME

STARTER_CONFIG = Path(__file__).parents[1] / "starter_config.toml"

app = typer.Typer(
    help="podops: the back office of a print-on-demand shop.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")

# No markup is read from what they print (styled.py): outside text is shown as it is.
out = Console(highlight=False, markup=False)
err = Console(stderr=True, highlight=False, markup=False)


class State:
    config: Path | None = None
    runtime: Runtime | None = None


def runtime() -> Runtime:
    """The process's runtime, built on first use from --config."""
    if State.runtime is None:
        State.runtime = Runtime.from_config(State.config)
        logs.remember_secrets(State.runtime.settings.secret_values())
    return State.runtime


ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        envvar="PODOPS_CONFIG",
        help=f"Config file (default: ./{DEFAULT_CONFIG_NAME}).",
        dir_okay=False,
    ),
]


@app.callback()
def _main(config: ConfigOption = None) -> None:
    # Every command (the demo too) logs through the secret mask from its first line.
    logs.configure_command()
    State.config = config or Path(DEFAULT_CONFIG_NAME)
    State.runtime = None


@app.command()
def init(
    force: Annotated[bool, typer.Option(help="Overwrite an existing config file.")] = False,
) -> None:
    """Write a commented starter config (if none exists) and create the database."""
    path = State.config or Path(DEFAULT_CONFIG_NAME)
    if path.exists() and not force:
        out.print(f"Config file {path} exists; keeping it (use --force to replace it).")
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(STARTER_CONFIG, path)
        out.print(styled("Wrote starter config to [bold]{}[/bold].", path))
    rt = runtime()
    rt.settings.data_dir.mkdir(parents=True, exist_ok=True)
    rt.db.upgrade()
    from podops.db import describe_url

    out.print(styled("Database ready at [bold]{}[/bold].", describe_url(rt.db.url)))
    out.print(
        styled("Next: [bold]podops orders list[/bold] (or edit the config to connect your shop).")
    )


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations (safe to run again)."""
    rt = runtime()
    rt.db.upgrade()
    out.print("Database schema is up to date.")


def _register_subcommands() -> None:
    from podops.cli import intake as cli_intake
    from podops.cli import orders as cli_orders

    cli_orders.register(app)
    cli_intake.register(app)
    from podops.cli import slack as cli_slack

    cli_slack.register(app)
    from podops.cli import fulfillment as cli_fulfillment

    cli_fulfillment.register(app)
    from podops.cli import sheet as cli_sheet

    cli_sheet.register(app)
    from podops.cli import service as cli_service

    cli_service.register(app)
    from podops.cli import outbox as cli_outbox

    cli_outbox.register(app)
    from podops.cli import render as cli_render

    cli_render.register(app)
    from podops.cli import edit as cli_edit

    cli_edit.register(app)
    from podops.cli import photos as cli_photos

    cli_photos.register(app)
    from podops.cli import stores as cli_stores

    cli_stores.register(app)
    from podops.cli import remake as cli_remake

    cli_remake.register(app)
    from podops.cli import returns as cli_returns

    cli_returns.register(app)
    from podops.cli import products as cli_products

    cli_products.register(app)
    from podops.cli import report as cli_report

    cli_report.register(app)
    from podops.cli import labels as cli_labels

    cli_labels.register(app)
    from podops.cli import storage as cli_storage

    cli_storage.register(app)


_register_subcommands()


def exit_code_for(error: PodopsError) -> int:
    """0 success, 1 refused by the business rules, 2 usage or config, 3 database."""
    if isinstance(error, ConfigError | UsageProblem | OrderNotFound | AmbiguousReference):
        return 2
    if isinstance(error, DomainRefusal):
        return 1
    if isinstance(error, DatabaseUnavailable):
        return 3
    return 1


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; every known failure becomes one line on stderr and an exit code."""
    try:
        app(args=argv, prog_name="podops", standalone_mode=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except PodopsError as exc:
        err.print(styled("[red]error:[/red] {}", exc.message), soft_wrap=True)
        return exit_code_for(exc)
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130
    finally:
        if State.runtime is not None:
            State.runtime.close()
    return 0
