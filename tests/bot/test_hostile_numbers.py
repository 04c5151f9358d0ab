"""`/order` with every hostile but legal order number (`tests/hostile_numbers.py`),
over the real HTTP app: each command acts on that order or refuses in words, never
on another order and never with "something went wrong". A number with spaces is
typed in quotes, kept as typed inside them."""

from __future__ import annotations

import json
import time

from podops.routing import ShopPolicy
from podops.runtime.root import Runtime
from podops.status import OrderStatus
from tests.bot.conftest import SlackSender, wait_for
from tests.factories import received_order
from tests.fakes.slack import FakeSlack
from tests.hostile_numbers import (
    AMBIGUOUS,
    HOSTILE_NUMBERS,
    orders_snapshot,
    status_of_number,
    store_id,
)

COMMANDS = (
    "show {}",
    "hold {} check the name",
    "release {}",
    "edit {}",
    "track {} UPS 1Z999AA10123456784",
    "fulfilled {}",
    "remake {} misprint --pays provider",
    "return {} wrong size",
    "label {}",
    "submit {}",
    "cancel {} duplicate",
)


def _typed(text: str) -> str:
    return f'"{text}"' if " " in text else text


class Replies:
    def __init__(self, fake: FakeSlack, slack: SlackSender, runtime: Runtime) -> None:
        self.fake, self.slack, self.runtime = fake, slack, runtime

    def send(self, text: str, number: str, *, guessing: bool = False) -> str:
        """Send `/order text`; only order `number` may change (none when `guessing`)."""
        before = orders_snapshot(self.runtime.db)
        replied, opened = len(self.fake.responses), len(self._opened())
        assert self.slack.command(text).status_code == 200
        wait_for(lambda: self._count() > replied + opened)
        count = 0
        while count != self._count():  # every answer of this command, not the next
            count = self._count()
            time.sleep(0.1)
        after = orders_snapshot(self.runtime.db)
        changed = {n for n in before if before[n] != after.get(n)}
        assert changed <= (set() if guessing else {number}), (text, changed)
        answers = [*self.fake.responses[replied:], *self._opened()[opened:]]
        answer = json.dumps(answers, ensure_ascii=False)
        assert "went wrong" not in answer, (text, answer)
        return answer

    def _opened(self) -> list[object]:
        """Modals opened (`edit`)."""
        return [c.params for c in list(self.fake.calls) if c.method == "views.open"]

    def _count(self) -> int:
        return len(self.fake.responses) + len(self._opened())


def test_every_order_command_reaches_every_number_or_refuses(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, policy: ShopPolicy
) -> None:
    for number in HOSTILE_NUMBERS:
        received_order(runtime.db, policy, number=number, external_id=store_id(number))
    replies = Replies(fake_slack, slack, runtime)
    for number in HOSTILE_NUMBERS:
        if number in AMBIGUOUS:
            answer = replies.send(f"hold {_typed(number)}", number, guessing=True)
            assert "names more than one order" in answer, answer
        typed = _typed(AMBIGUOUS.get(number, number))
        shown = replies.send(f"show {typed}", number)
        assert json.dumps(number, ensure_ascii=False)[1:-1] in shown and "no order" not in shown
        replies.send(f"hold {typed} check the name", number)
        assert status_of_number(runtime.db, number) == OrderStatus.ON_HOLD
        for command in COMMANDS:
            replies.send(command.format(typed), number)
