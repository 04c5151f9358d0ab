"""Forged, stale, replayed, fuzzed and unauthorized Slack requests into the real
web server (signed the way Slack signs). Each is refused, or acted on once."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from podops.models import Event
from podops.routing import ShopPolicy
from podops.runtime.root import Runtime
from tests.bot.conftest import SlackSender, snapshot, wait_for
from tests.factories import received_order
from tests.fakes.slack import FakeSlack
from tests.reliability.conftest import Outcome, tried
from tests.reliability.test_abuse_requests import FUZZ


def test_forged_and_stale_slack_requests_change_nothing(
    runtime: Runtime, slack: SlackSender, policy: ShopPolicy, record: list[Outcome]
) -> None:
    number = received_order(runtime.db, policy)
    before = snapshot(runtime.db)
    body = slack.command_body(f"cancel {number} fraud")
    form = "application/x-www-form-urlencoded"
    answers = [
        slack.command(f"cancel {number} fraud", secret="not-the-secret").status_code,
        slack.command(f"cancel {number} fraud", timestamp=int(time.time()) - 6 * 60).status_code,
        slack.command(f"cancel {number} fraud", timestamp=int(time.time()) + 6 * 60).status_code,
        slack.client.post(
            slack.base_url + "/slack/commands", content=body, headers={"content-type": form}
        ).status_code,
        slack.post("/slack/interactions", "payload=%7B%7D", form, secret="x").status_code,
        slack.post(
            "/slack/events",
            '{"type":"url_verification","challenge":"c"}',
            "application/json",
            secret="x",
        ).status_code,
    ]
    record.append(
        Outcome(
            "forged and stale Slack requests (wrong secret, 6 min old or ahead, unsigned)",
            "abuse",
            "401, nothing changes",
            bad_inputs=len(answers),
        )
    )
    assert set(answers) == {401}
    assert snapshot(runtime.db) == before


def test_replayed_slack_command_acts_once(
    runtime: Runtime,
    slack: SlackSender,
    fake_slack: FakeSlack,
    policy: ShopPolicy,
    record: list[Outcome],
) -> None:
    number = received_order(runtime.db, policy)
    answers = [
        slack.command(f"hold {number}", trigger="trig.replayed", retry=n).status_code
        for n in (None, 1, 2, None)
    ]
    wait_for(lambda: fake_slack.responses)
    time.sleep(0.4)
    with runtime.db.unit_of_work() as session:
        holds = session.scalars(select(Event).where(Event.action == "hold")).all()
    record.append(
        Outcome(
            "replayed Slack command (same trigger id, with and without X-Slack-Retry-Num)",
            "abuse",
            "acted on once",
            bad_inputs=3,
            duplicates=len(holds) - 1,
        )
    )
    assert set(answers) == {200}
    assert len(holds) == 1


def test_commands_and_buttons_from_users_without_permission(
    runtime: Runtime,
    slack: SlackSender,
    fake_slack: FakeSlack,
    policy: ShopPolicy,
    record: list[Outcome],
) -> None:
    number = received_order(runtime.db, policy)
    before = snapshot(runtime.db)
    fake_slack.groups["S0MANAGERS"] = ["U7"]
    refused = [
        slack.command(f"cancel {number} nope", user="U9", name="eve").json().get("text", ""),
        slack.command(f"submit {number}", user="U9", name="eve").json().get("text", ""),
    ]
    slack.button("submit", number, user="U9")
    slack.button("cancel", number, user="U9")
    time.sleep(0.5)
    record.append(
        Outcome(
            "commands and buttons from a user without permission (cancel, submit)",
            "abuse",
            "refused privately, nothing changes",
            bad_inputs=4,
        )
    )
    assert all("not allowed" in text for text in refused), refused
    assert snapshot(runtime.db) == before


FUZZED = Outcome(
    "fuzzed /order command text (hypothesis)",
    "abuse",
    "answered (help or a reason), never an error page",
)


@settings(FUZZ, max_examples=25)
@given(text=st.text(max_size=80))
def test_fuzzed_slack_command_text_is_answered(
    runtime: Runtime, slack: SlackSender, record: list[Outcome], text: str
) -> None:
    tried(record, FUZZED, text)
    before = snapshot(runtime.db)
    assert slack.command(text).status_code == 200
    if not text.strip().lower().startswith(("hold", "cancel", "submit", "release", "track")):
        assert snapshot(runtime.db) == before
