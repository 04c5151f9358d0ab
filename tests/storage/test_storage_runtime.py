"""Print files in the bucket, as a shop lives it: the countdown renders into the bucket,
the provider gets the web role's links, which a web role on another host (none of the
files on its disk) redirects to the bucket, downloading the very bytes; a storage that
refuses leaves the order unsent with the reason, and the next pass sends it; files
rendered on the local folder move to the bucket with `podops storage migrate`."""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select
from starlette.applications import Starlette

from podops import services
from podops.db import Database
from podops.events import EventName
from podops.models import Event, LineItem
from podops.routing import ShopPolicy
from podops.runtime import status_report
from podops.runtime.fulfillment_wiring import local_storage
from podops.runtime.root import Runtime
from podops.status import OrderStatus
from podops.storage_migration import Migration
from render.web import routes as file_routes
from tests.asgi_client import AsgiClient
from tests.factories import STAFF, received_order
from tests.fakes.s3_server import S3Server
from tests.storage.conftest import BASE, s3_settings, shop_runtime


def _download(web: Runtime, url: str) -> bytes:
    """As a provider follows a link: to the web role `web` (its routes, in process),
    then to where it redirects (the bucket, over HTTP)."""
    assert url.startswith(BASE + "/files/"), url
    answer = AsgiClient(Starlette(routes=file_routes(web))).get(url.removeprefix(BASE))
    assert answer.status_code == 307, answer.text
    answer = httpx.get(answer.headers["location"], timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.content


def _tee_order(db: Database, policy: ShopPolicy, photo_url: str, *, due: bool = True) -> str:
    """An order of one tee with the customer's photo (due now, or still counting down)."""
    number = received_order(db, policy)
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        if due:
            order.submit_at = order.placed_at
        for item in order.items[1:]:
            session.delete(item)  # the tee alone
        order.items[0].image_urls = {"photo": photo_url}
    return number


def test_the_countdown_renders_into_the_bucket_and_the_links_download_the_files(
    db: Database, policy: ShopPolicy, tmp_path: Path, s3: S3Server, photo_url: str
) -> None:
    runtime = shop_runtime(db, tmp_path, s3_settings(s3, prefix="shop-a"))
    number = _tee_order(db, policy, photo_url)

    assert runtime.submission.tick().submitted == [number]

    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        item = order.items[0]
        assert item.print_file is not None and item.preview_file is not None
        assert item.print_file.startswith(f"s3://{s3.bucket}/shop-a/")
        documents = session.scalars(
            select(Event.detail).where(
                Event.order_id == order.id, Event.action == EventName.READY_TO_DOWNLOAD
            )
        ).one()
        digest = item.print_file_sha256
        preview = item.preview_file
    link = next(url for name, url in documents.items() if name.startswith("print_file"))
    web = shop_runtime(db, tmp_path / "web-host", s3_settings(s3, prefix="shop-a"))
    assert hashlib.sha256(_download(web, link)).hexdigest() == digest
    assert _download(web, documents["packing_slip"]).startswith(b"%PDF")
    assert _download(web, runtime.storage.url_for(preview))[:2] == b"\xff\xd8"  # a JPEG
    name = Path(urlsplit(link).path).name
    assert name.startswith(f"main-{number}-") and name.endswith(".png")
    assert not (tmp_path / "web-host" / "print-files" / name).exists()  # served by the bucket


def test_a_storage_that_refuses_leaves_the_order_unsent_with_the_reason_then_sends_it(
    db: Database, policy: ShopPolicy, tmp_path: Path, s3: S3Server, photo_url: str
) -> None:
    number = _tee_order(db, policy, photo_url)
    refusing = shop_runtime(db, tmp_path, s3_settings(s3, bucket="no-such-bucket"))

    report = refusing.submission.tick()

    assert report.submitted == []
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        assert order.status == OrderStatus.PENDING
        assert order.items[0].print_file is None  # nothing recorded, no link made
        failed = session.scalars(
            select(Event.detail).where(
                Event.order_id == order.id, Event.action == EventName.RENDER_FAILED
            )
        ).all()
        assert failed and "not stored, will retry" in failed[-1]["reason"]
        assert any("print file" in p for p in order.problems)
    with db.reading() as session:
        shown = status_report.build(session).recent_errors
    assert any(n == number and "no-such-bucket" in why for _, n, why in shown)

    working = shop_runtime(db, tmp_path, s3_settings(s3))
    assert working.submission.tick().submitted == [number]
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        assert order.status == OrderStatus.SUBMITTED
        assert not order.problems


def test_migrate_moves_every_file_verified_and_is_safe_to_run_again(
    db: Database, policy: ShopPolicy, tmp_path: Path, s3: S3Server, photo_url: str
) -> None:
    local_runtime = shop_runtime(db, tmp_path, None)
    numbers = [_tee_order(db, policy, photo_url, due=False) for _ in range(2)]
    for number in numbers:
        local_runtime.print_files.render_order(number, STAFF)
    with db.unit_of_work() as session:
        before = {
            item.id: (item.print_file, item.print_file_sha256)
            for number in numbers
            for item in services.get_order(session, number).items
            if item.print_file
        }
    assert len(before) == 2
    gone = Path(next(iter(before.values()))[0] or "")
    gone.rename(gone.with_name("moved-away.png"))  # one file missing on this host

    bucket = shop_runtime(db, tmp_path, s3_settings(s3, prefix="migrated")).storage
    local = local_storage(local_runtime.settings)
    first = Migration(db, local, bucket).run()
    gone.with_name("moved-away.png").rename(gone)
    second = Migration(db, local, bucket).run()
    third = Migration(db, local, bucket).run()

    assert first.missing == [str(gone)] and first.lines_moved == len(before) - 1
    assert second.lines_moved == 1 and second.files_verified >= 0
    assert third.lines_moved == 0 and third.files_uploaded == 0
    with db.unit_of_work() as session:
        for item_id, (_, digest) in before.items():
            item = session.get(LineItem, item_id)
            assert item is not None and item.print_file is not None
            assert item.print_file.startswith(f"s3://{s3.bucket}/migrated/")
            assert hashlib.sha256(bucket.read(item.print_file)).hexdigest() == digest
            assert (item.preview_file or "").startswith("s3://")
