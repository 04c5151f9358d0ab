"""`podops storage check` and `podops storage migrate` (local folder -> bucket)."""

from __future__ import annotations

import typer

from podops.errors import ConfigError

storage_app = typer.Typer(help="Where print files are kept (docs/several-hosts.md).")


@storage_app.command("check")
def check_command() -> None:
    """Write, read back and delete a small file in the configured storage."""
    from podops.cli.main import out, runtime

    rt = runtime()
    rt.storage.check()
    out.print(f"storage {rt.settings.storage.kind}: ok", markup=False)


@storage_app.command("migrate")
def migrate_command() -> None:
    """Copy every print file, preview and packing slip from the local folder into
    the bucket, verify each by SHA-256 and point the database at it.

    Safe to run again and to stop at any time: what is already moved is skipped.
    Local files are left in place; exits 1 when some could not be moved."""
    from podops.cli.main import out, runtime
    from podops.runtime.fulfillment_wiring import local_storage
    from podops.storage_migration import Migration

    rt = runtime()
    if rt.settings.storage.kind != "s3":
        raise ConfigError(
            'storage.kind: set it to "s3" (with storage.bucket) before migrating; '
            "see docs/several-hosts.md"
        )
    rt.db.check()
    rt.storage.check()
    local = local_storage(rt.settings)

    def say(text: str) -> None:
        out.print(text, markup=False, soft_wrap=True)

    report = Migration(rt.db, local, rt.storage, say).run(extra_folder=local.folder)
    say(
        f"moved {report.lines_moved} lines: {report.files_uploaded} files uploaded, "
        f"{report.files_verified} already there (same bytes)"
    )
    if report.missing or report.mismatched:
        say(
            f"{len(report.missing)} files missing here, {len(report.mismatched)} read back "
            "differently; their lines still point at the local files (run it on the host "
            "that has them, or render those lines again)"
        )
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(storage_app, name="storage")
