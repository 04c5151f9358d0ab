"""APScheduler setup: jobs live in memory and are declared at start-up from
each area's `jobs(runtime)` list (a shared persistent job store is unsafe in
APScheduler 3 with several processes; the database holds the real state)."""

from __future__ import annotations

from collections.abc import Iterable

from apscheduler.schedulers.background import BackgroundScheduler

from sync.jobs import Guard, JobSpec, run_job

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 30}


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
            **spec.trigger_args,
        )
    return scheduler
