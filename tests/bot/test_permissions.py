"""User-group permissions never hold up the slash-command ack (Slack's 3 s)."""

from __future__ import annotations

import time

import pytest
from slack_sdk import WebClient

from bot.directory import SlackGroupDirectory
from podops import services
from podops.errors import Forbidden
from podops.runtime.root import Runtime
from podops.status import OrderStatus
from tests.bot.conftest import SlackSender, snapshot, wait_for
from tests.factories import received_order
from tests.fakes.slack import FakeSlack


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def directory(fake: FakeSlack, clock: Clock) -> SlackGroupDirectory:
    client = WebClient(token="xoxb-test", base_url=fake.api_url, timeout=10)
    return SlackGroupDirectory(client, ttl=60, max_stale=3600, timeout=0.5, clock=clock)


@pytest.mark.slow
def test_a_slow_slack_is_answered_from_the_cache_and_refreshed_behind(
    fake_slack: FakeSlack,
) -> None:
    clock = Clock()
    groups = directory(fake_slack, clock)
    fake_slack.groups["S1"] = ["U7"]
    assert groups.members("S1") == {"U7"}
    fake_slack.groups["S1"] = ["U7", "U8"]
    fake_slack.delays["usergroups.users.list"] = 3.0
    clock.now += 120  # the cached list is stale
    started = time.monotonic()
    assert groups.members("S1") == {"U7"}  # at once, from memory
    assert time.monotonic() - started < 0.2
    fake_slack.delays.clear()
    wait_for(lambda: len(fake_slack.calls_to("usergroups.users.list")) >= 2)
    clock.now += 120
    wait_for(lambda: groups.members("S1") == {"U7", "U8"})


def test_a_group_never_loaded_and_unreachable_is_a_polite_refusal(
    fake_slack: FakeSlack,
) -> None:
    groups = directory(fake_slack, Clock())
    fake_slack.groups["S1"] = ["U7"]
    fake_slack.delays["usergroups.users.list"] = 3.0
    started = time.monotonic()
    with pytest.raises(Forbidden, match=r"could not check your permissions.*try again"):
        groups.members("S1")
    assert time.monotonic() - started < 1.5
    fake_slack.delays.clear()
    assert groups.members("S1") == {"U7"}  # the next try works


def test_an_unknown_group_id_grants_nothing(fake_slack: FakeSlack) -> None:
    assert directory(fake_slack, Clock()).members("S0TYPO") == frozenset()


@pytest.mark.slow
def test_slash_command_ack_stays_fast_when_slack_is_slow(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, policy
) -> None:
    number = received_order(runtime.db, policy)
    before = snapshot(runtime.db)
    fake_slack.groups["S0MANAGERS"] = ["U7"]
    fake_slack.delays["usergroups.users.list"] = 5.0
    started = time.monotonic()
    answer = slack.command(f"cancel {number} duplicate", user="U7", name="sam")
    assert time.monotonic() - started < 2.5
    assert answer.status_code == 200
    assert "could not check your permissions" in answer.json()["text"]
    assert snapshot(runtime.db) == before
    fake_slack.delays.clear()
    slack.command(f"cancel {number} duplicate", user="U7", name="sam")
    wait_for(lambda: fake_slack.responses)
    with runtime.db.unit_of_work() as session:
        assert services.get_order(session, number).status == OrderStatus.CANCELLED
