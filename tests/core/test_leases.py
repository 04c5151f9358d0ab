"""Singleton jobs: two workers on one database never run the same job at once."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from podops.db import Database
from podops.leases import singleton


def test_second_holder_is_refused_while_the_first_runs(db: Database, db_url: str) -> None:
    with singleton(db, "sheet.mirror") as first:
        assert first is True
        # Another process (another `podops run` worker) tries the same job now.
        script = textwrap.dedent(
            f"""
            from podops.db import Database
            from podops.leases import singleton
            with singleton(Database({db_url!r}), "sheet.mirror") as got:
                print(got)
            """
        )
        other = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True
        )
        assert other.stdout.strip() == "False"
        with singleton(db, "daily_summary") as unrelated:
            assert unrelated is True
    with singleton(db, "sheet.mirror") as again:
        assert again is True
