"""A scheduled job's trouble reaches `podops status` ("Last errors"), secrets masked,
and is marked resolved once the job runs clean again."""

from __future__ import annotations

import logging
from pathlib import Path

from typer.testing import CliRunner

from podops.db import Database
from podops.jobs import JobSpec, run_job
from podops.logs import remember_secrets
from podops.runtime.job_health import JobErrors
from podops.runtime.status_report import build

log = logging.getLogger("sync.sheets.mirror")
TOKEN = "ya29.sheet-token-7f3c0a"


def test_job_errors_are_kept_masked_and_resolved(db: Database) -> None:
    remember_secrets([TOKEN])
    errors = JobErrors(db)
    broken = {"sheet": True}

    def mirror() -> None:
        if broken["sheet"]:
            log.warning("sheet: Google answered 503 for token %s", TOKEN)

    def poll() -> None:
        raise RuntimeError("CustomCat answered 502")

    run_job(JobSpec("sheet.mirror", errors.wrap("sheet.mirror", mirror)))
    run_job(JobSpec("fulfillment.tracking", errors.wrap("fulfillment.tracking", poll)))
    with db.unit_of_work() as session:
        shown = {job: (error, resolved) for _, job, error, resolved in build(session).job_errors}
    assert shown["sheet.mirror"] == ("sheet: Google answered 503 for token [redacted]", None)
    assert shown["fulfillment.tracking"] == ("RuntimeError: CustomCat answered 502", None)

    broken["sheet"] = False
    run_job(JobSpec("sheet.mirror", errors.wrap("sheet.mirror", mirror)))
    with db.unit_of_work() as session:
        shown = {job: (error, resolved) for _, job, error, resolved in build(session).job_errors}
    assert shown["sheet.mirror"][1] is not None  # ran fine since
    assert shown["fulfillment.tracking"][1] is None


def test_status_lists_last_errors(db: Database, db_url: str, tmp_path: Path) -> None:
    from podops.cli.main import app

    errors = JobErrors(db)
    run_job(
        JobSpec("intake.main", errors.wrap("intake.main", lambda: log.warning("store main: 401")))
    )
    config = tmp_path / "podops.toml"
    config.write_text(f'data_dir = "{tmp_path.as_posix()}"\n[database]\nurl = "{db_url}"\n')
    shown = CliRunner().invoke(app, ["--config", str(config), "status"])
    assert shown.exit_code == 0, shown.output
    assert "Last errors" in shown.output
    assert "job intake.main: store main: 401" in shown.output
