"""Housekeeping jobs: print files made ahead of the countdown, planner statistics, and
rows nobody needs any more (`podops.housekeeping`).
(Heartbeats are the service's own, for every role: podops.runtime.instance.)"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from podops import housekeeping
from podops.errors import PodopsError
from podops.events import Actor
from podops.jobs import JobSpec

if TYPE_CHECKING:
    from podops.ports.context import Configured, Fulfillment

log = logging.getLogger(__name__)
RENDERER = Actor.system("renderer")


def render_ahead(runtime: Fulfillment, limit: int = 20) -> int:
    """Render stale print files for orders in the countdown, so submission never waits.
    Each order under its render lease, as the countdown takes it: an order another
    worker (or the countdown) is rendering now is left to it."""
    done = 0
    for order_id, reference in runtime.print_files.stale(limit):
        with runtime.submission.render_lease(order_id) as mine:
            if not mine:
                log.debug("print files for %s: being made elsewhere", reference)
                continue
            try:
                runtime.print_files.ensure_current(reference, RENDERER)
                done += 1
            except PodopsError as exc:
                log.info("print files for %s: %s", reference, exc.message)
    return done


def prune(runtime: Configured) -> housekeeping.Pruned:
    """Forget webhook deliveries past `housekeeping.deliveries_days`, vanished
    instances' heartbeats and expired leases; delete this host's label sheets past
    `housekeeping.label_sheets_days` and lock files older versions left."""
    settings = runtime.settings
    rows = housekeeping.prune(runtime.db, settings.housekeeping.deliveries_kept)
    files = housekeeping.prune_files(
        settings.resolve(settings.render.output_dir), settings.housekeeping.label_sheets_kept
    )
    pruned = replace(rows, label_sheets=files.label_sheets, lock_files=files.lock_files)
    if pruned != housekeeping.Pruned():
        log.info("pruned %s", pruned)
    return pruned


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
        JobSpec("db.prune", lambda: prune(runtime), "cron", {"hour": 3, "minute": 47}, True),
    ]
