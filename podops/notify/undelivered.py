"""A private answer that reached nobody (the chat refused every way to deliver it)
is kept where `podops status` shows errors, so staff learn that someone was not
told the result of their action."""

from __future__ import annotations

from podops.db import Database
from podops.models import SyncState, utcnow

# `podops status` lists recent errors of named jobs from these rows
# (podops.runtime.job_health.JOB_ERROR_PREFIX); replies show as `slack.replies`.
KEY = "job_error:slack.replies"
MAX_CHARS = 1000


def remember_undelivered(db: Database, text: str) -> None:
    with db.unit_of_work() as session:
        state = session.get(SyncState, KEY) or SyncState(key=KEY)
        state.value = {"at": utcnow().isoformat(), "error": text[:MAX_CHARS]}
        session.add(state)
