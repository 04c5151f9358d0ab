"""Singleton jobs across processes: only one instance runs the sheet mirror or
the daily summary at a time, however many `podops run` workers share the database.

PostgreSQL: a session-level advisory lock, held on its own connection for the
job's duration (released by the server if the process dies). SQLite (one
machine): a lease row with an expiry, taken by an atomic UPDATE; a lease whose
holder process on this machine is gone (killed, crashed) is free at once, so a
restarted service does not wait out the expiry.
"""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

from podops.db import Database
from podops.models import JobLease, utcnow

DEFAULT_TTL = timedelta(minutes=10)


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _holder_is_gone(holder: str) -> bool:
    """True when `holder` names a process on this machine that no longer runs."""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _lock_key(name: str) -> int:
    digest = hashlib.sha256(f"podops:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def singleton(db: Database, name: str, *, ttl: timedelta = DEFAULT_TTL) -> Iterator[bool]:
    """Yield True if this process holds `name` for the block, False if another does."""
    if db.dialect == "postgresql":
        with db.engine.connect() as connection:
            key = _lock_key(name)
            got = bool(connection.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}))
            connection.commit()
            try:
                yield got
            finally:
                if got:
                    connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    connection.commit()
        return
    holder = holder_name()
    got = _take_lease(db, name, holder, ttl)
    try:
        yield got
    finally:
        if got:
            with db.unit_of_work() as session:
                session.execute(
                    update(JobLease)
                    .where(JobLease.name == name, JobLease.holder == holder)
                    .values(expires_at=utcnow())
                )


def _take_lease(db: Database, name: str, holder: str, ttl: timedelta) -> bool:
    now = utcnow()
    with db.unit_of_work() as session:
        current = session.scalar(select(JobLease.holder).where(JobLease.name == name))
        free = (JobLease.expires_at < now) | (JobLease.holder == holder)
        if current is not None and _holder_is_gone(current):
            free = free | (JobLease.holder == current)
        taken = session.execute(
            update(JobLease)
            .where(JobLease.name == name, free)
            .values(holder=holder, expires_at=now + ttl)
        )
        if taken.rowcount:  # type: ignore[attr-defined]
            return True
    try:
        with db.unit_of_work() as session:
            session.add(JobLease(name=name, holder=holder, expires_at=now + ttl))
    except IntegrityError:
        return False
    return True
