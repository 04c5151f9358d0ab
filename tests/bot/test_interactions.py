"""Buttons, modals and App Home over real HTTP."""

from __future__ import annotations

import json
from pathlib import Path

from podops import services
from podops.fulfillment.roster import ProviderRoster
from podops.ports.fulfillment import ProviderOrder, SubmitRequest
from podops.routing import ShopPolicy, StorePolicy
from podops.runtime.root import Runtime
from podops.settings import RoutingRule
from podops.status import OrderStatus
from providers.sandbox_provider import SandboxProvider
from sync.notify_job import drain
from tests.bot.conftest import FakePrintFiles, SlackSender, snapshot, wait_for
from tests.factories import SYSTEM, received_order
from tests.fakes.slack import FakeSlack


def order_state(runtime: Runtime, number: str) -> tuple[OrderStatus, dict[str, str]]:
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, number)
        return OrderStatus(order.status), dict(order.items[0].personalization)


def opened_view(fake: FakeSlack, count: int = 1) -> dict:
    wait_for(lambda: len(fake.calls_to("views.open")) >= count)
    return fake.calls_to("views.open")[count - 1].params["view"]


def test_hold_button_holds_and_answers_privately(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, policy
) -> None:
    number = received_order(runtime.db, policy)
    assert slack.button("hold", f"main:{number}").status_code == 200
    wait_for(lambda: fake_slack.responses)
    answer = fake_slack.responses[0]
    assert "is on hold" in answer["text"]
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    assert order_state(runtime, number)[0] == OrderStatus.ON_HOLD


def test_button_from_someone_not_allowed_changes_nothing(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, policy
) -> None:
    number = received_order(runtime.db, policy)
    before = snapshot(runtime.db)
    slack.button("submit", f"main:{number}", user="U5")
    wait_for(lambda: fake_slack.responses)
    assert "not allowed to run `submit`" in fake_slack.responses[0]["text"]
    assert snapshot(runtime.db) == before


def test_cancel_button_asks_the_reason_in_a_modal(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, policy
) -> None:
    number = received_order(runtime.db, policy)
    slack.button("cancel", f"main:{number}")
    view = opened_view(fake_slack)
    assert view["callback_id"] == "order_cancel"
    metadata = json.loads(view["private_metadata"])
    before = snapshot(runtime.db)
    blank = slack.submit_view("order_cancel", {"reason": {"value": {"value": "  "}}}, metadata)
    assert blank.json() == {
        "response_action": "errors",
        "errors": {"reason": "say why the order is cancelled (for example: out of stock)"},
    }
    assert snapshot(runtime.db) == before
    ok = slack.submit_view(
        "order_cancel", {"reason": {"value": {"value": "out of stock"}}}, metadata
    )
    assert ok.status_code == 200 and ok.content in (b"", b"{}")
    wait_for(lambda: order_state(runtime, number)[0] == OrderStatus.CANCELLED)
    note = wait_for(lambda: fake_slack.calls_to("chat.postEphemeral"))[0].params
    assert note["user"] == "U1" and "is cancelled" in note["text"]


def test_edit_modal_validates_then_saves_renders_and_posts_the_preview(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, policy, tmp_path: Path
) -> None:
    number = received_order(runtime.db, policy)
    renderer = FakePrintFiles(tmp_path)
    runtime.__dict__["print_files"] = renderer
    slack.command(f"edit {number}")
    view = opened_view(fake_slack)
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert inputs["f|1|name"]["element"]["initial_value"] == "ANA"
    assert inputs["f|2|message"]["element"]["initial_value"] == "Love you"
    metadata = json.loads(view["private_metadata"])
    before = snapshot(runtime.db)
    too_long = {"f|1|name": {"value": {"value": "X" * 501}}}
    answer = slack.submit_view("order_edit", too_long, metadata).json()
    assert answer["response_action"] == "errors"
    assert "at most 500" in answer["errors"]["f|1|name"]
    assert snapshot(runtime.db) == before
    values = {
        "f|1|name": {"value": {"value": "BEA"}},
        "f|2|message": {"value": {"value": "Love you"}},
    }
    slack.submit_view("order_edit", values, metadata)
    wait_for(lambda: order_state(runtime, number)[1] == {"name": "BEA"})
    note = wait_for(lambda: fake_slack.calls_to("chat.postEphemeral"))[0].params
    assert "rendered 1 preview" in note["text"]
    assert renderer.calls == [(f"main:{number}", [1])]
    drain(runtime)
    upload = fake_slack.calls_to("files.completeUploadExternal")[0].params
    assert upload["channel_id"] == "C0ORDERS" and upload["thread_ts"]
    assert next(iter(fake_slack.uploads.values())).startswith(b"\x89PNG")


