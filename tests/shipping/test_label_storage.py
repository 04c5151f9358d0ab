"""Label files go through the storage port: with a bucket, a label bought by a worker
on one host is linked, downloaded and printed on another host (`podops label print`
reads it back from the bucket); with the local folder, its link is the web role's
signed `/files/` link, which serves the PDF."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from podops.db import Database
from podops.routing import ShopPolicy
from podops.runtime.root import Runtime
from render.web import routes as file_routes
from tests.asgi_client import AsgiClient
from tests.factories import STAFF
from tests.fakes.easypost_labels import FakeEasyPostLabels
from tests.fakes.s3_server import S3Server
from tests.shipping.conftest import label_settings, make_desk, submitted
from tests.shipping.test_label_void_print_track import pdf_lines

LINK_SECRET = "label-storage-link-secret-0123456789"


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with S3Server() as server:
        yield server


def test_a_label_bought_on_one_host_is_downloaded_and_printed_on_another(
    tmp_path: Path,
    db_url: str,
    db: Database,
    policy: ShopPolicy,
    easypost: FakeEasyPostLabels,
    s3: S3Server,
) -> None:
    bucket = {
        "kind": "s3",
        "bucket": s3.bucket,
        "endpoint_url": s3.endpoint,
        "access_key_id": s3.keys.access_key_id,
        "secret_access_key": s3.keys.secret_access_key,
        "prefix": "labels-test",
        "timeout_s": 5,
    }
    worker = label_settings(
        tmp_path / "worker", db_url, easypost.api_base, more={"storage": bucket}
    )
    office = label_settings(
        tmp_path / "office", db_url, easypost.api_base, more={"storage": bucket}
    )
    number = submitted(db, policy)

    bought = make_desk(worker, db).buy(number, STAFF)

    assert bought.pdf is not None and bought.pdf.startswith(f"s3://{s3.bucket}/labels-test/")
    assert not (tmp_path / "worker" / "print-files").exists()  # nothing on the worker's disk
    desk = make_desk(office, db)
    link = desk.link(bought.pdf)
    assert link.startswith(s3.endpoint)  # presigned: no web role needed
    assert httpx.get(link, timeout=10).content.startswith(b"%PDF")
    sheet = desk.order_sheet(number)  # `podops label print` on the office host
    assert sheet.parent == tmp_path / "office" / "print-files" / "label-sheets"
    assert f"Packing slip - order {number}" in "\n".join(pdf_lines(sheet.read_bytes()))
    batch, count = desk.batch()
    assert count == 1 and batch.read_bytes().startswith(b"%PDF")


def test_a_local_label_link_is_served_by_the_web_role(
    tmp_path: Path, db_url: str, db: Database, policy: ShopPolicy, easypost: FakeEasyPostLabels
) -> None:
    links = {"public_base_url": "https://ops.example", "link_secret": LINK_SECRET}
    settings = label_settings(tmp_path, db_url, easypost.api_base, more={"render": links})
    desk = make_desk(settings, db)
    bought = desk.buy(submitted(db, policy), STAFF)
    assert bought.pdf is not None
    link = desk.link(bought.pdf)
    assert link.startswith("https://ops.example/files/label-")
    runtime = Runtime(settings)
    try:
        client = AsgiClient(Starlette(routes=file_routes(runtime)))
        answer = client.get(link.removeprefix("https://ops.example"))
    finally:
        runtime.close()
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF")
