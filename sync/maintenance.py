"""Housekeeping jobs: print files made ahead of the countdown, planner statistics.
(Heartbeats are the service's own, for every role: podops.runtime.instance.)"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from podops.errors import PodopsError
from podops.events import Actor
from podops.jobs import JobSpec

if TYPE_CHECKING:
    from podops.ports.context import Fulfillment

log = logging.getLogger(__name__)
RENDERER = Actor.system("renderer")


def render_ahead(runtime: Fulfillment, limit: int = 20) -> int:
    """Render stale print files for orders in the countdown, so submission never waits."""
    done = 0
    for reference in runtime.print_files.stale_orders(limit):
        try:
            runtime.print_files.ensure_current(reference, RENDERER)
            done += 1
        except PodopsError as exc:
            log.info("print files for %s: %s", reference, exc.message)
    return done


def jobs(runtime: Fulfillment) -> list[JobSpec]:
    return [
        JobSpec(
            "fulfillment.render_ahead",
            lambda: render_ahead(runtime),
            "interval",
            {"seconds": 30},
            singleton=True,
        ),
        JobSpec("db.optimize", runtime.db.optimize, "cron", {"hour": 3, "minute": 17}, True),
    ]
