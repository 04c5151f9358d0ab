"""A podops worker in its own process, for the fault tests.

    python -m tests.reliability.worker CONFIG.toml JOB[,JOB...] [ROUNDS] [SHEETS_URL]

It loads the config the way `podops run` does (TOML plus secrets from the
environment, JSON logs with secrets masked), collects the service's own jobs
(`podops.runtime.instance.collect_jobs`) and runs the named ones back to back, ROUNDS
times, through the same wrapper and singleton guard the scheduler uses: the
service on a compressed clock. SHEETS_URL points gspread at the fake Sheets
server (the Google adapter has no base URL setting).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from podops import logs
from podops.jobs import run_job
from podops.leases import singleton
from podops.runtime.instance import collect_jobs
from podops.runtime.root import Runtime
from podops.settings import load_settings

PAUSE_S = 0.05


def _use_fake_sheets(runtime: Runtime, base: str) -> None:
    import gspread

    from sync.sheets.google import GoogleSheet
    from tests.fakes.sheets_server import RedirectSession

    client = gspread.Client(auth=None, session=RedirectSession(base))  # type: ignore[arg-type]
    sheet_id = runtime.settings.sheet.spreadsheet_id
    runtime.__dict__["sheet"] = GoogleSheet(client, sheet_id, wait_min=0.01, wait_max=0.05)


def main(config: str, names: str, rounds: str = "3", sheets: str = "") -> int:
    settings = load_settings(Path(config))
    logs.configure(json_lines=True, level="INFO", secrets=settings.secret_values())
    runtime = Runtime(settings)
    if sheets:
        _use_fake_sheets(runtime, sheets)
    specs = {spec.name: spec for spec in collect_jobs(runtime)}
    wanted = [specs[name] for name in names.split(",")]
    for _ in range(int(rounds)):
        for spec in wanted:
            run_job(spec, lambda name: singleton(runtime.db, name))
        time.sleep(PAUSE_S)
    runtime.close()
    print("worker finished", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
