"""Fulfillment jobs: the countdown tick, the stuck-submission reconciler, the tracking
poll, and the shop's address changes for orders a provider has.

Thin on purpose: each body is one call on `runtime.submission` (countdown,
reconciler) or `runtime.follow_up` (tracking); the job wrapper owns logging
and error capture.

On PostgreSQL the countdown and the reconciler run on every worker (not
singletons): due orders and stale claims are taken `FOR UPDATE SKIP LOCKED` with a
claim token each, so the workers share the orders out and none is sent twice
(`podops.fulfillment.claim`); print files are rendered under a per-order lease, and
what no claim protects (outage retries, address verification) runs on one worker at
a time inside the tick (`Submitter.tick`). On SQLite (one host) they are singletons.
Tracking and the address-change outbox are singletons everywhere.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from podops.jobs import JobSpec

if TYPE_CHECKING:
    from podops.ports.context import Fulfillment

log = logging.getLogger("podops.fulfillment")

COUNTDOWN_EVERY_S = 30
RECONCILE_EVERY_S = 60
TRACKING_EVERY_S = 300
ADDRESSES_EVERY_S = 30


def jobs(runtime: Fulfillment) -> list[JobSpec]:
    everywhere = runtime.db.dialect == "postgresql"  # as `Submitter.spread`

    def countdown() -> None:
        report = runtime.submission.tick()
        for reference in report.reconciled:
            log.info("reconciled %s (was left submitting)", reference)
        for number in report.submitted:
            log.info("order %s submitted", number)
        for number, reason in report.failed:
            log.warning("order %s failed to submit: %s", number, reason)
        for number, reason in report.blocked:
            log.warning("order %s is waiting: %s", number, reason)

    def reconcile() -> None:
        for reference in runtime.submission.reconcile_stuck():
            log.info("reconciled %s (was left submitting)", reference)

    def addresses() -> None:
        report = runtime.addresses.drain()
        if report.delivered or report.retried or report.dead:
            log.info("shop address changes for providers: %s", report)

    def tracking() -> None:
        report = runtime.follow_up.poll_tracking()
        for reference, changes in report.changed.items():
            log.info("%s: %s", reference, ", ".join(changes))
        for reference, reason in report.errors.items():
            log.warning("tracking for %s: %s", reference, reason)

    return [
        JobSpec(
            "fulfillment.countdown",
            countdown,
            "interval",
            {"seconds": COUNTDOWN_EVERY_S},
            singleton=not everywhere,
        ),
        JobSpec(
            "fulfillment.reconcile",
            reconcile,
            "interval",
            {"seconds": RECONCILE_EVERY_S},
            singleton=not everywhere,
        ),
        JobSpec("fulfillment.tracking", tracking, "interval", {"seconds": TRACKING_EVERY_S}, True),
        JobSpec(
            "fulfillment.addresses", addresses, "interval", {"seconds": ADDRESSES_EVERY_S}, True
        ),
    ]
