"""Intake jobs: one poll per store on its own `poll_minutes`, and the
`sync once` pass by hand. Polling is the safety net under the webhooks:
whatever a webhook missed, the next poll finds.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING

from podops.intake.passes import IntakeReport, PageCallback, sync_store
from podops.jobs import JobSpec

if TYPE_CHECKING:
    from podops.ports.context import Stores

log = logging.getLogger(__name__)

POLLED_PLATFORMS = frozenset({"woocommerce", "shopify", "sandbox"})


def polled_stores(runtime: Stores) -> list[str]:
    return [
        name
        for name, store in runtime.settings.stores.items()
        if store.platform in POLLED_PLATFORMS
    ]


def sync_one(runtime: Stores, store: str, on_page: PageCallback | None = None) -> IntakeReport:
    """One pass over one store; a store that is down is reported, never raised."""
    config = runtime.settings.stores[store]
    report = sync_store(
        runtime.db,
        runtime.store_client(store),
        runtime.policy,
        config.fulfil_statuses,
        on_page=on_page,
        first_sync_window=config.first_sync_window,
    )
    if report.error:
        log.warning("store %s: %s", store, report.error)
    else:
        log.info(
            "store %s: %d fetched, %d new, %d updated, %d skipped",
            store,
            report.fetched,
            report.created,
            report.updated,
            sum(report.skipped.values()),
        )
    return report


def jobs(runtime: Stores) -> list[JobSpec]:
    now = datetime.now(UTC)
    return [
        JobSpec(
            name=f"intake.{name}",
            func=partial(sync_one, runtime, name),
            trigger="interval",
            trigger_args={
                "minutes": runtime.settings.stores[name].poll_minutes,
                "next_run_time": now,
            },
            singleton=True,
        )
        for name in polled_stores(runtime)
    ]
