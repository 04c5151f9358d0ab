"""Housekeeping jobs: print files made ahead of the countdown, planner statistics."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from podops.errors import PodopsError
from podops.events import Actor
from sync.jobs import JobSpec

if TYPE_CHECKING:
    from podops.app import Runtime

log = logging.getLogger(__name__)
RENDERER = Actor.system("renderer")


def render_ahead(runtime: Runtime, limit: int = 20) -> int:
    """Render stale print files for orders in the countdown, so submission never waits."""
    done = 0
    for reference in runtime.print_files.stale_orders(limit):
        try:
            runtime.print_files.ensure_current(reference, RENDERER)
            done += 1
        except PodopsError as exc:
            log.info("print files for %s: %s", reference, exc.message)
    return done


def jobs(runtime: Runtime) -> list[JobSpec]:
    return [
        JobSpec("render_ahead", lambda: render_ahead(runtime), "interval", {"seconds": 30}, True),
        JobSpec("db_optimize", runtime.db.optimize, "cron", {"hour": 3, "minute": 17}, True),
        JobSpec(
            "heartbeat",
            lambda: heartbeat(runtime, "worker"),
            "interval",
            {"seconds": 60, "next_run_time": datetime.now(UTC)},
        ),
    ]


def heartbeat(runtime: Runtime, role: str) -> None:
    """Tell `podops status` this instance is alive, and which jobs it runs."""
    from podops.leases import holder_name
    from podops.models import SyncState, utcnow

    key = f"heartbeat:{holder_name()}"
    with runtime.db.unit_of_work() as session:
        state = session.get(SyncState, key) or SyncState(key=key)
        state.value = {"role": role, "at": utcnow().isoformat()}
        session.add(state)