def test_edit_is_refused_once_submitted(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, policy, tmp_path: Path
) -> None:
    number = received_order(runtime.db, policy)
    slack.command(f"edit {number}")
    metadata = json.loads(opened_view(fake_slack)["private_metadata"])
    runtime.__dict__["print_files"] = FakePrintFiles(tmp_path)
    slack.submit_view("order_edit", {"f|1|name": {"value": {"value": "ZED"}}}, metadata)
    note = wait_for(lambda: fake_slack.calls_to("chat.postEphemeral"))[0].params
    assert "Saved the changes" in note["text"]
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, number)
        services.begin_submit(session, order, services.plan_fulfillments(session, order), SYSTEM)
    before = snapshot(runtime.db)
    late = slack.submit_view("order_edit", {"f|1|name": {"value": {"value": "NOPE"}}}, metadata)
    assert "can no longer be changed" in late.json()["errors"]["f|1|name"]
    slack.command(f"edit {number}")
    wait_for(lambda: fake_slack.responses)
    assert "can no longer be changed" in fake_slack.responses[-1]["text"]
    assert snapshot(runtime.db) == before


class Links:
    def url_for(self, print_file: str) -> str:
        return f"https://podops.example/files/{Path(print_file).name}"


class RecordingSandbox(SandboxProvider):
    """The sandbox provider, keeping each design it was sent."""

    def __init__(self) -> None:
        super().__init__("sandbox", stage_s=600)
        self.designs: list[SubmitRequest] = []

    def update_design(self, provider_order_id: str, request: SubmitRequest) -> ProviderOrder:
        self.designs.append(request)
        return super().update_design(provider_order_id, request)


def test_an_order_at_a_provider_that_still_takes_changes_gets_the_new_design(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, policy, tmp_path: Path
) -> None:
    provider = RecordingSandbox()
    runtime.__dict__["roster"] = ProviderRoster({"sandbox": provider}, Links())
    renderer = FakePrintFiles(tmp_path)
    runtime.__dict__["print_files"] = renderer
    routes = [
        RoutingRule(sku="TEE-*", provider="sandbox", product_key="tee-front"),
        RoutingRule(sku="MUG-*", provider="sandbox", product_key="mug-11oz"),
    ]
    number = received_order(runtime.db, ShopPolicy({"main": StorePolicy(1, "sandbox")}, routes))
    with runtime.db.unit_of_work() as session:
        for item in services.get_order(session, number).items:
            item.print_file, item.print_file_current = f"/srv/{number}-{item.position}.png", True
    assert runtime.submission.submit_now(number, SYSTEM).status == OrderStatus.SUBMITTED
    slack.command(f"edit {number}")
    view = opened_view(fake_slack)
    assert "already at sandbox" in json.dumps(view) and view["submit"]["text"] == "Save and send"
    metadata = json.loads(view["private_metadata"])
    slack.submit_view("order_edit", {"f|1|name": {"value": {"value": "BEA"}}}, metadata)
    wait_for(lambda: order_state(runtime, number)[1] == {"name": "BEA"})
    note = wait_for(lambda: fake_slack.calls_to("chat.postEphemeral"))[0].params
    assert "Sent the new design" in note["text"] and "sandbox" in note["text"]
    assert order_state(runtime, number)[0] == OrderStatus.SUBMITTED
    [sent] = provider.designs
    assert sent.items[0].personalization["name"] == "BEA"
    with runtime.db.unit_of_work() as session:
        item = services.get_order(session, number).items[0]
        assert item.print_file != f"/srv/{number}-1.png" and item.print_file_current
        assert Path(str(item.print_file)).name in sent.items[0].print_file_url
    assert sent.items[1].print_file_url.endswith(f"{number}-2.png")  # untouched line


def test_app_home_shows_the_dashboard(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, policy
) -> None:
    received_order(runtime.db, policy)
    assert (
        slack.event(
            {"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home"}
        ).status_code
        == 200
    )
    call = wait_for(lambda: fake_slack.calls_to("views.publish"))[0].params
    assert call["user_id"] == "U1" and call["view"]["type"] == "home"
    assert "*pending* 1" in json.dumps(call["view"])
    from bot.home import refresh_homes

    assert refresh_homes(runtime) == 1
    assert len(fake_slack.calls_to("views.publish")) == 2
