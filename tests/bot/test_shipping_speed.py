"""Shipping speed in Slack: the edit form offers the store's speeds, refuses one the
order may not ship at (nothing changes), saves a good one; cards flag rush orders."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bot.blocks import summary_blocks
from podops import services
from podops.ports.notify import DailySummary, NamedOrder
from podops.routing import ShopPolicy, StorePolicy
from podops.runtime.root import Runtime
from podops.settings import RoutingRule
from podops.shipping_settings import ShippingConfig
from podops.speeds import ShippingTable
from tests.bot.conftest import FakePrintFiles, SlackSender, snapshot, wait_for
from tests.factories import received_order
from tests.fakes.slack import FakeSlack

TABLE = ShippingConfig.model_validate(
    {
        "methods": {"Standard Shipping": "standard", "Express Shipping": "express"},
        "speeds": {"express": {"countdown_hours": 2}, "overnight": {"countdown_hours": 0}},
        "providers": {"cc": {"standard": "Economy", "express": "Expedited"}},
    }
)


@pytest.fixture
def speedy(runtime: Runtime) -> ShopPolicy:
    """The runtime's policy: store main ships through cc with a shipping table."""
    table = ShippingTable("main", TABLE, countdown_hours=24)
    policy = ShopPolicy(
        {"main": StorePolicy(24, "cc", shipping_table=table)},
        [RoutingRule(sku="*", provider="cc")],
    )
    runtime.__dict__["policy"] = policy
    return policy


def choose(speed: str) -> dict[str, Any]:
    """The edit form's shipping select, as Slack sends its state."""
    return {"shipping": {"value": {"type": "static_select", "selected_option": {"value": speed}}}}


def card_text(blocks: list[dict[str, Any]]) -> str:
    return "\n".join(
        str(b.get("text", {}).get("text") or b.get("elements", [{}])[0].get("text", ""))
        for b in blocks
    )


def test_the_edit_form_offers_the_store_speeds_and_saves_the_chosen_one(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, speedy: ShopPolicy, tmp_path: Path
) -> None:
    number = received_order(runtime.db, speedy, shipping_method="Standard Shipping")
    runtime.__dict__["print_files"] = FakePrintFiles(tmp_path)
    slack.command(f"edit {number}")
    wait_for(lambda: fake_slack.calls_to("views.open"))
    view = fake_slack.calls_to("views.open")[0].params["view"]
    select = next(b for b in view["blocks"] if b.get("block_id") == "shipping")
    options = [o["value"] for o in select["element"]["options"]]
    assert options == ["standard", "express", "overnight"]
    assert select["element"]["initial_option"]["value"] == "standard"
    assert "now: standard (Standard Shipping)" in select["label"]["text"]
    metadata = json.loads(view["private_metadata"])

    slack.submit_view("order_edit", choose("express"), metadata)

    note = wait_for(lambda: fake_slack.calls_to("chat.postEphemeral"))[0].params
    assert f"Order {number} ships express (rush) now" in note["text"]
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, number)
        assert (order.shipping_speed, order.rush) == ("express", True)
    slack.command(f"show {number}")
    wait_for(lambda: fake_slack.responses)
    card = card_text(fake_slack.responses[-1]["blocks"])
    assert ":zap: *RUSH*" in card and "ships express (Standard Shipping)" in card


def test_a_speed_the_order_may_not_ship_at_is_refused_in_the_form(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, speedy: ShopPolicy
) -> None:
    number = received_order(runtime.db, speedy, shipping_method="Standard Shipping")
    metadata = {"reference": f"main:{number}", "channel": "C0ORDERS"}
    before = snapshot(runtime.db)
    answer = slack.submit_view("order_edit", choose("warp"), metadata).json()
    assert answer["response_action"] == "errors"
    assert "known speeds: standard, express, overnight" in answer["errors"]["shipping"]
    answer = slack.submit_view("order_edit", choose("overnight"), metadata).json()
    assert "goes to cc, which has no method for overnight" in answer["errors"]["shipping"]
    assert snapshot(runtime.db) == before


def test_a_store_without_a_table_offers_no_choice(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, policy: ShopPolicy
) -> None:
    number = received_order(runtime.db, policy)
    slack.command(f"edit {number}")
    wait_for(lambda: fake_slack.calls_to("views.open"))
    view = fake_slack.calls_to("views.open")[0].params["view"]
    assert all(b.get("block_id") != "shipping" for b in view["blocks"])


def test_the_daily_summary_lists_rush_orders_not_yet_at_their_provider() -> None:
    waiting = NamedOrder("1234", "Ana <b>", "on hold", 0, "needs attention", rush=True)
    summary = DailySummary(
        day=date(2026, 12, 1), received=5, submitted=3, shipped=1, cancelled=0,
        submit_failures=0, pending_by_age={}, late=[], failed=[],
        rush_received=2, rush_waiting=[waiting],
    )  # fmt: skip
    text = card_text(summary_blocks(summary))
    assert ":zap: *RUSH* orders received 2; not yet at their provider:" in text
    assert "• :zap: *RUSH* *1234* Ana &lt;b&gt; — on hold, 0d — needs attention" in text
