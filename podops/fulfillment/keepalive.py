"""Keeping the claims of orders being worked on alive, so that only a dead
worker's claims go stale.

An order is `submitting` under a claim (a token and `claimed_at`). The stuck
order reconciler takes over an order whose claim is older than the stuck
threshold. A live worker may wait for its provider's slot or for a slow answer
for longer than that; while it does, this keeper re-stamps the claims of the
orders it is working on, one small UPDATE per pass for all of them, matched by
token (a claim taken over meanwhile is left alone). A worker killed mid-batch
stops stamping, and each of its orders goes stale on its own clock: the
reconciler takes them over one by one, as soon as each is stale, while the
orders a live worker holds stay its own.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from podops.db import Database
from podops.services.submission import keep_claims

log = logging.getLogger(__name__)


class ClaimKeeper:
    """Re-stamps the held claims every `every_s` seconds, from a thread that runs
    while at least one claim is held."""

    def __init__(self, db: Database, every_s: float, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.every_s = every_s
        self.clock = clock
        self._held: set[str] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @contextmanager
    def holding(self, token: str) -> Iterator[None]:
        """Keep the claim with `token` alive while the block runs."""
        with self._lock:
            self._held.add(token)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="claim-keeper", daemon=True)
                self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                self._held.discard(token)

    def _run(self) -> None:
        while True:
            threading.Event().wait(self.every_s)
            with self._lock:
                tokens = sorted(self._held)
                if not tokens:
                    self._thread = None
                    return
            self._stamp(tokens)

    def _stamp(self, tokens: list[str]) -> None:
        try:
            with self.db.unit_of_work() as session:
                keep_claims(session, tokens, self.clock())
        except Exception:  # the next pass tries again; the threshold leaves room for it
            log.exception("cannot keep %d claims alive", len(tokens))
