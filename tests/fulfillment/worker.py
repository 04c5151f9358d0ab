"""A submission worker in its own process, for the race and crash tests.

    python -m tests.fulfillment.worker DB_URL CUSTOMCAT_URL DATA_DIR MODE

MODE `drain`: tick until nothing is due. `die-after-answer`: submit, and let
the process be SIGKILLed right after the provider answered, before our commit.
`restart`: what a restarted service does first (reconcile orders left
submitting), then one tick.
"""

from __future__ import annotations

import os
import signal
import sys
from datetime import timedelta
from pathlib import Path

from podops.db import Database
from podops.ports.fulfillment import ProviderOrder, SubmitRequest
from tests.fulfillment.conftest import build_roster, build_service, fulfillment_settings


class DiesAfterAnswer:
    """The real CustomCat adapter, in a process that is killed once it has the answer."""

    def __init__(self, inner: object) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def submit(self, request: SubmitRequest) -> ProviderOrder:
        answer: ProviderOrder = self.inner.submit(request)  # type: ignore[attr-defined]
        os.kill(os.getpid(), signal.SIGKILL)
        return answer


def main(db_url: str, cc_url: str, data_dir: str, mode: str) -> int:
    settings = fulfillment_settings(db_url, Path(data_dir), cc_url, timeout_s=5.0)
    db = Database(db_url)
    roster = build_roster(settings)
    if mode == "die-after-answer":
        roster.by_name["cc"] = DiesAfterAnswer(roster.by_name["cc"])  # type: ignore[assignment]
    service = build_service(settings, db, roster, workers=4)
    if mode == "restart":
        service.reconcile_stuck(older_than=timedelta(0))
    submitted = 0
    while True:
        report = service.tick()
        submitted += len(report.submitted)
        if not report.submitted and not report.failed:
            break
    print(submitted)
    db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
