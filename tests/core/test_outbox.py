"""The outbox: side effects are delivered after commit, retried, parked with a
reason when they keep failing, and sent again when staff say so."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from podops import outbox
from podops.cli.main import main
from podops.db import Database
from podops.errors import StoreError
from podops.models import utcnow
from podops.outbox import Envelope, OutboxDispatcher, Outgoing, Progress, Topic, enqueue


class Store:
    """A store handler fake: fails while `down`, records what it received."""

    def __init__(self) -> None:
        self.down: str | None = None
        self.received: list[str] = []

    def prepare(self, session: Session, message: Envelope) -> str:
        return message.dedup_key

    def send(self, plan: str, progress: Progress) -> None:
        if self.down == "retryable":
            raise StoreError("store 'main' is not answering (503)", retryable=True)
        if self.down == "refused":
            raise StoreError("store 'main' refused the update (400)", retryable=False)
        self.received.append(plan)

    def record(self, session: Session, plan: str, result: None) -> None:
        pass


def _enqueue(db: Database, *keys: str) -> None:
    with db.unit_of_work() as session:
        for key in keys:
            enqueue(session, Outgoing(Topic.STORE_STATUS, key, {"key": key}))


def test_delivered_once_in_order_and_a_repeated_key_is_ignored(db: Database) -> None:
    store = Store()
    _enqueue(db, "a", "b", "a")
    report = OutboxDispatcher(db, {Topic.STORE_STATUS: store}).drain()
    assert (report.delivered, store.received) == (2, ["a", "b"])
    assert OutboxDispatcher(db, {Topic.STORE_STATUS: store}).drain().delivered == 0


def test_a_store_that_is_down_delays_and_loses_nothing(db: Database) -> None:
    store = Store()
    _enqueue(db, "a")
    store.down = "retryable"
    assert OutboxDispatcher(db, {Topic.STORE_STATUS: store}).drain().retried == 1
    store.down = None
    later = OutboxDispatcher(
        db, {Topic.STORE_STATUS: store}, clock=lambda: utcnow() + timedelta(hours=1)
    )
    assert later.drain().delivered == 1
    assert store.received == ["a"]


def test_parked_messages_are_listed_and_sent_again_on_request(
    db: Database,
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _enqueue(db, "refused-once")
    store = Store()
    store.down = "refused"
    assert OutboxDispatcher(db, {Topic.STORE_STATUS: store}).drain().dead == 1
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PODOPS_DATABASE__URL", db_url)
    (tmp_path / "podops.toml").write_text("")
    assert main(["outbox", "parked"]) == 0
    listed = capsys.readouterr().out
    assert "refused" in listed and "(400)" in listed and "store.status" in listed
    assert main(["outbox", "retry"]) == 2  # a usage error: say which, or --all
    assert "--all" in capsys.readouterr().err
    assert main(["outbox", "retry", "--all"]) == 0
    assert "1 message(s)" in capsys.readouterr().out
    store.down = None
    assert OutboxDispatcher(db, {Topic.STORE_STATUS: store}).drain().delivered == 1
    with db.unit_of_work() as session:
        assert outbox.parked(session) == []
