"""What `podops status` knows about the running service: one heartbeat per instance
(with its real role) and each scheduled job's last error.

Jobs report trouble by raising or by logging a warning (the sheet mirror's
problems, a tracking poll that failed, a store that did not answer); the
wrapper here keeps the last such message in the database, secrets masked, so
an operator sees it without reading logs. A clean run marks it resolved.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from podops.db import Database
from podops.errors import PodopsError
from podops.housekeeping import HEARTBEAT_PREFIX
from podops.logs import MASK, RedactSecrets
from podops.models import SyncState, utcnow

JOB_ERROR_PREFIX = "job_error:"
MAX_ERROR_CHARS = 300
_MASK = RedactSecrets()


def beat(db: Database, holder: str, role: str) -> None:
    """Tell `podops status` this instance is alive and what it runs."""
    key = HEARTBEAT_PREFIX + holder
    with db.unit_of_work() as session:
        state = session.get(SyncState, key) or SyncState(key=key)
        state.value = {"role": role, "at": utcnow().isoformat()}
        session.add(state)


def forget(db: Database, holder: str) -> None:
    """A clean shutdown: the instance is gone, not merely quiet."""
    with db.unit_of_work() as session:
        session.execute(delete(SyncState).where(SyncState.key == HEARTBEAT_PREFIX + holder))


class _Collect(logging.Handler):
    """Warnings and errors logged by one thread (the job's) while the job runs."""

    def __init__(self, thread: int) -> None:
        super().__init__(logging.WARNING)
        self.thread = thread
        self.messages: list[str] = []
        self.addFilter(RedactSecrets())

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.messages.append(record.getMessage())


class JobErrors:
    """Wraps job functions so their last error is kept in `sync_state`."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._open: set[str] = set()  # names known to have an unresolved error
        self._checked: set[str] = set()
        self._lock = threading.Lock()

    def wrap(self, name: str, func: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> Any:
            collect = _Collect(threading.get_ident())
            root = logging.getLogger()
            root.addHandler(collect)
            try:
                result = func()
            except PodopsError as exc:
                self._failed(name, [*collect.messages, exc.message])
                raise
            except Exception as exc:
                self._failed(name, [*collect.messages, f"{type(exc).__name__}: {exc}"])
                raise
            finally:
                root.removeHandler(collect)
            if collect.messages:
                self._failed(name, collect.messages)
            else:
                self._succeeded(name)
            return result

        return run

    def _failed(self, name: str, messages: list[str]) -> None:
        text = messages[-1]
        for secret in _MASK._current():
            text = text.replace(secret, MASK)
        if len(messages) > 1:
            text += f" (and {len(messages) - 1} more)"
        try:
            with self.db.unit_of_work() as session:
                key = JOB_ERROR_PREFIX + name
                state = session.get(SyncState, key) or SyncState(key=key)
                state.value = {"at": utcnow().isoformat(), "error": text[:MAX_ERROR_CHARS]}
                session.add(state)
        except PodopsError:
            return  # the database is away: the log line already says what happened
        with self._lock:
            self._open.add(name)
            self._checked.add(name)

    def _succeeded(self, name: str) -> None:
        with self._lock:
            known = name in self._checked
            if known and name not in self._open:
                return  # the usual case: nothing to write
        try:
            with self.db.unit_of_work() as session:
                state = session.get(SyncState, JOB_ERROR_PREFIX + name)
                if state is not None and not state.value.get("resolved_at"):
                    state.value = {**state.value, "resolved_at": utcnow().isoformat()}
        except PodopsError:
            return
        with self._lock:
            self._open.discard(name)
            self._checked.add(name)


JobError = tuple[datetime, str, str, datetime | None]


def job_errors(session: Session, since: datetime) -> list[JobError]:
    """(when, job, error, resolved at) for errors since `since`, newest first."""
    found: list[JobError] = []
    rows = session.scalars(select(SyncState).where(SyncState.key.like(JOB_ERROR_PREFIX + "%")))
    for state in rows:
        at = datetime.fromisoformat(state.value["at"])
        if at < since:
            continue
        resolved = state.value.get("resolved_at")
        name = state.key.removeprefix(JOB_ERROR_PREFIX)
        error = str(state.value.get("error", ""))
        found.append((at, name, error, datetime.fromisoformat(resolved) if resolved else None))
    return sorted(found, reverse=True)
