"""Housekeeping: webhook and Slack deliveries are remembered for
`housekeeping.deliveries_days`, then forgotten by the daily `db.prune` job, a batch at
a time; vanished instances' heartbeats and long-expired leases go too, and so do label
sheets past `housekeeping.label_sheets_days` and lock files older versions left."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, update

from podops.db import Database
from podops.errors import ConfigError
from podops.housekeeping import HEARTBEAT_PREFIX, LABEL_SHEETS_FOLDER, prune, prune_files
from podops.intake.deliveries import claim_delivery
from podops.models import InboundDelivery, JobLease, SyncState, utcnow
from podops.runtime.job_health import beat
from podops.runtime.root import Runtime
from podops.settings import Settings, load_settings
from render.export import stem_lock
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


def aged(path: Path, days: float, data: bytes = b"%PDF-1.4") -> Path:
    """A file last written `days` ago."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    then = time.time() - days * 86400
    os.utime(path, (then, then))
    return path


def test_label_sheets_go_after_a_week_and_the_order_documents_stay(tmp_path: Path) -> None:
    # given a render folder with label sheets printed 10 and 2 days ago (in their
    # folder, and where an older podops wrote them), beside print files, bought label
    # files and packing slips from long ago
    out = tmp_path / "print-files"
    sheets = out / LABEL_SHEETS_FOLDER
    old = [aged(sheets / "print-9400100000000000000001.pdf", 10)]
    old.append(aged(sheets / "labels-2026-11-20.pdf", 10))
    old.append(aged(out / "print-1Z999AA10123456784.pdf", 30))
    old.append(aged(out / "labels-2026-10-01.pdf", 60))
    recent = [aged(sheets / "print-9400100000000000000002.pdf", 2)]
    recent.append(aged(sheets / "labels-2026-11-30.pdf", 2))
    documents = [
        aged(out / "1001-1-r001-0123456789ab.png", 400, b"png"),
        aged(out / "1001-1-r001-0123456789ab-preview.jpg", 400, b"jpg"),
        aged(out / "label-main-1001-1.pdf", 400),
        aged(out / "packing-slip-main-1001.pdf", 400),
    ]

    # when the daily job runs, keeping label sheets 7 days
    pruned = prune_files(out, timedelta(days=7))

    # then only the sheets older than a week are gone
    assert pruned.label_sheets == 4
    assert not any(path.exists() for path in old)
    assert all(path.exists() for path in recent + documents)


def test_lock_files_older_versions_left_go_unless_a_render_holds_one(tmp_path: Path) -> None:
    # given lock files an older podops left, one of them held by a render right now
    out = tmp_path / "print-files"
    left = [aged(out / f".{n}-1.lock", 3, b"") for n in range(1000, 1005)]
    aged(out / ".2000-1.lock", 3, b"")
    with stem_lock(out, "2000-1"):
        # when the daily job runs meanwhile
        pruned = prune_files(out, timedelta(days=7))
        # then the free ones are gone, the held one is left to its render
        assert pruned.lock_files == 5
        assert not any(path.exists() for path in left)
        assert (out / ".2000-1.lock").exists()
    assert not (out / ".2000-1.lock").exists()  # the render removed its own


def test_the_daily_prune_job_keeps_label_sheets_as_configured(db: Database, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, housekeeping={"label_sheets_days": 3})  # type: ignore[arg-type]
    runtime = Runtime(settings)
    runtime.__dict__["db"] = db
    sheets = settings.resolve(settings.render.output_dir) / LABEL_SHEETS_FOLDER
    four_days = aged(sheets / "labels-2026-11-29.pdf", 4)
    two_days = aged(sheets / "labels-2026-12-01.pdf", 2)

    [job] = [spec for spec in jobs(runtime) if spec.name == "db.prune"]

    assert job.func().label_sheets == 1
    assert not four_days.exists() and two_days.exists()


def test_label_sheets_are_kept_a_week_by_default() -> None:
    assert Settings().housekeeping.label_sheets_days == 7


@pytest.mark.parametrize("days", ["0", "-1", "nan", "4000"])
def test_a_label_sheets_retention_out_of_range_is_a_config_error(tmp_path: Path, days: str) -> None:
    config = tmp_path / "podops.toml"
    config.write_text(f"[housekeeping]\nlabel_sheets_days = {days}\n")
    with pytest.raises(ConfigError, match=r"housekeeping\.label_sheets_days: "):
        load_settings(config)
