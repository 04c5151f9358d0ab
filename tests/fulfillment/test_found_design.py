"""A design fixed by staff between a failed attempt and the retry: the order the
first attempt created at the provider is found, and it gets the new print files
(ShineOn before production) or staff are told plainly that it keeps the old ones."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from podops import services
from podops.fulfillment.printfiles import PrintFiles
from podops.models import Event, OutboxMessage
from podops.services.provider_answers import OLD_DESIGN_PROBLEM
from podops.status import OrderStatus
from tests.factories import STAFF
from tests.fakes.customcat import Fault
from tests.fulfillment.conftest import Shop
from tests.fulfillment.test_late_design import FileRenderer


@pytest.fixture
def print_files(shop: Shop, tmp_path: Path) -> PrintFiles:
    return PrintFiles(shop.db, FileRenderer(tmp_path))


def line_file(shop: Shop, number: str) -> str:
    return Path(str(shop.get(number).items[0].print_file)).name


def created_oddly_then_fixed(
    shop: Shop, print_files: PrintFiles, provider: str
) -> tuple[str, str, str]:
    """The provider creates the order but answers oddly (submit_failed); staff fix the
    name on line 1, which renders a new revision; staff retry. Returns the order
    number and line 1's file names before and after the fix."""
    number = shop.order(provider, print_files=False)
    with shop.db.unit_of_work() as session:  # setup: a template for each line
        for item in services.get_order(session, number).items:
            item.product_key = "tee-front"
    print_files.ensure_current(number)
    old = line_file(shop, number)
    fake = shop.customcat if provider == "cc" else shop.shineon
    fake.faults.append(Fault(weird=True))
    shop.service.tick()
    assert shop.get(number).status == OrderStatus.SUBMIT_FAILED
    with shop.db.unit_of_work() as session:
        services.edit_personalization(session, number, 1, {"name": "LEA"}, STAFF)
    print_files.ensure_current(number)
    new = line_file(shop, number)
    assert new != old
    shop.service.retry(number, STAFF)
    return number, old, new


def actions(shop: Shop, number: str) -> list[str]:
    with shop.db.unit_of_work() as session:
        order_id = shop.get(number).id
        return list(session.scalars(select(Event.action).where(Event.order_id == order_id)))


def test_shineon_gets_the_fixed_design_on_the_order_the_first_attempt_created(
    shop: Shop, print_files: PrintFiles
) -> None:
    number, _old, new = created_oddly_then_fixed(shop, print_files, "so")
    assert shop.service.tick().submitted == [number]
    held = shop.shineon.by_source(f"main-{number}")
    url = held["line_items"][0]["properties"]["print_url"]
    assert urlsplit(url).path.endswith(new), url  # what ShineOn will print
    assert shop.shineon.created[f"main-{number}"] == 1
    order = shop.get(number)
    assert order.status == OrderStatus.SUBMITTED and order.problems == []
    assert "design_replaced" in actions(shop, number)


def test_shineon_in_production_keeps_the_old_design_and_staff_are_told(
    shop: Shop, print_files: PrintFiles
) -> None:
    number, old, _new = created_oddly_then_fixed(shop, print_files, "so")
    shop.shineon.by_source(f"main-{number}")["status"] = "in_production"
    shop.service.tick()
    url = shop.shineon.by_source(f"main-{number}")["line_items"][0]["properties"]["print_url"]
    assert urlsplit(url).path.endswith(old)
    order = shop.get(number)
    assert order.status == OrderStatus.SUBMITTED
    assert [p for p in order.problems if p.startswith(OLD_DESIGN_PROBLEM)]
    assert "in_production" in order.problems[0]


def test_customcat_keeps_the_old_design_and_staff_are_told_plainly(
    shop: Shop, print_files: PrintFiles
) -> None:
    """CustomCat's status answer names no files and takes no design change: the files
    recorded as sent with the first attempt differ from today's, so staff are told."""
    number, old, _new = created_oddly_then_fixed(shop, print_files, "cc")
    assert shop.service.tick().submitted == [number]
    held = shop.customcat.orders[f"main-{number}"]["body"]["items"][0]["design_url"]
    assert urlsplit(held).path.endswith(old)  # what CustomCat will print
    assert shop.customcat.created[f"main-{number}"] == 1
    order = shop.get(number)
    assert order.status == OrderStatus.SUBMITTED
    (problem,) = order.problems
    assert problem.startswith(f"{OLD_DESIGN_PROBLEM}cc has order {number} with the print files")
    assert f"line {number}-01" in problem and f"podops cancel {number}" in problem
    assert "provider_has_old_design" in actions(shop, number)
    with shop.db.unit_of_work() as session:
        told = session.scalars(
            select(Event.id).where(
                Event.order_id == order.id, Event.action == "provider_has_old_design"
            )
        ).one()
        payloads = session.scalars(
            select(OutboxMessage.payload).where(OutboxMessage.order_id == order.id)
        ).all()
    assert {"event_id": told} in [{"event_id": p.get("event_id")} for p in payloads]


def test_a_found_order_with_the_files_we_send_now_is_no_alarm(shop: Shop) -> None:
    number = shop.order("cc")
    shop.customcat.inject(Fault(weird=True))
    shop.service.tick()
    shop.service.retry(number, STAFF)
    assert shop.service.tick().submitted == [number]
    assert shop.get(number).problems == []
    assert "provider_has_old_design" not in actions(shop, number)
