"""The edit modal's photo part over real HTTP: a crop box per photo, a tick to print a
low-resolution photo as it is; a crop that cannot be printed is answered in the form."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from podops import services
from podops.models import Event
from podops.photos import Crop, PhotoFit, crops_of
from podops.routing import ShopPolicy
from podops.runtime.root import Runtime
from podops.status import OrderStatus
from tests.bot.conftest import FakePrintFiles, SlackSender, snapshot, wait_for
from tests.factories import SYSTEM, received_order
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_rules import view_problems

URL = "https://photos.example/ana.jpg"


def _with_photo(runtime: Runtime, policy: ShopPolicy, pixels: int) -> str:
    """Given an order whose tee has a photo a render measured (the tee's 9-inch frame)."""
    number = received_order(runtime.db, policy)
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, number)
        order.items[0].image_urls = {"photo": URL}
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, number)
        fit = PhotoFit("photo", pixels, pixels, 9.0, 9.0)
        services.record_photo_fits(session, order, order.items[0], [fit], SYSTEM)
    return number


def _opened(slack: SlackSender, fake: FakeSlack, number: str) -> dict[str, Any]:
    slack.command(f"edit {number}")
    wait_for(lambda: fake.calls_to("views.open"))
    view: dict[str, Any] = fake.calls_to("views.open")[-1].params["view"]
    assert view_problems(view) == []  # what Slack takes: the fake answered it `ok`
    return view


def _state(runtime: Runtime, number: str) -> tuple[OrderStatus, dict[str, Crop]]:
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, number)
        return OrderStatus(order.status), crops_of(order.items[0].photos)


def _typed(text: str) -> dict[str, Any]:
    return {"value": {"type": "plain_text_input", "value": text}}


def _ticked() -> dict[str, Any]:
    return {"value": {"type": "checkboxes", "selected_options": [{"value": "accept"}]}}


def test_the_form_shows_each_photo_its_crop_and_a_tick_for_a_low_resolution(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, policy: ShopPolicy
) -> None:
    number = _with_photo(runtime, policy, 400)
    assert _state(runtime, number)[0] == OrderStatus.NEEDS_DESIGN
    view = _opened(slack, fake_slack, number)
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    crop = inputs["c|1|photo"]
    assert crop["element"]["initial_value"] == "zoom=1 x=0% y=0%"
    assert "44 DPI now" in crop["label"]["text"]
    tick = inputs["p|1|photo"]
    assert tick["element"]["type"] == "checkboxes"
    assert "44 DPI at this size (at least 150 wanted)" in tick["label"]["text"]
    assert "c|2|photo" not in inputs  # the mug line has no photo
    slack.command(f"show {number}")
    card = json.dumps(wait_for(lambda: fake_slack.responses)[-1]["blocks"])
    assert "photo 44 DPI :warning: (at least 150 wanted)" in card


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("zoom=1 x=20% y=0%", "x=20% would leave part of the photo frame empty"),
        ("zoom=2 y=-0.7", "at zoom 2 the photo moves at most 50% up or down"),
        ("zoom=abc", "zoom 'abc' is not a number"),
        ("zoom=NaN x=0", "zoom 'NaN' is not a number"),
        ("zoom=0.5", "zoom '0.5' is out of range"),
        ("zoom=12", "zoom '12' is out of range"),
        ("tilt=3", "'tilt' is not a crop setting"),
    ],
)
def test_a_crop_that_cannot_be_printed_is_answered_in_the_form(
    runtime: Runtime,
    slack: SlackSender,
    fake_slack: FakeSlack,
    policy: ShopPolicy,
    typed: str,
    reason: str,
) -> None:
    number = _with_photo(runtime, policy, 1500)
    metadata = json.loads(_opened(slack, fake_slack, number)["private_metadata"])
    before = snapshot(runtime.db)
    values = {"f|1|name": _typed("BEA"), "c|1|photo": _typed(typed)}
    answer = slack.submit_view("order_edit", values, metadata).json()
    assert answer["response_action"] == "errors"
    assert reason in answer["errors"]["c|1|photo"]
    assert snapshot(runtime.db) == before
    assert _state(runtime, number)[1] == {}


def test_a_crop_typed_in_the_form_is_saved_and_the_line_rendered(
    runtime: Runtime,
    slack: SlackSender,
    fake_slack: FakeSlack,
    policy: ShopPolicy,
    tmp_path: Path,
) -> None:
    number = _with_photo(runtime, policy, 1500)
    renderer = FakePrintFiles(tmp_path)
    runtime.__dict__["print_files"] = renderer
    metadata = json.loads(_opened(slack, fake_slack, number)["private_metadata"])
    slack.submit_view("order_edit", {"c|1|photo": _typed("zoom=2 x=25% y=-10%")}, metadata)
    wait_for(lambda: _state(runtime, number)[1])
    assert _state(runtime, number)[1] == {"photo": Crop(2.0, 0.25, -0.1)}
    note = wait_for(lambda: fake_slack.calls_to("chat.postEphemeral"))[0].params
    assert "rendered 1 preview" in note["text"]
    assert renderer.calls == [(f"main:{number}", [1])]
    with runtime.db.unit_of_work() as session:
        event = session.query(Event).filter(Event.action == "photo_crop").one()
        assert event.detail["new"] == "zoom=2 x=25% y=-10%" and event.detail["dpi"] == 83


def test_ticking_print_as_it_is_lets_the_order_go_but_not_with_a_new_crop(
    runtime: Runtime,
    slack: SlackSender,
    fake_slack: FakeSlack,
    policy: ShopPolicy,
    tmp_path: Path,
) -> None:
    number = _with_photo(runtime, policy, 400)
    with runtime.db.unit_of_work() as session:  # the render's file is current
        services.get_order(session, number).items[0].print_file = "tee.png"
        for item in services.get_order(session, number).items:
            item.print_file_current = True
    runtime.__dict__["print_files"] = FakePrintFiles(tmp_path)
    metadata = json.loads(_opened(slack, fake_slack, number)["private_metadata"])
    before = snapshot(runtime.db)
    both = {"c|1|photo": _typed("zoom=1.5"), "p|1|photo": _ticked()}
    answer = slack.submit_view("order_edit", both, metadata).json()
    assert "save the crop first" in answer["errors"]["p|1|photo"]
    assert snapshot(runtime.db) == before

    slack.submit_view("order_edit", {"p|1|photo": _ticked()}, metadata)
    wait_for(lambda: _state(runtime, number)[0] == OrderStatus.PENDING)
    note = wait_for(lambda: fake_slack.calls_to("chat.postEphemeral"))[0].params
    assert "The photo of line 1 prints as it is" in note["text"]
    assert "is back in the countdown" in note["text"]
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, number)
        assert order.problems == [] and order.items[0].problems == []
        event = session.query(Event).filter(Event.action == "photo_accepted").one()
        assert event.detail == {"line": f"{number}-01", "field": "photo", "dpi": 44, "min_dpi": 150}
