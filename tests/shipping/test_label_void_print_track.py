"""After a label is bought: voiding it (refund) takes its parcel off the order and
tells the store; the printable PDFs; EasyPost's signed tracker webhooks."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from pydantic import SecretStr

from podops.db import Database
from podops.errors import DomainRefusal
from podops.labels.desk import LabelDesk
from podops.models import OutboxMessage, Shipment, utcnow
from podops.routing import ShopPolicy
from podops.runtime.instance import build_web_app
from podops.runtime.root import Runtime
from podops.settings import Settings
from podops.tracking.parcels import ShipLine
from tests.asgi_client import AsgiClient
from tests.factories import STAFF
from tests.fakes.easypost_labels import FakeEasyPostLabels, sign
from tests.fulfillment.pdf_text import pdf_lines
from tests.shipping.conftest import WEBHOOK_SECRET, order_state, submitted


def test_voiding_a_label_takes_its_parcel_off_and_the_unsent_push_back(
    db: Database, policy: ShopPolicy, desk: LabelDesk, easypost: FakeEasyPostLabels
) -> None:
    number = submitted(db, policy)
    before = order_state(db, number)
    bought = desk.buy(number, STAFF)
    voided = desk.void(number, STAFF)
    assert voided.refund_status == "submitted"
    assert easypost.refunds == [next(iter(easypost.shipments))]
    after = order_state(db, number)
    assert after["status"] == "submitted"
    assert after["parcels"] == [] and after["shipped"] == before["shipped"]
    assert after["store_messages"] == []  # the store never heard of it: nothing to send
    assert after["labels"] == [("voided", bought.tracking_number)]
    desk.buy(number, STAFF)  # a new label for the same parcel
    assert order_state(db, number)["status"] == "shipped"


def test_voiding_a_label_the_store_has_reopens_the_order_there(
    db: Database, policy: ShopPolicy, desk: LabelDesk, easypost: FakeEasyPostLabels
) -> None:
    number = submitted(db, policy)
    desk.buy(number, STAFF, lines=[ShipLine(1, 1)])
    with db.unit_of_work() as session:  # the tracking push reached the store
        for message in session.query(OutboxMessage):
            message.delivered_at = utcnow()
    desk.void(number, STAFF)
    with db.reading() as session:
        pending = [
            m.payload for m in session.query(OutboxMessage) if m.delivered_at is None
            and m.topic.startswith("store.")
        ]  # fmt: skip
    assert pending == [{"order_id": pending[0]["order_id"], "status": "processing"}]


def test_a_label_the_carrier_will_not_take_back_stays(
    db: Database, policy: ShopPolicy, desk: LabelDesk, easypost: FakeEasyPostLabels
) -> None:
    number = submitted(db, policy)
    desk.buy(number, STAFF)
    easypost.refund_rejected.update(easypost.shipments)
    with pytest.raises(DomainRefusal, match=r"does not take label .* back"):
        desk.void(number, STAFF)
    assert order_state(db, number)["status"] == "shipped"


def test_one_pdf_per_order_and_a_batch_of_todays_labels(
    db: Database, policy: ShopPolicy, desk: LabelDesk, easypost: FakeEasyPostLabels
) -> None:
    first, second = submitted(db, policy), submitted(db, policy)
    desk.buy(first, STAFF)
    desk.buy(second, STAFF)
    started = time.perf_counter()
    sheet = desk.order_sheet(first)
    assert time.perf_counter() - started < 2.0
    data = sheet.read_bytes()
    assert f"Packing slip - order {first}" in "\n".join(pdf_lines(data))
    assert re.search(rb"/MediaBox \[0 0 288(\.00)? 432(\.00)?\]", data)  # the 4x6 label page
    assert b"/Subtype /Image" in data
    batch, count = desk.batch()
    assert count == 2
    assert batch.read_bytes().startswith(b"%PDF")
    assert Path(batch).name.startswith("labels-")


def test_printing_a_sheet_deletes_this_hosts_sheets_older_than_a_week(
    db: Database, policy: ShopPolicy, desk: LabelDesk, easypost: FakeEasyPostLabels
) -> None:
    # given a sheet printed ten days ago and one three days ago, on this host
    number = submitted(db, policy)
    desk.buy(number, STAFF)
    first = desk.order_sheet(number)
    old, recent = first.with_name("labels-2026-01-01.pdf"), first.with_name("print-older.pdf")
    for path, days in ((old, 10), (recent, 3)):
        path.write_bytes(b"%PDF-1.4")
        then = time.time() - days * 86400
        os.utime(path, (then, then))
    # when staff print a sheet again (a reprint)
    again = desk.order_sheet(number)
    # then the week-old sheet is gone, the recent one and the reprint are there
    assert again == first and again.exists()
    assert not old.exists() and recent.exists()


def test_tracker_webhooks_keep_the_delivery_date(
    db: Database, policy: ShopPolicy, desk: LabelDesk, easypost: FakeEasyPostLabels,
    settings: Settings,
) -> None:  # fmt: skip
    number = submitted(db, policy)
    bought = desk.buy(number, STAFF)
    settings = settings.model_copy(
        update={"easypost": settings.easypost.model_copy(update={"webhook_secret": _secret()})}
    )
    runtime = Runtime(settings)
    client = AsgiClient(build_web_app(runtime))
    body, headers = easypost.tracker_event(bought.tracking_number, "in_transit", WEBHOOK_SECRET)
    assert client.post("/webhooks/easypost", content=body, headers=headers).status_code == 200
    body, headers = easypost.tracker_event(
        bought.tracking_number, "delivered", WEBHOOK_SECRET, at="2026-12-07T11:30:00Z"
    )
    lower = {key.lower(): value for key, value in headers.items()}  # any case
    assert client.post("/webhooks/easypost", content=body, headers=lower).status_code == 200
    with db.reading() as session:
        parcel = session.query(Shipment).one()
        assert parcel.delivery_status == "delivered"
        assert parcel.delivered_at is not None
        assert parcel.delivered_at.isoformat() == "2026-12-07T11:30:00+00:00"
    runtime.close()


@pytest.mark.parametrize("forgery", ["no signature", "wrong secret", "tampered body", "bare hex"])
def test_forged_tracker_webhooks_are_refused(
    db: Database, policy: ShopPolicy, desk: LabelDesk, easypost: FakeEasyPostLabels,
    settings: Settings, forgery: str,
) -> None:  # fmt: skip
    number = submitted(db, policy)
    bought = desk.buy(number, STAFF)
    settings = settings.model_copy(
        update={"easypost": settings.easypost.model_copy(update={"webhook_secret": _secret()})}
    )
    runtime = Runtime(settings)
    client = AsgiClient(build_web_app(runtime))
    body, headers = easypost.tracker_event(bought.tracking_number, "delivered", WEBHOOK_SECRET)
    if forgery == "no signature":
        headers.pop("X-Hmac-Signature")
    elif forgery == "wrong secret":
        headers["X-Hmac-Signature"] = sign(body, "not-the-secret")
    elif forgery == "tampered body":
        body = body.replace(b"delivered", b"delivereD")
    else:
        headers["X-Hmac-Signature"] = headers["X-Hmac-Signature"].split("=", 1)[1]
    assert client.post("/webhooks/easypost", content=body, headers=headers).status_code == 401
    with db.reading() as session:
        assert session.query(Shipment).one().delivered_at is None
    runtime.close()


def _secret() -> SecretStr:
    return SecretStr(WEBHOOK_SECRET)
