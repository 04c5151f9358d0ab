"""Every hint that tells staff what to type names the order so that typing it works:
a number with spaces or one that looks like an option, quoted for the shell in
`podops` hints and for Slack in `/order` hints."""

from __future__ import annotations

import shlex

import pytest

from bot.parsing import parse
from podops.wording import document_lines
from sync.console_notifier import command_for
from tests.hostile_numbers import HOSTILE_NUMBERS


def _typed_after(command: str, text: str) -> str:
    """The order number a shell would hand `podops COMMAND` in `text`."""
    words = shlex.split(text[text.index(f"podops {command} ") :])
    rest = words[2:]
    return rest[1] if rest[0] == "--" else rest[0]


@pytest.mark.parametrize("number", [n for n in HOSTILE_NUMBERS if n.strip() == n])
def test_the_packing_slip_hints_name_the_order_as_typed(number: str) -> None:
    lines = document_lines({"packing_slip": "https://x/slip.pdf"}, number)
    hint = lines[-1]

    slack = hint[hint.index("/order ") + len("/order ") : hint.index(" CARRIER")]
    assert parse(slack + " UPS 1Z999AA10123456784").reference.lstrip("#") in (
        number,
        number.lstrip("#"),
    )
    shell = hint[hint.index("(or ") + len("(or ") : -1]
    assert _typed_after("track", shell) == number


def test_a_number_with_spaces_is_quoted_in_every_console_command() -> None:
    from types import SimpleNamespace

    card = SimpleNamespace(number="A 12", items=[object()])
    for action in ("edit", "cancel", "submit", "hold"):
        text = command_for(action, card)  # type: ignore[arg-type]
        assert _typed_after(action, text) == "A 12", text
