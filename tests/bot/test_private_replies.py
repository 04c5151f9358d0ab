"""Edit results reach the person even where the bot is not a member: the fake,
like Slack, answers `not_in_channel` to chat.postEphemeral there, so the result
goes by direct message; when no way works, `podops status` says so."""

from __future__ import annotations

import json
from pathlib import Path

from podops.runtime import status_report
from podops.runtime.root import Runtime
from tests.bot.conftest import FakePrintFiles, SlackSender, wait_for
from tests.factories import received_order
from tests.fakes.slack import FakeSlack
from tests.fakes.slack_rules import ALL_SCOPES


def edit_from(
    runtime: Runtime, slack: SlackSender, fake: FakeSlack, policy, tmp_path: Path, channel: str
) -> str:  # type: ignore[no-untyped-def]
    """Open the edit form from `channel` and save a change; the order's number."""
    number = received_order(runtime.db, policy)
    runtime.__dict__["print_files"] = FakePrintFiles(tmp_path)
    slack.command(f"edit {number}")
    view = wait_for(lambda: fake.calls_to("views.open"))[0].params["view"]
    metadata = {**json.loads(view["private_metadata"]), "channel": channel}
    slack.submit_view("order_edit", {"f|1|name": {"value": {"value": "BEA"}}}, metadata)
    return number


def test_where_the_bot_is_not_a_member_the_result_comes_by_direct_message(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, policy, tmp_path: Path
) -> None:
    fake_slack.known["C0DESIGN"] = "design"  # a channel the bot was never invited to
    number = edit_from(runtime, slack, fake_slack, policy, tmp_path, "C0DESIGN")
    dm = wait_for(
        lambda: [
            c for c in fake_slack.calls_to("chat.postMessage") if c.params["channel"] == "D0U1"
        ]
    )[0]
    assert f"Saved the changes to order {number}" in dm.params["text"]
    refused = fake_slack.calls_to("chat.postEphemeral")
    assert [c.params["channel"] for c in refused] == ["C0DESIGN"]
    assert fake_slack.calls_to("conversations.open")[0].params["users"] == "U1"


def test_when_no_way_works_status_says_who_was_not_told(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, policy, tmp_path: Path
) -> None:
    fake_slack.known["C0DESIGN"] = "design"
    fake_slack.members.clear()
    fake_slack.scopes = ALL_SCOPES - {"im:write"}
    number = edit_from(runtime, slack, fake_slack, policy, tmp_path, "C0DESIGN")

    def reported() -> list[str]:
        with runtime.db.unit_of_work() as session:
            errors = status_report.build(session).job_errors
        return [error for _, job, error, _ in errors if job == "slack.replies"]

    error = wait_for(reported)[0]
    assert "could not tell Slack user U1" in error and f"order {number}" in error
    assert "ephemeral: not_in_channel" in error and "dm: missing_scope" in error
    assert "orders: not_in_channel" in error
