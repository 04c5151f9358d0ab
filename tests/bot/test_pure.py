"""The pure parts: the `/order` parser, the permission rules, the pacer, the countdown."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from bot.pacing import ChannelPacer
from bot.parsing import USAGE, Command, parse
from podops.authz import Authorizer
from podops.errors import Forbidden, InvalidInput
from podops.models import Order
from podops.ports.notify import NotifyError
from podops.reports import countdown
from podops.shared_limits import ARRIVAL_MARGIN
from podops.status import OrderStatus


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Command("help")),
        ("submit 1234", Command("submit", "1234")),
        ("SUBMIT #1234", Command("submit", "#1234")),
        ("cancel 1234 out of stock", Command("cancel", "1234", reason="out of stock")),
        ("hold main:1234", Command("hold", "main:1234")),
        ("find Ana Smith", Command("find", text="Ana Smith")),
        (
            "track 1234 UPS 1Z999 TEE-BLK-M 1 MUG-11OZ 2",
            Command(
                "track",
                "1234",
                carrier="UPS",
                tracking_number="1Z999",
                lines=(("TEE-BLK-M", 1), ("MUG-11OZ", 2)),
            ),
        ),
        ("dance 12", Command("help", unknown="dance")),
    ],
)
def test_parser_reads_what_staff_type(text: str, expected: Command) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    "text", ["submit", "release 12 now", "show #", "track 1 UPS", "track 1 UPS X A 0", "find"]
)
def test_parser_refuses_with_usage(text: str) -> None:
    with pytest.raises(InvalidInput, match="Usage: `/order"):
        parse(text)


class Groups:
    def __init__(self) -> None:
        self.asked: list[str] = []

    def members(self, group_id: str) -> frozenset[str]:
        self.asked.append(group_id)
        return frozenset({"U7"}) if group_id == "S1" else frozenset()


def test_authorizer_users_groups_default_and_open_commands() -> None:
    groups = Groups()
    rules = Authorizer({"cancel": ["U1", "S1"], "*": ["U1"], "show": []}, groups)
    assert rules.may("cancel", "U1") and rules.may("cancel", "U7")
    assert not rules.may("cancel", "U9")
    assert rules.may("hold", "U1") and not rules.may("hold", "U7")  # "*" default
    assert not rules.may("show", "U1")
    assert Authorizer({}, groups).may("cancel", "U9")  # nothing configured: open
    with pytest.raises(Forbidden, match=r"slack\.allowed_users\.cancel"):
        rules.check("cancel", "U9")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_pacer_allows_a_burst_then_one_per_second_per_channel() -> None:
    clock = Clock()
    pacer = ChannelPacer(1.0, burst=2, clock=clock, sleep=clock.sleep)
    for _ in range(4):
        pacer.acquire("C1")
    pacer.acquire("C2")
    turn = 1.0 / ARRIVAL_MARGIN  # a second, and the margin against arrival jitter
    assert clock.slept == [pytest.approx(turn), pytest.approx(turn)]  # C2 was not held up


def test_pacer_honours_retry_after_and_refuses_long_waits() -> None:
    clock = Clock()
    pacer = ChannelPacer(1.0, burst=2, max_wait=5, clock=clock, sleep=clock.sleep)
    pacer.penalize("C1", 3)
    pacer.acquire("C1")
    assert clock.slept == [3.0]
    pacer.penalize("C1", 30)
    with pytest.raises(NotifyError) as caught:
        pacer.acquire("C1")
    assert caught.value.retryable


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (45, "in 45s"),
        (1, "in 1s"),
        (0, "now"),
        (-3600, "now"),
        (12 * 60 + 30, "in 12m"),
        (3 * 3600 + 5 * 60, "in 3h 05m"),
        (3 * 86400 + 7200, "in 3d 2h"),
    ],
)
def test_countdown_reads_well_after_submits(seconds: int, expected: str) -> None:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    order = Order(status=OrderStatus.PENDING, submit_at=now + timedelta(seconds=seconds))
    assert countdown(order, now) == expected
    held = Order(status=OrderStatus.ON_HOLD, submit_at=now + timedelta(seconds=seconds))
    assert countdown(held, now) == ""


@pytest.mark.parametrize("name", sorted(USAGE))
def test_help_shows_what_the_parser_requires(name: str) -> None:
    """Every word of a help line outside brackets is needed; the bracketed ones are not."""
    bare = re.sub(r"\[[^]]*\]", "", USAGE[name]).replace("REASON", "duplicate")
    required = bare.split()[1:]
    assert parse(" ".join(required)).name == name
    if len(required) > 1:
        with pytest.raises(InvalidInput, match=re.escape(f"Usage: `{USAGE[name]}`")):
            parse(" ".join(required[:-1]))


def test_cancel_without_a_reason_is_refused_with_the_usage() -> None:
    with pytest.raises(InvalidInput, match=r"say why order 1234 is cancelled\. Usage"):
        parse("cancel #1234")
    assert parse("hold 1234") == Command("hold", "1234")  # a hold's reason is optional
