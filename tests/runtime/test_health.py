"""/healthz as a load balancer meets it: it answers at once while the database is
busy writing, and answers 503 (not a hang) when the database stalls."""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from podops.db import Database
from podops.runtime.root import Runtime
from podops.runtime.web import HEALTH_TIMEOUT_S, build_asgi_app
from podops.settings import Settings
from tests.asgi_client import AsgiClient


def runtime_on(db: Database, tmp_path: Path) -> Runtime:
    runtime = Runtime(Settings(data_dir=tmp_path))
    runtime.__dict__["db"] = db
    return runtime


def test_health_answers_while_another_process_holds_the_write_lock(
    db: Database, db_url: str, tmp_path: Path
) -> None:
    if db.dialect != "sqlite":
        pytest.skip("the write lock at BEGIN is SQLite's (PostgreSQL readers never wait)")
    web = AsgiClient(build_asgi_app(runtime_on(db, tmp_path)))
    writer = sqlite3.connect(db_url.split(":///", 1)[1], isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # a long write, e.g. a big import, is running
    try:
        started = time.monotonic()
        answer = web.get("/healthz")
        took = time.monotonic() - started
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert (answer.status_code, answer.json()) == (200, {"ok": True})
    assert took < 1.0


@pytest.fixture
def silent_database() -> Iterator[str]:
    """A PostgreSQL address that accepts connections and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"postgresql+psycopg://podops@127.0.0.1:{listener.getsockname()[1]}/shop?connect_timeout=30"
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    listener.close()


@pytest.mark.slow
def test_health_answers_503_quickly_when_the_database_stalls(
    silent_database: str, tmp_path: Path
) -> None:
    db = Database(silent_database)
    web = AsgiClient(build_asgi_app(runtime_on(db, tmp_path)))
    started = time.monotonic()
    answer = web.get("/healthz")
    took = time.monotonic() - started
    assert answer.status_code == 503
    assert "did not answer" in answer.json()["error"]
    assert took < HEALTH_TIMEOUT_S + 1.5
