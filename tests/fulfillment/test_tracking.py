"""After submission: tracking by poll and by ShineOn's callback, cancels, manual."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from podops.models import Event, OutboxMessage
from podops.outbox import Topic
from podops.status import OrderStatus
from providers.packing_slip import PackingSlip, SlipLine, render_pdf
from providers.sandbox_provider import SandboxProvider
from sync import provider_callbacks
from tests.asgi_client import AsgiClient
from tests.fulfillment.conftest import Shop
from tests.fulfillment.pdf_text import pdf_lines


class _Runtime:
    def __init__(self, shop: Shop) -> None:
        self.follow_up = shop.follow_up


def test_customcat_polling_brings_production_and_tracking_home(shop: Shop) -> None:
    number = shop.order()
    shop.service.tick()
    ref = f"main-{number}"
    shop.customcat.set_status(ref, "In Production")
    assert shop.follow_up.poll_tracking().changed == {ref: ["in production"]}
    shop.customcat.ship(ref, "9400111899223100012345", "USPS", items=3)
    assert shop.follow_up.poll_tracking().changed == {ref: ["shipped USPS 9400111899223100012345"]}
    order = shop.get(number)
    assert order.status == OrderStatus.SHIPPED
    assert order.shipments[0].tracking_url.startswith("https://tools.usps.com/")
    with shop.db.unit_of_work() as session:
        topics = set(session.scalars(select(OutboxMessage.topic)))
    assert Topic.STORE_TRACKING in topics
    assert shop.follow_up.poll_tracking().changed == {}


def test_a_status_podops_does_not_know_is_told_to_staff_once(shop: Shop) -> None:
    """A provider word podops has no mapping for (a design rejection) is not read as
    'accepted': staff see it once on the order, and it clears when the provider moves on."""
    number = shop.order()
    shop.service.tick()
    ref = f"main-{number}"
    shop.customcat.set_status(ref, "Artwork Rejected")
    assert shop.follow_up.poll_tracking().changed == {
        ref: ["unknown provider status 'Artwork Rejected'"]
    }
    assert shop.follow_up.poll_tracking().changed == {}
    order = shop.get(number)
    assert order.status == OrderStatus.SUBMITTED
    assert any("Artwork Rejected" in p and "check the order at cc" in p for p in order.problems)
    with shop.db.unit_of_work() as session:
        notices = session.scalars(select(OutboxMessage).where(OutboxMessage.topic == Topic.NOTIFY))
        events = [m.payload["event_id"] for m in notices]
        unknown = session.scalars(
            select(Event).where(Event.id.in_(events), Event.action == "provider_status_unknown")
        ).all()
    assert len(unknown) == 1
    shop.customcat.set_status(ref, "In Production")
    assert shop.follow_up.poll_tracking().changed == {ref: ["in production"]}
    assert not any("Artwork Rejected" in p for p in shop.get(number).problems)


def test_shineon_callback_is_verified_and_only_a_hint(shop: Shop) -> None:
    number = shop.order(provider="so")
    shop.service.tick()
    ref = f"main-{number}"
    sent = shop.shineon.by_source(ref)
    callback = sent["shipment_notification_url"]
    path = callback.removeprefix("https://podops.example")
    client = AsgiClient(Starlette(routes=provider_callbacks.routes(_Runtime(shop))))  # type: ignore[arg-type]
    forged = {"order": {"source_id": ref, "line_items": [{"tracking_number": "1ZFAKE"}]}}
    assert client.post(path[:-4] + "beef", json=forged).status_code == 404
    assert client.post(path, json=forged).json() == {"ok": True, "changes": []}
    assert shop.get(number).shipments == []
    body = shop.shineon.ship(ref, "UPS", "1Z999AA10123456784")
    assert client.post(path, json=body).status_code == 200
    order = shop.get(number)
    assert order.status == OrderStatus.SHIPPED
    assert [(s.carrier, s.tracking_number) for s in order.shipments] == [
        ("UPS", "1Z999AA10123456784")
    ]


def test_a_cancel_reaches_the_provider_while_allowed_and_is_refused_after(shop: Shop) -> None:
    early, late = shop.order(), shop.order()
    shop.service.tick()
    shop.customcat.set_status(f"main-{late}", "In Production")
    order = shop.cancel(early, "customer changed their mind")
    assert order.status == OrderStatus.CANCELLED
    assert shop.customcat.orders[f"main-{early}"]["status"] == "Cancelled"
    refused = shop.cancel(late, "too late?")
    assert refused.status == OrderStatus.IN_PRODUCTION
    assert "can no longer be cancelled" in refused.last_error


def test_manual_provider_makes_a_packing_slip_and_staff_enter_tracking(
    shop: Shop, tmp_path: Path
) -> None:
    number = shop.order(provider="manual")
    assert shop.service.tick().submitted == [number]
    slip = tmp_path / "print-files" / f"packing-slip-main-{number}.pdf"
    data = slip.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    text = "\n".join(pdf_lines(data))
    assert "12 Main St" in text and "TEE-BLK-M" in text
    xref = int(data.rsplit(b"startxref", 1)[1].split()[0])
    assert data[xref:].startswith(b"xref")
    config = tmp_path / "podops.toml"
    config.write_text(f'[database]\nurl = "{shop.db.url}"\n')
    from podops.cli.main import main

    assert main(["--config", str(config), "track", number, "ups", "1Z999AA10123456784"]) == 0
    assert shop.get(number).status == OrderStatus.SHIPPED
    assert main(["--config", str(config), "retry", number]) == 1


def test_sandbox_provider_produces_and_ships_on_a_compressed_clock() -> None:
    now = [1000.0]
    sandbox = SandboxProvider("sandbox", stage_s=5, clock=lambda: now[0])
    from podops.ports.fulfillment import ProviderStatus, SubmitRequest

    request = SubmitRequest("main-1", "1", "Ana", "a@example.com", "", {}, ())
    placed = sandbox.submit(request)
    assert placed.status == ProviderStatus.ACCEPTED
    now[0] += 6
    assert sandbox.get_status(placed.provider_order_id, reference="main-1").status == (
        ProviderStatus.IN_PRODUCTION
    )
    now[0] += 5
    shipped = sandbox.get_status(placed.provider_order_id, reference="main-1")
    assert shipped.status == ProviderStatus.SHIPPED
    number = shipped.shipments[0].tracking_number
    assert number.startswith("9400") and len(number) == 22


def test_polling_reaches_every_order_when_more_are_in_flight_than_one_batch(
    shop: Shop,
) -> None:
    """Unchanged orders must not keep the batch to themselves: a parcel for the
    order outside the first batch comes home at the next poll."""
    numbers = [shop.order() for _ in range(3)]
    shop.service.tick()
    shop.customcat.ship(f"main-{numbers[2]}", "9400111899223100012345", "USPS", items=3)
    first = shop.follow_up.poll_tracking(limit=2)
    second = shop.follow_up.poll_tracking(limit=2)
    shipped = {**first.changed, **second.changed}
    assert shipped.get(f"main-{numbers[2]}") == ["shipped USPS 9400111899223100012345"]
    assert shop.get(numbers[2]).status == OrderStatus.SHIPPED


def test_a_parcel_without_a_carrier_name_is_recognised_by_its_number(shop: Shop) -> None:
    """CustomCat leaves VENDOR blank (METHOD says "Economy"): the USPS number still
    reaches the store as USPS, with its tracking link."""
    number = shop.order()
    shop.service.tick()
    ref = f"main-{number}"
    shop.customcat.ship(ref, "9400 1118 9922 3100 0123 45", vendor="", items=3)
    assert shop.follow_up.poll_tracking().changed == {
        ref: ["shipped USPS 9400 1118 9922 3100 0123 45"]
    }
    order = shop.get(number)
    assert order.status == OrderStatus.SHIPPED
    assert order.shipments[0].carrier == "USPS"
    assert order.shipments[0].tracking_url.startswith("https://tools.usps.com/")


@pytest.mark.parametrize(
    ("said", "expected"),
    [("U.S.P.S.", "USPS"), ("Fed-Ex", "FedEx"), ("APC Postal Logistics", "APC")],
)
def test_carrier_spellings_from_providers_get_a_tracking_link(
    shop: Shop, said: str, expected: str
) -> None:
    number = shop.order()
    shop.service.tick()
    ref = f"main-{number}"
    shop.customcat.ship(ref, "AB12345678901", vendor=said, items=3)
    shop.follow_up.poll_tracking()
    [parcel] = shop.get(number).shipments
    assert parcel.carrier == expected and parcel.tracking_url.startswith("https://")


def test_a_parcel_that_cannot_be_recorded_is_reported_once_not_every_poll(shop: Shop) -> None:
    number = shop.order()
    shop.service.tick()
    ref = f"main-{number}"
    shop.customcat.ship(ref, "12345", vendor="", items=3)
    for _ in range(3):
        assert shop.follow_up.poll_tracking().changed == {}
    with shop.db.unit_of_work() as session:
        rejected = session.scalars(select(Event).where(Event.action == "tracking_rejected")).all()
        assert len(rejected) == 1
        assert rejected[0].detail["tracking_number"] == "12345"
        assert "carrier" in rejected[0].detail["reason"]


def test_the_packing_slip_prints_greek_cyrillic_and_polish_names_as_written() -> None:
    slip = PackingSlip(
        "1001",
        "main-1001",
        ["Ζωή Παπαδοπούλου", "ул. Ленина 5, Москва", "ul. Żółkiewskiego 3, Łódź"],
        [SlipLine("1001-01", "MUG-11", "Mug", 1, {"name": "Łucja"})],
    )
    data = render_pdf(slip)
    assert render_pdf(slip) == data  # the same slip is the same file
    lines = [line.strip() for line in pdf_lines(data)]
    assert "Ζωή Παπαδοπούλου" in lines
    assert "ул. Ленина 5, Москва" in lines
    assert "ul. Żółkiewskiego 3, Łódź" in lines
    assert "name: Łucja" in lines
