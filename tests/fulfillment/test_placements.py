"""A line with several placements (a tee's front and back) leaves with a signed link
per print file, as each provider names them, or is refused before sending where the
provider takes only one; a line with one placement leaves exactly as before."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from bot.blocks import order_card_blocks
from podops import reports, services
from podops.events import EventName
from podops.fulfillment.late_design import _Proposal, _with_new_files
from podops.fulfillment.printfiles import PrintFiles
from podops.incoming import IncomingLineItem
from podops.models import Event
from podops.ports.fulfillment import RequestItem
from podops.status import OrderStatus
from render.images import FetchPolicy
from render.renderer import PrintFileRenderer, RenderedPlacement
from tests.factories import STAFF
from tests.fulfillment.conftest import Shop
from tests.rendered import Rendered

TWO_SIDES = """
name = "Tee, front and back"
noun = "tee"
format = "png"

[placements.front]
width_in = 2
height_in = 1
[[placements.front.layers]]
type = "text"
field = "name"
size_pt = 20
box = { x = 0.1, y = 0.1, width = 1.8, height = 0.8 }

[placements.back]
width_in = 2
height_in = 1.5
[[placements.back.layers]]
type = "text"
field = "back_text"
size_pt = 20
box = { x = 0.1, y = 0.1, width = 1.8, height = 0.8 }
"""

ONE_SIDE = """
name = "Tee, front only"
format = "png"
width_in = 2
height_in = 1
[[layers]]
type = "text"
field = "name"
size_pt = 20
box = { x = 0.1, y = 0.1, width = 1.8, height = 0.8 }
"""


@pytest.fixture
def print_files(shop: Shop, tmp_path: Path) -> PrintFiles:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "tee-2.toml").write_text(TWO_SIDES)
    (folder / "tee-1.toml").write_text(ONE_SIDE)
    renderer = PrintFileRenderer(folder, tmp_path / "files", FetchPolicy())
    return PrintFiles(shop.db, renderer)


def _rendered_order(
    shop: Shop, print_files: PrintFiles, provider: str, product: str = "tee-2"
) -> str:
    """A due order with one tee line of `product`, rendered by the real renderer."""
    line = IncomingLineItem(
        external_id="li-1",
        sku="TEE-2SIDE",
        name="Two-sided tee",
        quantity=1,
        personalization={"name": "ANA", "back_text": "TEAM ANA"}
        if product == "tee-2"
        else {"name": "ANA"},
    )
    number = shop.order(provider, print_files=False, items=[line])
    with shop.db.unit_of_work() as session:
        services.get_order(session, number).items[0].product_key = product
    [outcome] = print_files.render_order(number, STAFF)
    assert outcome.ok, outcome.message
    return number


def _name(url: str) -> str:
    return Path(urlsplit(url).path).name


def test_the_line_keeps_each_placement_file_and_the_request_carries_both(
    shop: Shop, print_files: PrintFiles
) -> None:
    number = _rendered_order(shop, print_files, "cc")
    with shop.db.unit_of_work() as session:
        item = services.get_order(session, number).items[0]
        placed = list(item.placed_files)
        assert [f["placement"] for f in placed] == ["front", "back"]
        assert item.print_file == placed[0]["path"]  # the first stays the line's file
    assert shop.service.tick().submitted == [number]
    request_items = shop.customcat.orders[f"main-{number}"]["body"]["items"]
    [sent] = request_items
    assert _name(sent["design_url"]) == Path(placed[0]["path"]).name
    assert _name(sent["design_url_back"]) == Path(placed[1]["path"]).name
    assert "sig=" in sent["design_url_back"] and "-back-r001-" in sent["design_url_back"]


def test_the_submit_request_names_every_placement_with_a_signed_link(
    shop: Shop, print_files: PrintFiles
) -> None:
    number = _rendered_order(shop, print_files, "cc")
    with shop.db.unit_of_work() as session:
        order = services.get_order(session, number)
        services.begin_submit(session, order, services.plan_fulfillments(session, order), STAFF)
    with shop.db.unit_of_work() as session:
        part = services.get_order(session, number).parts[0]
        [item] = shop.service.roster.request_for(part).items
    front, back = item.files
    assert (front.placement, back.placement) == ("front", "back")
    assert front.url == item.print_file_url
    assert all(f.url.startswith("https://podops.example/files/") for f in item.files)
    assert "-back-r001-" in back.url and "sig=" in back.url


def test_a_one_placement_line_leaves_exactly_as_before(shop: Shop, print_files: PrintFiles) -> None:
    number = _rendered_order(shop, print_files, "cc", product="tee-1")
    with shop.db.unit_of_work() as session:
        assert services.get_order(session, number).items[0].placed_files == []
    assert shop.service.tick().submitted == [number]
    [sent] = shop.customcat.orders[f"main-{number}"]["body"]["items"]
    assert set(sent) == {"catalog_sku", "design_url", "quantity"}


def test_shineon_refuses_a_two_placement_line_before_sending_in_words(
    shop: Shop, print_files: PrintFiles
) -> None:
    number = _rendered_order(shop, print_files, "so")
    shop.service.tick()
    order = shop.get(number)
    assert order.status == OrderStatus.SUBMIT_FAILED
    assert "takes one print file per line (print_url)" in order.last_error
    assert "has 2 (front, back)" in order.last_error
    assert shop.shineon.created[f"main-{number}"] == 0  # nothing half sent


def test_customcat_refuses_a_placement_it_has_no_field_for(
    shop: Shop, print_files: PrintFiles, tmp_path: Path
) -> None:
    (tmp_path / "templates" / "tee-2.toml").write_text(
        TWO_SIDES.replace("[placements.back]", "[placements.sleeve]").replace(
            "placements.back.layers", "placements.sleeve.layers"
        )
    )
    print_files.renderer.reload_templates()  # type: ignore[attr-defined]
    number = _rendered_order(shop, print_files, "cc")
    shop.service.tick()
    order = shop.get(number)
    assert order.status == OrderStatus.SUBMIT_FAILED
    assert "prints only a front and a back" in order.last_error
    assert "'sleeve'" in order.last_error
    assert f"main-{number}" not in shop.customcat.orders


def test_the_manual_provider_lists_every_placement_file(
    shop: Shop, print_files: PrintFiles
) -> None:
    number = _rendered_order(shop, print_files, "manual")
    assert shop.service.tick().submitted == [number]
    with shop.db.unit_of_work() as session:
        order = services.get_order(session, number)
        line = order.items[0].reference
        [ready] = session.scalars(
            select(Event.detail).where(
                Event.order_id == order.id, Event.action == EventName.READY_TO_DOWNLOAD
            )
        ).all()
    assert {"packing_slip", f"print_file {line} front", f"print_file {line} back"} <= set(ready)
    assert "-back-r001-" in ready[f"print_file {line} back"]
    assert f"print_file {line}" not in ready  # each file once, by its placement


def test_a_late_design_change_sends_every_placement_new_file() -> None:
    links = _Links()
    item = RequestItem("1-01", "TEE", "TEE", "Tee", 1, "https://old/front.png")
    rendered = Rendered(  # as the renderer returns it (one file per placement)
        Path("/f/1-1-front-r002.png"),
        Path("/f/p.jpg"),
        "ab" * 32,
        2,
        placements=(
            RenderedPlacement(
                "front", Path("/f/1-1-front-r002.png"), Path("/f/p.jpg"), "a", 2, 1, 1
            ),
            RenderedPlacement("back", Path("/f/1-1-back-r002.png"), Path("/f/q.jpg"), "b", 2, 1, 1),
        ),
    )
    proposal = _Proposal(1, "1-01", "tee-2", {}, {"name": "A"}, {"name": "B"})
    sent = _with_new_files(item, proposal, rendered, links)
    assert sent.print_file_url == "https://links/1-1-front-r002.png"
    assert [(f.placement, f.url) for f in sent.files] == [
        ("front", "https://links/1-1-front-r002.png"),
        ("back", "https://links/1-1-back-r002.png"),
    ]
    assert sent.personalization == {"name": "B"}


class _Links:
    def url_for(self, print_file: str) -> str:
        return "https://links/" + Path(print_file).name


def test_staff_see_a_preview_link_per_placement_on_the_slack_card(
    shop: Shop, print_files: PrintFiles
) -> None:
    number = _rendered_order(shop, print_files, "cc")
    with shop.db.unit_of_work() as session:
        card = reports.order_card(session, services.get_order(session, number))
    blocks = order_card_blocks(card, lambda file: "https://links/" + Path(file).name)
    text = json.dumps(blocks)
    assert "front preview" in text and "back preview" in text
    assert "-back-r001-" in text and "-front-r001-" in text
