"""A design edited after submission: ShineOn takes it before production; otherwise
nothing changes and staff are told why."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import select

from podops.errors import ConcurrentModification, OrderLocked, RenderRefused
from podops.fulfillment.late_design import (
    accepts_design_changes,
    change_submitted_design,
    one_change_at_a_time,
)
from podops.fulfillment.printfiles import PrintFiles
from podops.models import Event
from podops.status import OrderStatus
from tests.factories import STAFF
from tests.fulfillment.conftest import Shop
from tests.rendered import Rendered


class FileRenderer:
    """The renderer port writing one small file per revision (the real one is tested in
    tests/render); refuses text it 'cannot draw' (a ☃)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.revisions = 0

    def render_item(
        self,
        order_ref,
        line_position,
        product_key,
        personalization,
        image_urls,
        crops=None,
        revision=None,
    ):  # type: ignore[no-untyped-def]
        if any("☃" in value for value in personalization.values()):
            raise RenderRefused("the font cannot draw '☃'")
        self.revisions += 1
        data = repr(sorted(personalization.items())).encode()
        stem = f"{order_ref}-{line_position}-r{self.revisions:03d}"
        path, preview = self.folder / f"{stem}.png", self.folder / f"{stem}-preview.jpg"
        path.write_bytes(data)
        preview.write_bytes(data)
        return Rendered(path, preview, hashlib.sha256(data).hexdigest(), self.revisions)

    def check_templates(self) -> list[tuple[str, bool, str]]:
        return []


@pytest.fixture
def print_files(shop: Shop, tmp_path: Path) -> PrintFiles:
    return PrintFiles(shop.db, FileRenderer(tmp_path))


def _submitted(shop: Shop, provider: str) -> str:
    number = shop.order(provider=provider)
    assert shop.service.tick().submitted == [number]
    return number


def _actions(shop: Shop, number: str) -> list[str]:
    with shop.db.unit_of_work() as session:
        order_id = shop.get(number).id
        return list(session.scalars(select(Event.action).where(Event.order_id == order_id)))


def test_shineon_gets_the_edited_design_before_production(
    shop: Shop, print_files: PrintFiles
) -> None:
    number = _submitted(shop, "so")
    assert accepts_design_changes(shop.follow_up, OrderStatus.SUBMITTED, "so")
    change = change_submitted_design(
        shop.follow_up, print_files, number, {1: {"name": "MARIA"}}, STAFF
    )
    assert change.provider == "so" and len(change.previews) == 1
    line = shop.shineon.by_source(f"main-{number}")["line_items"][0]
    assert line["properties"]["name"] == "MARIA"
    order = shop.get(number)
    item = order.items[0]
    assert item.personalization["name"] == "MARIA" and item.print_file_current
    assert Path(item.print_file).name in line["properties"]["print_url"]
    assert order.status == OrderStatus.SUBMITTED
    actions = _actions(shop, number)
    assert {"edit_personalization", "render", "design_replaced"} <= set(actions)


def test_once_in_production_the_edit_is_refused_and_nothing_changes(
    shop: Shop, print_files: PrintFiles
) -> None:
    number = _submitted(shop, "so")
    shop.shineon.by_source(f"main-{number}")["status"] = "in_production"
    before = shop.get(number).items[0]
    with pytest.raises(OrderLocked, match="can no longer change"):
        change_submitted_design(shop.follow_up, print_files, number, {1: {"name": "MARIA"}}, STAFF)
    after = shop.get(number).items[0]
    assert after.personalization == before.personalization
    assert after.print_file == before.print_file
    assert "edit_personalization" not in _actions(shop, number)


def test_a_design_that_cannot_be_rendered_is_never_sent(
    shop: Shop, print_files: PrintFiles
) -> None:
    number = _submitted(shop, "so")
    sent = list(shop.shineon.requests)
    with pytest.raises(RenderRefused, match="nothing was sent"):
        change_submitted_design(shop.follow_up, print_files, number, {1: {"name": "☃"}}, STAFF)
    assert [r for r in shop.shineon.requests if r not in sent and r[0] == "PUT"] == []
    assert shop.get(number).items[0].personalization["name"] == "ANA"


def test_a_second_change_while_one_is_being_sent_is_refused(
    shop: Shop, print_files: PrintFiles
) -> None:
    number = _submitted(shop, "so")
    order = shop.get(number)
    puts = sum(1 for r in shop.shineon.requests if r[0] == "PUT")
    with (
        one_change_at_a_time(shop.db, order.id, order.label),
        pytest.raises(ConcurrentModification, match="another design change"),
    ):
        change_submitted_design(shop.follow_up, print_files, number, {1: {"name": "BEA"}}, STAFF)
    assert sum(1 for r in shop.shineon.requests if r[0] == "PUT") == puts
    assert shop.get(number).items[0].personalization["name"] == "ANA"
    change_submitted_design(shop.follow_up, print_files, number, {1: {"name": "BEA"}}, STAFF)
    assert shop.get(number).items[0].personalization["name"] == "BEA"


def test_customcat_orders_stay_locked_with_a_reason(shop: Shop, print_files: PrintFiles) -> None:
    number = _submitted(shop, "cc")
    assert not accepts_design_changes(shop.follow_up, OrderStatus.SUBMITTED, "cc")
    with pytest.raises(OrderLocked, match="takes no design changes after submission"):
        change_submitted_design(shop.follow_up, print_files, number, {1: {"name": "MARIA"}}, STAFF)
    assert shop.get(number).items[0].personalization["name"] == "ANA"


def test_shineon_takes_a_new_design_before_production_only(
    shop: Shop, print_files: PrintFiles
) -> None:
    number = _submitted(shop, "so")
    ref = f"main-{number}"
    change_submitted_design(shop.follow_up, print_files, number, {1: {"name": "MARIA"}}, STAFF)
    assert shop.shineon.requests.count(("PUT", f"/v1/orders/{shop.shineon.by_source(ref)['id']}"))
    shop.shineon.by_source(ref)["status"] = "in_production"
    with pytest.raises(OrderLocked, match="can no longer change"):
        change_submitted_design(shop.follow_up, print_files, number, {1: {"name": "BEA"}}, STAFF)
    other = _submitted(shop, "cc")
    with pytest.raises(OrderLocked):
        change_submitted_design(shop.follow_up, print_files, other, {1: {"name": "BEA"}}, STAFF)
