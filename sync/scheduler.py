"""APScheduler setup: jobs live in memory and are declared at start-up from
each area's `jobs(runtime)` list (a shared persistent job store is unsafe in
APScheduler 3 with several processes; the database holds the real state)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from podops.jobs import Guard, JobSpec, run_job

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 30}
# A daily job (the summary) that was held up (a suspended machine, a busy pool)
# still runs once, late, instead of being skipped until tomorrow.
CRON_MISFIRE_GRACE_S = 12 * 3600


def build_scheduler(
    specs: Iterable[JobSpec], *, timezone: str = "UTC", guard: Guard | None = None
) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(job_defaults=JOB_DEFAULTS, timezone=timezone)
    for spec in specs:
        scheduler.add_job(
            run_job,
            spec.trigger,
            args=[spec, guard],
            id=spec.name,
            name=spec.name,
            replace_existing=True,
            **_options(spec),
            **spec.trigger_args,
        )
    return scheduler


def _options(spec: JobSpec) -> dict[str, Any]:
    if spec.trigger == "cron":
        return {"misfire_grace_time": CRON_MISFIRE_GRACE_S, "coalesce": True}
    return {}
