"""`/order remake`: a shipped order's lines made again from Slack, bad input refused
with the reason where staff typed it, nothing changed."""

from __future__ import annotations

from podops import services
from podops.runtime.root import Runtime
from tests.bot.conftest import SlackSender, snapshot
from tests.bot.test_commands_http import reply_text
from tests.factories import SYSTEM, received_order, submitted_order
from tests.fakes.slack import FakeSlack


def shipped(runtime: Runtime, policy) -> str:  # type: ignore[no-untyped-def]
    number = submitted_order(runtime.db, policy)
    with runtime.db.unit_of_work() as session:
        services.record_tracking(session, number, "UPS", "1Z999AA10123456784", SYSTEM)
    return number


def remakes(runtime: Runtime, number: str) -> list[tuple[str, str | None, str | None, dict]]:  # type: ignore[type-arg]
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, number)
        return [
            (
                f.reference,
                f.reason,
                f.paid_by,
                {line.line_item.reference: line.quantity for line in f.lines},
            )
            for f in order.fulfillments
            if f.kind == "remake"
        ]


def test_a_remake_from_slack_is_made_and_said(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, policy
) -> None:
    number = shipped(runtime, policy)
    slack.command(f"remake {number} --line 1 --qty 1 damaged in transit --pays carrier")
    assert reply_text(fake_slack) == (
        f"Order {number} will be remade as main--{number}_P2 to manual at the next "
        "countdown tick (shipped)."
    )
    assert remakes(runtime, number) == [
        (f"main--{number}_P2", "damaged in transit", "carrier", {f"{number}-01": 1})
    ]


def test_usage_mistakes_are_answered_at_once(runtime: Runtime, slack: SlackSender, policy) -> None:
    number = shipped(runtime, policy)
    before = snapshot(runtime.db)
    answer = slack.command(f"remake {number} misprint").json()["text"]
    assert "say who pays with `--pays`" in answer
    assert "/order remake 1234 [--line L [--qty Q] ...] REASON --pays PAYER" in answer
    answer = slack.command(f"remake {number} --qty 2 misprint --pays shop").json()["text"]
    assert "give `--qty` after the `--line` it counts" in answer
    assert snapshot(runtime.db) == before


def test_refusals_of_the_rules_come_back_in_words_and_change_nothing(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, policy
) -> None:
    never = received_order(runtime.db, policy)
    number = shipped(runtime, policy)
    before = snapshot(runtime.db)
    slack.command(f"remake {never} misprint --pays provider")
    assert f"order {never} cannot be remade: it is pending and nothing of it has shipped" in (
        reply_text(fake_slack)
    )
    slack.command(f"remake {number} --line 1 --qty 5 misprint --pays provider")
    assert "5 to remake, but 2 of it shipped" in reply_text(fake_slack, 2)
    slack.command(f"remake {number} ugly --pays provider")
    assert "use one of: misprint, damaged in transit, lost, customer error" in reply_text(
        fake_slack, 3
    )
    slack.command(f"remake {number} lost --pays customer")
    assert "use one of: provider, carrier, shop" in reply_text(fake_slack, 4)
    assert snapshot(runtime.db) == before
    assert remakes(runtime, number) == []
