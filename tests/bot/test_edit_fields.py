"""The Slack edit form offers the fields the line's template prints, refuses the others
in the form itself, and checks a new photo link as the renderer fetches photos."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from bot.operations import Operations
from podops import services
from podops.errors import OrderLocked
from podops.incoming import IncomingLineItem
from podops.routing import ShopPolicy, StorePolicy
from podops.runtime.root import Runtime
from podops.settings import RenderConfig, RoutingRule
from podops.status import OrderStatus
from tests.bot.conftest import SlackSender, slack_settings, snapshot, wait_for
from tests.factories import SYSTEM, received_order
from tests.fakes.slack import FakeSlack
from tests.field_templates import photo_host, write_templates


@pytest.fixture
def photos() -> Iterator[str]:
    with photo_host() as base:
        yield base


@pytest.fixture
def runtime(
    db_url: str, fake_slack: FakeSlack, allowed_users: dict[str, list[str]], tmp_path: Path
) -> Iterator[Runtime]:
    """Real print files from small templates; photos may come from 127.0.0.1."""
    settings = slack_settings(db_url, fake_slack, allowed_users=allowed_users)
    folder = write_templates(tmp_path / "templates", tee="tee-front", mug="mug-11oz")
    render = RenderConfig(
        templates_dir=str(folder),
        output_dir=str(tmp_path / "print-files"),
        allow_loopback_image_hosts=True,
    )
    rt = Runtime(settings.model_copy(update={"render": render}))
    yield rt
    rt.close()


def an_order(runtime: Runtime, policy: ShopPolicy, photos: str) -> str:
    """A tee (name, photo) and a mug whose customer also wrote a name (the mug prints none)."""
    items = [
        IncomingLineItem("t", "TEE-BLK-M", "Tee", 1, Decimal(10), {"name": "ANA"}),
        IncomingLineItem(
            "m", "MUG-11OZ", "Mug", 1, Decimal(9), {"message": "Hej", "name": "BJÖRN"}
        ),
    ]
    for item in items:
        item.image_urls = {"photo": f"{photos}/ana.jpg"}
    number = received_order(runtime.db, policy, items=items)
    runtime.print_files.render_order(number, SYSTEM)
    return number


def open_form(slack: SlackSender, fake: FakeSlack, number: str) -> tuple[dict, dict]:
    slack.command(f"edit {number}")
    view = wait_for(lambda: fake.calls_to("views.open"))[-1].params["view"]
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    return inputs, json.loads(view["private_metadata"])


def line(runtime: Runtime, number: str, position: int) -> tuple[dict, dict]:
    with runtime.db.unit_of_work() as session:
        item = services.get_order(session, number).items[position - 1]
        return dict(item.personalization), dict(item.image_urls)


def status(runtime: Runtime, number: str) -> OrderStatus:
    with runtime.db.unit_of_work() as session:
        return OrderStatus(services.get_order(session, number).status)


def test_the_form_shows_the_templates_fields_and_the_name_the_mug_does_not_print(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, policy, photos: str
) -> None:
    number = an_order(runtime, policy, photos)
    assert status(runtime, number) == OrderStatus.NEEDS_DESIGN

    inputs, metadata = open_form(slack, fake_slack, number)

    assert [b for b in inputs if b.startswith("f|")] == [
        "f|1|name", "f|1|message", "f|1|photo", "f|2|message", "f|2|photo", "f|2|name",
    ]  # fmt: skip
    assert inputs["f|1|photo"]["element"]["initial_value"] == f"{photos}/ana.jpg"
    assert inputs["f|2|name"]["element"]["initial_value"] == "BJÖRN"
    before = snapshot(runtime.db)
    typed = {"f|2|name": {"value": {"value": "BJÖRN B."}}}
    answer = slack.submit_view("order_edit", typed, metadata).json()
    assert answer["response_action"] == "errors"
    assert "this mug prints no name (its fields: message, photo" in answer["errors"]["f|2|name"]
    assert snapshot(runtime.db) == before

    emptied = {"f|2|name": {"value": {"value": ""}}}
    assert slack.submit_view("order_edit", emptied, metadata).status_code == 200
    wait_for(lambda: status(runtime, number) == OrderStatus.PENDING)
    assert line(runtime, number, 2)[0] == {"message": "Hej"}


def test_a_photo_link_is_checked_before_it_is_saved(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, policy, photos: str
) -> None:
    number = an_order(runtime, policy, photos)
    _, metadata = open_form(slack, fake_slack, number)
    before = snapshot(runtime.db), line(runtime, number, 1)

    gone = {"f|1|photo": {"value": {"value": f"{photos}/gone.jpg"}}}
    slack.submit_view("order_edit", gone, metadata)

    note = wait_for(lambda: fake_slack.calls_to("chat.postEphemeral"))[0].params
    assert "could not be downloaded (HTTP 404)" in note["text"]
    assert (snapshot(runtime.db), line(runtime, number, 1)) == before

    good = {"f|1|photo": {"value": {"value": f"{photos}/new.jpg"}}}
    slack.submit_view("order_edit", good, metadata)
    wait_for(lambda: line(runtime, number, 1)[1] == {"photo": f"{photos}/new.jpg"})
    note = wait_for(lambda: fake_slack.calls_to("chat.postEphemeral")[1:])[0].params
    assert "rendered 1 preview" in note["text"]
    assert "photo" not in line(runtime, number, 1)[0]


def test_a_split_orders_part_not_sent_yet_is_edited_in_the_form(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, photos: str
) -> None:
    """The tee is at CustomCat, the mug's part failed at ShineOn: the form opens saying
    which lines may change; the mug's message is saved and rendered, the tee's refused
    beside its input with the reason."""
    split = ShopPolicy(
        {"main": StorePolicy(24, "cc")},
        [
            RoutingRule(sku="TEE-*", provider="cc", product_key="tee-front"),
            RoutingRule(sku="MUG-*", provider="so", product_key="mug-11oz"),
        ],
    )
    items = [
        IncomingLineItem("t", "TEE-BLK-M", "Tee", 1, Decimal(10), {"name": "ANA"}),
        IncomingLineItem("m", "MUG-11OZ", "Mug", 1, Decimal(9), {"message": "Hej"}),
    ]
    for item in items:
        item.image_urls = {"photo": f"{photos}/ana.jpg"}
    number = received_order(runtime.db, split, items=items)
    runtime.print_files.render_order(number, SYSTEM)
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, number)
        tee, mug = services.begin_submit(
            session, order, services.plan_fulfillments(session, order), SYSTEM
        )
        services.mark_submitted(session, order, tee, SYSTEM, provider_order_id="CC-1")
        services.mark_submit_failed(session, order, mug, SYSTEM, reason="no such sku")
    assert status(runtime, number) == OrderStatus.SUBMITTED
    mug_file = _print_file(runtime, number, 2)

    slack.command(f"edit {number}")
    view = wait_for(lambda: fake_slack.calls_to("views.open"))[-1].params["view"]
    assert f"at its providers except {number}-02" in json.dumps(view)
    metadata = json.loads(view["private_metadata"])
    inputs = {b["block_id"] for b in view["blocks"] if b["type"] == "input"}
    assert "c|2|photo" in inputs and "c|1|photo" not in inputs  # crops: the mug's only
    # the tee is at CustomCat: shown as sent, with no input to type in
    assert {"f|2|message", "f|2|photo"} <= inputs
    assert not any(block.startswith(("f|1|", "raw|1")) for block in inputs)
    fixed = [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"]
    assert any(
        "not editable here" in text
        and f"`{number}-01` Tee (TEE-BLK-M) at cc, part 1: name=ANA" in text
        for text in fixed
    ), fixed
    assert view["submit"]["text"] == "Save and render"  # nothing goes to a provider now

    # a form opened before the tee left (or typed by hand) still carries it: refused
    # beside the field, naming CustomCat, and the mug's change beside it is not saved
    both = {"f|1|name": {"value": {"value": "BEA"}}, "f|2|message": {"value": {"value": "Hi"}}}
    answer = slack.submit_view("order_edit", both, metadata).json()
    assert answer["response_action"] == "errors"
    assert (
        f"line {number}-01 of order {number} is at its provider (cc, part 1)"
        in (answer["errors"]["f|1|name"])
    )
    assert line(runtime, number, 1)[0] == {"name": "ANA"}
    assert line(runtime, number, 2)[0] == {"message": "Hej"}
    with pytest.raises(OrderLocked, match=r"is at its provider \(cc, part 1\)"):
        Operations(runtime).edit(number, {1: {"name": "BEA"}, 2: {"message": "Hi"}}, SYSTEM, "k")
    assert line(runtime, number, 1)[0] == {"name": "ANA"}
    assert line(runtime, number, 2)[0] == {"message": "Hej"}
    assert fake_slack.calls_to("chat.postEphemeral") == []  # nothing claimed to be saved

    mug_typed = {"f|2|message": {"value": {"value": "Tack"}}}
    assert slack.submit_view("order_edit", mug_typed, metadata).status_code == 200
    wait_for(lambda: line(runtime, number, 2)[0] == {"message": "Tack"})
    wait_for(lambda: _print_file(runtime, number, 2) != mug_file)
    note = wait_for(lambda: fake_slack.calls_to("chat.postEphemeral"))[0].params
    assert "rendered 1 preview" in note["text"]

    mug_file = _print_file(runtime, number, 2)
    zoomed = {"c|2|photo": {"value": {"value": "zoom=1.5 x=0% y=0%"}}}
    assert slack.submit_view("order_edit", zoomed, metadata).status_code == 200
    wait_for(lambda: _print_file(runtime, number, 2) != mug_file)


def _print_file(runtime: Runtime, number: str, position: int) -> str | None:
    with runtime.db.unit_of_work() as session:
        return services.get_order(session, number).items[position - 1].print_file
