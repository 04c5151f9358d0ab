"""The `podops` command (typer and rich): `main` holds the app and exit codes,
each other module registers one group of commands."""
