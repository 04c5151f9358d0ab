"""A worker's disk with a bucket: the print file and preview a render writes locally are
deleted once they are in the bucket (or the bucket refused them), so the disk does not
fill with every print file ever made; the previews, Slack uploads, sheet links and
remakes still get the files, from the bucket. With local storage the folder is the
storage: nothing is deleted."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from podops import services
from podops.db import Database
from podops.events import EventName
from podops.models import Event
from podops.routing import ShopPolicy
from podops.runtime.root import Runtime
from podops.status import OrderStatus
from tests.factories import STAFF
from tests.fakes.s3_server import S3Server
from tests.storage.conftest import s3_settings, shop_runtime
from tests.storage.test_storage_runtime import _download, _tee_order


def print_files_on_disk(runtime: Runtime) -> list[str]:
    """Print files and previews in this host's render folder (not its lock files)."""
    folder = runtime.settings.resolve(runtime.settings.render.output_dir)
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.suffix in (".png", ".jpg", ".jpeg"))


def latest_print_file_link(db: Database, number: str) -> str:
    """The print-file link the (manual) provider was last given."""
    with db.reading() as session:
        order = services.get_order(session, number)
        documents = session.scalars(
            select(Event.detail)
            .where(Event.order_id == order.id, Event.action == EventName.READY_TO_DOWNLOAD)
            .order_by(Event.id.desc())
        ).first()
    assert documents is not None
    return next(url for name, url in documents.items() if name.startswith("print_file"))


def test_with_a_bucket_the_worker_keeps_no_copy_and_every_reader_still_gets_the_files(
    db: Database, policy: ShopPolicy, tmp_path: Path, s3: S3Server, photo_url: str
) -> None:
    worker = shop_runtime(db, tmp_path / "worker", s3_settings(s3, prefix="copies"))
    web = shop_runtime(db, tmp_path / "web-host", s3_settings(s3, prefix="copies"))
    number = _tee_order(db, policy, photo_url, due=False)

    # when staff render the tee twice (an edit), then the countdown sends it
    [first] = worker.print_files.render_order(number, STAFF)
    [second] = worker.print_files.render_order(number, STAFF)
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        order.submit_at = order.placed_at  # the countdown is over
    assert worker.submission.tick().submitted == [number]

    # then the worker's folder holds none of the files, and the revisions went on
    # counting (handed out by the database)
    assert print_files_on_disk(worker) == []
    assert (first.message, second.message) == ("revision 1", "revision 2")
    assert first.location != second.location
    assert all((o.location or "").startswith(f"s3://{s3.bucket}/copies/") for o in (first, second))
    with db.reading() as session:
        item = services.get_order(session, number).items[0]
        print_file, preview, digest = item.print_file, item.preview_file, item.print_file_sha256
    assert print_file == second.location and preview is not None and print_file is not None
    # Slack's preview upload reads the preview from the bucket
    assert worker.storage.read(preview)[:2] == b"\xff\xd8"
    # the sheet's and Slack's links go through the web role (another host) to the bucket
    assert _download(web, worker.storage.url_for(preview))[:2] == b"\xff\xd8"
    # the provider's link downloads the very bytes the line records
    sent = _download(web, latest_print_file_link(db, number))
    assert hashlib.sha256(sent).hexdigest() == digest

    # and a remake after shipping sends the same file, downloadable as before
    with db.unit_of_work() as session:
        services.record_tracking(session, number, "ups", "1Z999AA10123456784", STAFF)
    with db.unit_of_work() as session:
        assert services.get_order(session, number).status == OrderStatus.SHIPPED
        services.remake(session, number, STAFF, reason="misprint", paid_by="provider")
    assert worker.submission.tick().submitted == [number]
    remade = _download(web, latest_print_file_link(db, number))
    assert hashlib.sha256(remade).hexdigest() == digest
    assert print_files_on_disk(worker) == []


@pytest.fixture(scope="module")
def guarded_s3() -> Iterator[S3Server]:
    """An S3 server that checks keys: its `reader_keys` may list the bucket, not write."""
    with S3Server(check_keys=True) as server:
        yield server


def test_a_bucket_that_refuses_the_upload_leaves_no_copy_on_the_worker_either(
    db: Database, policy: ShopPolicy, tmp_path: Path, guarded_s3: S3Server, photo_url: str
) -> None:
    # given keys that may list the bucket (the revision is found) but not write it
    keys = guarded_s3.reader_keys
    storage = s3_settings(
        guarded_s3, access_key_id=keys.access_key_id, secret_access_key=keys.secret_access_key
    )
    refusing = shop_runtime(db, tmp_path, storage)
    number = _tee_order(db, policy, photo_url, due=False)

    [outcome] = refusing.print_files.render_order(number, STAFF)

    # then nothing is recorded, and the files written for the upload are gone
    assert not outcome.ok and "not stored, will retry" in outcome.message
    assert print_files_on_disk(refusing) == []
    with db.reading() as session:
        assert services.get_order(session, number).items[0].print_file is None


def test_with_local_storage_the_folder_is_the_storage_and_keeps_every_file(
    db: Database, policy: ShopPolicy, tmp_path: Path, photo_url: str
) -> None:
    local = shop_runtime(db, tmp_path, None)
    number = _tee_order(db, policy, photo_url, due=False)

    [first] = local.print_files.render_order(number, STAFF)
    [second] = local.print_files.render_order(number, STAFF)

    on_disk = print_files_on_disk(local)
    assert len(on_disk) == 4  # two revisions, each with its preview
    for outcome in (first, second):
        assert outcome.location and Path(outcome.location).is_file()
        assert outcome.preview and Path(outcome.preview).is_file()
