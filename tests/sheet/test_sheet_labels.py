"""The Orders tab's `label` column (both adapters: real gspread against the fake
Sheets, and the workbook): a link to each bought label's PDF on the rows of its
parcel, that the web role serves; empty on other rows and once the label is voided.
With a bucket and no web role, a presigned link made once per period."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from podops.routing import ShopPolicy, StorePolicy
from podops.runtime.root import Runtime
from podops.tracking.parcels import ShipLine
from render.web import routes as file_routes
from sync.sheets.links import PresignedLinks
from tests import factories
from tests.asgi_client import AsgiClient
from tests.factories import STAFF
from tests.fakes.easypost_labels import FakeEasyPostLabels
from tests.sheet.conftest import SheetEnv
from tests.shipping.conftest import label_settings, make_desk

BASE = "https://ops.example"
LINKS = {"public_base_url": BASE, "link_secret": "sheet-label-link-secret-0123456789"}


@pytest.fixture
def easypost() -> Iterator[FakeEasyPostLabels]:
    fake = FakeEasyPostLabels().start()
    yield fake
    fake.stop()


def _download(runtime: Runtime, link: str) -> httpx.Response:
    client = AsgiClient(Starlette(routes=file_routes(runtime)))
    return client.get(link.removeprefix(BASE))


def test_a_bought_label_links_from_its_rows_and_the_link_downloads_the_pdf(
    env: SheetEnv, policy: ShopPolicy, easypost: FakeEasyPostLabels, db_url: str, tmp_path: Path
) -> None:
    settings = label_settings(tmp_path, db_url, easypost.api_base, more={"render": LINKS})
    env.settings = settings
    desk = make_desk(settings, env.db)
    number = factories.submitted_order(env.db, policy)
    other = factories.submitted_order(env.db, ShopPolicy({"main": StorePolicy(24, "cc")}, []))
    env.cycle()
    assert env.row_of(f"{number}-01")["label"] == ""

    bought = desk.buy(number, STAFF, lines=[ShipLine(1)])
    env.cycle()

    link = env.row_of(f"{number}-01")["label"]
    assert link.startswith(f"{BASE}/files/label-main-{number}-L")
    assert env.row_of(f"{number}-02")["label"] == ""  # not in that parcel
    assert env.row_of(f"{other}-01")["label"] == ""  # not made by the shop
    runtime = Runtime(settings)
    try:
        answer = _download(runtime, link)
    finally:
        runtime.close()
    assert answer.status_code == 200 and answer.content.startswith(b"%PDF")
    assert answer.headers["content-type"] == "application/pdf"
    assert env.cycle().requests.writes == 0  # the link stays the same: nothing rewritten

    desk.void(number, STAFF, tracking=bought.tracking_number)
    env.cycle()
    assert env.row_of(f"{number}-01")["label"] == ""


class CountingBucket:
    """A bucket's links as the storage port gives them (each call a new presigned URL)."""

    kind = "s3"

    def __init__(self) -> None:
        self.signed = 0

    def url_for(self, location: str) -> str:
        self.signed += 1
        return (
            f"https://bucket.example/{location.removeprefix('s3://')}?X-Amz-Signature={self.signed}"
        )


def test_presigned_links_stay_the_same_for_a_period_then_renew() -> None:
    bucket = CountingBucket()
    now = [1_700_000_000.0]
    links = PresignedLinks(bucket, 7 * 24 * 3600, clock=lambda: now[0])  # type: ignore[arg-type]
    first = links("s3://shop/print-files/label-main-1-L1.pdf")
    assert links("s3://shop/print-files/label-main-1-L1.pdf") == first
    assert links("/srv/podops/print-files/old-preview.jpg") == ""  # no web role serves it
    now[0] += 24 * 3600
    assert links("s3://shop/print-files/label-main-1-L1.pdf") != first
    assert bucket.signed == 2
    short = PresignedLinks(bucket, 3600, clock=lambda: now[0])  # type: ignore[arg-type]
    assert short.period_s == 1800  # renewed well before the link dies
