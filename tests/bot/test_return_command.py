"""`/order return` and `/order find --state`: goods that came back recorded from Slack,
refusals in words where staff typed, nothing changed; find filters by order state."""

from __future__ import annotations

from podops import services
from podops.runtime.root import Runtime
from podops.status import OrderStatus
from tests.bot.conftest import SlackSender, snapshot, wait_for
from tests.bot.test_commands_http import reply_text, status_of
from tests.factories import STAFF, received_order, submitted_order
from tests.fakes.slack import FakeSlack


def shipped(runtime: Runtime, policy) -> str:  # type: ignore[no-untyped-def]
    number = submitted_order(runtime.db, policy)
    with runtime.db.unit_of_work() as session:
        services.record_tracking(session, number, "UPS", "1Z999AA10123456784", STAFF)
    return number


def returned_units(runtime: Runtime, number: str) -> list[int]:
    with runtime.db.unit_of_work() as session:
        return [i.quantity_returned for i in services.get_order(session, number).items]


def test_a_return_from_slack_is_recorded_and_said(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, policy
) -> None:
    number = shipped(runtime, policy)
    slack.command(f"return {number} --line 1 --qty 1 wrong size")
    assert reply_text(fake_slack) == (
        f"Order {number} is recorded as returned: {number}-01 x1 came back (shipped)."
    )
    slack.command(f"return {number} customer changed mind")
    assert f"{number}-01 x1, {number}-02 x1 came back (returned)" in reply_text(fake_slack, 2)
    assert returned_units(runtime, number) == [2, 1]
    assert status_of(runtime, number) == OrderStatus.RETURNED


def test_usage_mistakes_and_refusals_change_nothing(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, policy
) -> None:
    never = received_order(runtime.db, policy)
    number = shipped(runtime, policy)
    before = snapshot(runtime.db)
    answer = slack.command(f"return {number}").json()["text"]
    assert f"say why order {number} came back" in answer
    assert "/order return 1234 [--line L --qty Q ...] REASON" in answer
    answer = slack.command(f"return {number} --qty 1 damaged").json()["text"]
    assert "give `--qty` after the `--line` it counts" in answer
    slack.command(f"return {never} damaged")
    assert f"order {never} cannot be returned: it is pending and nothing of it has shipped" in (
        reply_text(fake_slack)
    )
    slack.command(f"return {number} --line 1 --qty 3 damaged")
    assert "3 to return, but 2 of it shipped" in reply_text(fake_slack, 2)
    assert snapshot(runtime.db) == before


def found_text(fake: FakeSlack, count: int) -> str:
    """The `/order find` answer's list, as posted."""
    wait_for(lambda: len(fake.responses) >= count)
    return str(fake.responses[count - 1]["blocks"][0]["text"]["text"])


def test_find_filters_by_state_newest_first(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, policy
) -> None:
    waiting = received_order(runtime.db, policy)
    first, second = shipped(runtime, policy), shipped(runtime, policy)
    with runtime.db.unit_of_work() as session:
        services.return_order(session, first, STAFF, "damaged", lines=[services.ReturnWanted(2)])
    slack.command("find --state returned")
    text = found_text(fake_slack, 1)
    assert f"*{first}*" in text and f"returned: {first}-02 x1 (damaged)" in text
    assert f"*{second}*" not in text and f"*{waiting}*" not in text
    slack.command("find smith --state shipped")
    text = found_text(fake_slack, 2)
    assert text.index(f"*{second}*") < text.index(f"*{first}*")  # newest first
    assert f"*{waiting}*" not in text
    slack.command("find ana --state not-shipped")
    assert f"*{waiting}*" in found_text(fake_slack, 3)
    slack.command("find --state lost")
    assert "'lost' is not an order state; use one of: not-shipped" in reply_text(fake_slack, 4)
