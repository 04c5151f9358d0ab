"""Slack's answers that no retry can change park the message at once, with the
fix in words for `podops status` and `podops outbox parked`; rate limits and
Slack's own trouble stay retryable. The fake refuses as Slack does (the bot not
in the channel, a missing scope, an archived channel, blocks beyond Block Kit's
limits), and the edit form of a big order stays one Slack accepts."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select

from podops.incoming import IncomingLineItem
from podops.models import OutboxMessage, utcnow
from podops.runtime import status_report
from podops.runtime.root import Runtime
from sync.notify_job import drain, scan_alerts
from tests.bot.conftest import SlackSender, wait_for
from tests.factories import received_order
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_rules import ALL_SCOPES


def alert_once(runtime: Runtime, policy) -> OutboxMessage:  # type: ignore[no-untyped-def]
    received_order(runtime.db, policy)
    scan_alerts(runtime, utcnow() + timedelta(days=3))
    drain(runtime)
    with runtime.db.unit_of_work() as session:
        message = session.scalars(select(OutboxMessage)).one()
        session.expunge(message)
    return message


@pytest.mark.parametrize(
    ("breakage", "words"),
    [
        ("not_in_channel", "the bot is not in #orders: invite it there with /invite @podops"),
        ("is_archived", "#orders is archived"),
        ("missing_scope", "lacks the chat:write scope"),
    ],
)
def test_an_answer_that_cannot_change_parks_at_once_with_the_fix(
    runtime: Runtime, fake_slack: FakeSlack, policy, breakage: str, words: str
) -> None:
    if breakage == "not_in_channel":
        fake_slack.members.clear()  # nobody typed /invite @podops
    elif breakage == "is_archived":
        fake_slack.archived.add("C0ORDERS")
    else:
        fake_slack.scopes = ALL_SCOPES - {"chat:write"}
    message = alert_once(runtime, policy)
    assert message.dead_at is not None and message.attempts == 1
    assert f"Slack refused ({breakage}): " in str(message.last_error)
    assert words in str(message.last_error)
    assert len(fake_slack.calls_to("chat.postMessage")) == 1  # not tried 50 times
    with runtime.db.unit_of_work() as session:
        report = status_report.build(session)
    assert report.dead_letters == [("slack.alert", message.last_error)]


@pytest.mark.parametrize(("status", "error"), [(500, "internal_error"), (200, "fatal_error")])
def test_slack_trouble_stays_retryable(
    runtime: Runtime, fake_slack: FakeSlack, policy, status: int, error: str
) -> None:
    fake_slack.fail_next("chat.postMessage", status=status, error=error)
    message = alert_once(runtime, policy)
    assert message.dead_at is None and message.delivered_at is None
    assert error in str(message.last_error)


def test_the_fake_refuses_blocks_as_slack_does(fake_slack: FakeSlack) -> None:
    client = WebClient(token="xoxb-test", base_url=fake_slack.api_url)
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "x"}}
    with pytest.raises(SlackApiError) as too_many:
        client.chat_postMessage(channel="#orders", text="x", blocks=[section] * 51)
    assert too_many.value.response["error"] == "invalid_blocks"
    long = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
    with pytest.raises(SlackApiError) as too_long:
        client.chat_postMessage(channel="#orders", text="x", blocks=[long])
    assert "[json-pointer:/blocks/0/text]" in too_long.value.response["errors"][0]
    view = {"type": "modal", "title": {"type": "plain_text", "text": "x" * 25}, "blocks": []}
    with pytest.raises(SlackApiError) as title:
        client.views_open(trigger_id="t", view=view)
    assert title.value.response["error"] == "invalid_arguments"


def big_order(lines: int, fields: int) -> list[IncomingLineItem]:
    return [
        IncomingLineItem(
            external_id=f"big-{n}",
            sku="TEE-BLK-M",
            name=f"Custom Tee {n}",
            quantity=1,
            unit_price=Decimal("10"),
            personalization={f"field {f}": f"value {n}.{f}" for f in range(fields)},
        )
        for n in range(1, lines + 1)
    ]


@pytest.mark.parametrize("lines", [30, 120])
def test_the_edit_form_of_a_big_order_stays_valid(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, policy, lines: int
) -> None:
    number = received_order(runtime.db, policy, items=big_order(lines, 5))
    slack.command(f"edit {number}")
    opened = wait_for(lambda: fake_slack.calls_to("views.open"))
    view = opened[0].params["view"]
    assert len(view["blocks"]) <= 100  # and the fake, like Slack, accepted it
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    boxes = [b for b in inputs if b["block_id"].startswith("raw|")]
    assert len(inputs) - len(boxes) == 9  # the shipping address, one input per field
    assert boxes[0]["block_id"] == "raw|1"
    # The template's fields first (the tee prints a name, a message, a photo), then the
    # fields it does not print, so staff can empty them.
    shown = boxes[0]["element"]["initial_value"].splitlines()
    assert shown[:3] == ["name=", "message=", "photo="]
    assert "field 0=value 1.0" in shown
    notes = [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"]
    assert "each line's fields are one box" in notes[0]
    if lines > len(boxes):
        more = next(note for note in notes if "more line(s)" in note)
        assert f"{lines - len(boxes)} more line(s)" in more
        assert f"podops edit {number} --line N" in more
    else:
        assert len(boxes) == lines
