"""Housekeeping: webhook and Slack deliveries are remembered for
`housekeeping.deliveries_days`, then forgotten by the daily `db.prune` job, a batch at
a time; vanished instances' heartbeats and long-expired leases go too."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, update

from podops.db import Database
from podops.errors import ConfigError
from podops.housekeeping import HEARTBEAT_PREFIX, prune
from podops.intake.deliveries import claim_delivery
from podops.models import InboundDelivery, JobLease, SyncState, utcnow
from podops.runtime.job_health import beat
from podops.runtime.root import Runtime
from podops.settings import Settings, load_settings
from sync.maintenance import jobs

SOURCE = "woocommerce:main"


def deliveries(db: Database, count: int, *, days_ago: float, start: int = 0) -> list[str]:
    """`count` webhook deliveries received `days_ago` (claimed as the receivers claim them)."""
    keys = [f"sha256:{start + n:064x}" for n in range(count)]
    with db.unit_of_work() as session:
        assert all(claim_delivery(session, SOURCE, key) for key in keys)
    with db.unit_of_work() as session:
        session.execute(
            update(InboundDelivery)
            .where(InboundDelivery.delivery_id.in_(keys))
            .values(received_at=utcnow() - timedelta(days=days_ago))
        )
    return keys


def remembered(db: Database) -> int:
    with db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(InboundDelivery)) or 0)


def redelivered(db: Database, key: str) -> bool:
    """The same delivery again: True when it would be applied (not known any more)."""
    with db.unit_of_work() as session:
        return claim_delivery(session, SOURCE, key)


def test_deliveries_past_the_retention_are_forgotten_and_recent_ones_still_refused(
    db: Database,
) -> None:
    # given deliveries from 20 days ago and from yesterday, kept 14 days
    old = deliveries(db, 5, days_ago=20)
    recent = deliveries(db, 3, days_ago=1, start=100)

    pruned = prune(db, timedelta(days=14))

    # then the old ones are gone, and a redelivery of a recent one is still refused
    assert pruned.deliveries == 5
    assert remembered(db) == 3
    assert not redelivered(db, recent[0])
    assert redelivered(db, old[0])  # forgotten: a sender that never retries this late


def test_a_backlog_is_deleted_in_short_transactions_and_a_run_stops_after_its_batches(
    db: Database,
) -> None:
    # given a backlog of 230 old deliveries (a shop that never pruned)
    deliveries(db, 230, days_ago=30)
    seen: list[str] = []  # the deletes of deliveries, and the commits, in order

    def executed(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.startswith("DELETE FROM inbound_deliveries"):
            seen.append("delete")

    def committed(_connection: object) -> None:
        seen.append("commit")

    event.listen(db.engine, "before_cursor_execute", executed)
    event.listen(db.engine, "commit", committed)
    try:
        # when a run may delete 2 batches of 100
        first = prune(db, timedelta(days=14), batch=100, max_batches=2)
    finally:
        event.remove(db.engine, "before_cursor_execute", executed)
        event.remove(db.engine, "commit", committed)
    # then it deleted 200, each batch committed on its own, and left the rest
    assert first.deliveries == 200
    assert seen[:4] == ["delete", "commit", "delete", "commit"]
    assert seen.count("delete") == 2
    assert remembered(db) == 30
    # and the next run finishes the backlog
    assert prune(db, timedelta(days=14), batch=100, max_batches=2).deliveries == 30
    assert remembered(db) == 0


def test_vanished_instances_heartbeats_and_expired_leases_go_live_ones_stay(
    db: Database,
) -> None:
    # given an instance killed 8 days ago (its heartbeat left behind) and a live one
    beat(db, "old-host:101", "worker")
    beat(db, "live-host:202", "worker")
    now = utcnow()
    with db.unit_of_work() as session:
        session.execute(
            update(SyncState)
            .where(SyncState.key == f"{HEARTBEAT_PREFIX}old-host:101")
            .values(updated_at=now - timedelta(days=8))
        )
        session.add(
            JobLease(name="address-change:7", holder="h:1", expires_at=now - timedelta(days=3))
        )
        session.add(
            JobLease(name="sheet.mirror", holder="h:2", expires_at=now + timedelta(minutes=5))
        )
        session.add(SyncState(key="intake:main", value={"cursor": 1}))

    pruned = prune(db, timedelta(days=14))

    assert (pruned.heartbeats, pruned.leases) == (1, 1)
    with db.reading() as session:
        keys = set(session.scalars(select(SyncState.key)))
        leases = set(session.scalars(select(JobLease.name)))
    assert keys == {f"{HEARTBEAT_PREFIX}live-host:202", "intake:main"}
    assert leases == {"sheet.mirror"}


def test_the_daily_prune_job_uses_the_configured_retention(db: Database, tmp_path: Path) -> None:
    runtime = Runtime(Settings(data_dir=tmp_path, housekeeping={"deliveries_days": 30}))  # type: ignore[arg-type]
    runtime.__dict__["db"] = db
    deliveries(db, 2, days_ago=20)
    deliveries(db, 1, days_ago=40, start=10)

    [job] = [spec for spec in jobs(runtime) if spec.name == "db.prune"]

    assert (job.trigger, job.singleton) == ("cron", True)
    assert set(job.trigger_args) == {"hour", "minute"}  # once a day
    assert job.func().deliveries == 1
    assert remembered(db) == 2


def test_the_retention_defaults_to_14_days() -> None:
    assert Settings().housekeeping.deliveries_days == 14


@pytest.mark.parametrize(
    ("days", "words"),
    [
        ("1", "at least 3 days: Shopify redelivers a failed webhook for up to 48 hours"),
        ("2.5", "at least 3 days"),
        ("0", "more than 0"),
        ("-5", "more than 0"),
        ("nan", "more than 0"),
    ],
)
def test_a_retention_shorter_than_the_redelivery_windows_is_a_config_error(
    tmp_path: Path, days: str, words: str
) -> None:
    config = tmp_path / "podops.toml"
    config.write_text(f"[housekeeping]\ndeliveries_days = {days}\n")
    with pytest.raises(ConfigError, match=r"housekeeping\.deliveries_days: ") as refused:
        load_settings(config)
    assert words in refused.value.message
