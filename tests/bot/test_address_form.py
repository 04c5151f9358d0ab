"""The shipping address in the Slack edit form, over real HTTP (signed requests, the
fake Slack Web API), with fake CustomCat and ShineOn servers as the providers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from podops import services
from podops.models import Event
from podops.routing import ShopPolicy, StorePolicy
from podops.runtime.root import Runtime
from podops.settings import ProviderConfig, RenderConfig, RoutingRule
from podops.status import OrderStatus
from tests.bot.conftest import SlackSender, slack_settings, snapshot, wait_for
from tests.factories import SYSTEM, received_order
from tests.fakes.customcat import API_KEY, FakeCustomCat
from tests.fakes.shineon import TOKEN, FakeShineOn
from tests.fakes.slack import FakeSlack
from tests.fulfillment.conftest import give_print_files


@pytest.fixture
def customcat() -> Iterator[FakeCustomCat]:
    fake = FakeCustomCat().start()
    yield fake
    fake.stop()


@pytest.fixture
def shineon() -> Iterator[FakeShineOn]:
    fake = FakeShineOn().start()
    yield fake
    fake.stop()


@pytest.fixture
def runtime(
    db_url: str,
    fake_slack: FakeSlack,
    allowed_users: dict[str, list[str]],
    customcat: FakeCustomCat,
    shineon: FakeShineOn,
    tmp_path: Path,
) -> Iterator[Runtime]:
    settings = slack_settings(db_url, fake_slack, allowed_users=allowed_users)
    settings.providers = {
        "cc": ProviderConfig(kind="customcat", base_url=customcat.base_url, api_key=API_KEY),  # type: ignore[arg-type]
        "so": ProviderConfig(kind="shineon", base_url=shineon.url, api_key=TOKEN),  # type: ignore[arg-type]
        "manual": ProviderConfig(kind="manual"),
    }
    settings.render = RenderConfig(
        public_base_url="https://podops.example",
        link_secret=SecretStr("slack-address-0123456789"),
        output_dir=str(tmp_path / "print-files"),  # the in-house provider's packing slips
    )
    rt = Runtime(settings)
    yield rt
    rt.close()


def at(provider: str) -> ShopPolicy:
    return ShopPolicy({"main": StorePolicy(24, provider)}, [])


def opened(fake: FakeSlack, count: int) -> dict[str, Any]:
    wait_for(lambda: len(fake.calls_to("views.open")) >= count)
    view: dict[str, Any] = fake.calls_to("views.open")[count - 1].params["view"]
    return view


def typed(view: dict[str, Any], **address: str) -> dict[str, Any]:
    """What Slack sends back: every input of the form, the address fields as typed."""
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        value = block["element"].get("initial_value", "")
        name = block["block_id"].removeprefix("a|")
        values[block["block_id"]] = {"value": {"value": address.get(name, value)}}
    return values


def order_of(runtime: Runtime, number: str) -> Any:
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, number)
        _ = order.items
        return order


def private_notes(fake: FakeSlack) -> list[str]:
    return [call.params["text"] for call in fake.calls_to("chat.postEphemeral")]


def test_the_form_fixes_a_missing_address_and_customcat_receives_it(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, customcat: FakeCustomCat
) -> None:
    number = received_order(runtime.db, at("cc"), shipping_address={})
    give_print_files(runtime.db, number)
    assert order_of(runtime, number).status == OrderStatus.ON_HOLD
    slack.command(f"edit {number}")
    view = opened(fake_slack, 1)
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert {"a|line1", "a|line2", "a|postcode", "a|country", "a|phone"} <= set(inputs)
    assert inputs["f|1|name"]["element"]["initial_value"] == "ANA"
    metadata = json.loads(view["private_metadata"])

    before = snapshot(runtime.db)
    bad = typed(view, line1="350 5th Ave", city="N" * 51, country="UK", line2="Apt\u202e4")
    answer = slack.submit_view("order_edit", bad, metadata).json()
    assert answer["response_action"] == "errors"
    assert "51 characters" in answer["errors"]["a|city"]
    assert "use GB for the United Kingdom" in answer["errors"]["a|country"]
    assert "control or invisible character (U+202E)" in answer["errors"]["a|line2"]
    assert "a|line1" not in answer["errors"]
    assert snapshot(runtime.db) == before

    good = typed(
        view,
        name="Ana Smith",
        line1="350 5th Ave",
        line2="Apt 4",
        city="New York",
        state="NY",
        postcode="10118",
        country="us",
    )
    assert slack.submit_view("order_edit", good, metadata).status_code == 200
    note = wait_for(lambda: private_notes(fake_slack))[0]
    assert f"Changed the address of order {number}" in note and "'Apt 4'" in note
    order = order_of(runtime, number)
    assert order.status == OrderStatus.PENDING
    assert order.shipping_address["address_2"] == "Apt 4"
    with runtime.db.unit_of_work() as session:
        edit = session.query(Event).filter_by(action="edit_address").one()
        assert edit.channel == "slack" and "maria" in edit.actor

    slack.command(f"submit {number}")
    wait_for(lambda: f"main-{number}" in customcat.orders)
    body = customcat.orders[f"main-{number}"]["body"]
    assert (body["shipping_address1"], body["shipping_address2"]) == ("350 5th Ave", "Apt 4")
    assert (body["shipping_city"], body["shipping_zip"], body["shipping_country"]) == (
        "New York",
        "10118",
        "US",
    )


def test_emptying_a_field_the_provider_needs_is_refused_beside_it(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack
) -> None:
    number = received_order(runtime.db, at("cc"))
    slack.command(f"edit {number}")
    view = opened(fake_slack, 1)
    before = snapshot(runtime.db)
    answer = slack.submit_view(
        "order_edit", typed(view, postcode=""), json.loads(view["private_metadata"])
    ).json()
    assert "address.postcode cannot be empty: cc needs it" in answer["errors"]["a|postcode"]
    assert snapshot(runtime.db) == before


def test_at_shineon_the_form_sends_the_address_there_and_customcat_sends_staff_there(
    runtime: Runtime,
    slack: SlackSender,
    fake_slack: FakeSlack,
    shineon: FakeShineOn,
    customcat: FakeCustomCat,
) -> None:
    number = received_order(runtime.db, at("so"))
    give_print_files(runtime.db, number)
    runtime.submission.submit_now(number, SYSTEM)
    slack.command(f"edit {number}")
    view = opened(fake_slack, 1)
    assert any("sent to so" in json.dumps(b) for b in view["blocks"] if b["type"] == "section")
    slack.submit_view(
        "order_edit", typed(view, line2="Apt 9"), json.loads(view["private_metadata"])
    )
    note = wait_for(lambda: private_notes(fake_slack))[0]
    assert "and sent it to so" in note
    assert shineon.by_source(f"main-{number}")["shipping_address"]["address2"] == "Apt 9"
    assert order_of(runtime, number).shipping_address["address_2"] == "Apt 9"

    other = received_order(runtime.db, at("cc"))
    give_print_files(runtime.db, other)
    runtime.submission.submit_now(other, SYSTEM)
    slack.command(f"edit {other}")
    refusal = wait_for(lambda: fake_slack.responses)[-1]["text"]
    assert f"order {other} is already at cc: change the address there" in refusal
    assert customcat.orders[f"main-{other}"]["body"]["shipping_address2"] == ""


def test_a_split_order_says_which_part_kept_the_old_address_and_saving_again_sends_it(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, shineon: FakeShineOn
) -> None:
    """A tee at ShineOn, a mug made in-house: ShineOn is down when the form is saved, so
    the answer says the tee's part still ships to the old address; the form opened again
    says so beside the address, and saving it sends the address to ShineOn only."""
    in_house = ShopPolicy(
        {"main": StorePolicy(24, "so")},
        [
            RoutingRule(sku="TEE-*", provider="so", provider_sku="SO-TEE"),
            RoutingRule(sku="MUG-*", provider="manual"),
        ],
    )
    number = received_order(runtime.db, in_house)
    give_print_files(runtime.db, number)
    runtime.submission.submit_now(number, SYSTEM)
    shineon.down = True
    slack.command(f"edit {number}")
    view = opened(fake_slack, 1)
    slack.submit_view(
        "order_edit", typed(view, line2="Apt 4"), json.loads(view["private_metadata"])
    )
    note = wait_for(lambda: private_notes(fake_slack))[0]
    assert note.startswith(
        f":warning: Changed the address of order {number} and sent it to manual: line2 "
    )
    assert "'Apt 4'" in note
    assert "Not changed for part 1 at so (ShineOn (so) had a server error (503)" in note
    assert "it still ships to the old address" in note
    assert shineon.by_source(f"main-{number}")["shipping_address"]["address2"] == ""

    shineon.down = False
    slack.command(f"edit {number}")
    view = opened(fake_slack, 2)
    heading = json.dumps([b for b in view["blocks"] if b["type"] == "section"])
    assert "part 1 at so still ships to Ana Smith, 12 Main St, Springfield IL 62701, US" in heading
    assert "saving sends the address below there again" in heading
    slack.submit_view("order_edit", typed(view), json.loads(view["private_metadata"]))
    note = wait_for(lambda: private_notes(fake_slack)[1:])[0]
    assert note == (
        f"Sent the address of order {number} to part 1 at so, which had kept the old one: it "
        "has the new address now."
    )
    assert shineon.by_source(f"main-{number}")["shipping_address"]["address2"] == "Apt 4"
