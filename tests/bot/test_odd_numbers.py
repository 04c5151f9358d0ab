"""`/order` reaches orders whatever the store numbered them: `2024/5001`, `12:30`, and
`"A 12"` in quotes (a number with a space), over the real HTTP app."""

from __future__ import annotations

import json

import pytest

from podops.runtime.root import Runtime
from podops.status import OrderStatus
from tests.bot.conftest import SlackSender
from tests.bot.test_commands_http import reply_text, status_of
from tests.factories import received_order
from tests.fakes.slack import FakeSlack


@pytest.mark.parametrize(
    ("number", "typed"),
    [("2024/5001", "2024/5001"), ("12:30", "main:12:30"), ("A 12", '"A 12"'), ("#77", "main:#77")],
)
def test_an_odd_number_is_shown_and_held(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, policy, number: str, typed: str
) -> None:
    received_order(runtime.db, policy, number=number)
    assert slack.command(f"show {typed}").status_code == 200
    reply_text(fake_slack)
    shown = json.dumps(fake_slack.responses[0], ensure_ascii=False)
    assert number in shown and "no order" not in shown
    slack.command(f"hold {typed} customer asked to wait")
    assert "on hold" in reply_text(fake_slack, 2)
    assert status_of(runtime, f"main:{number}") == OrderStatus.ON_HOLD
