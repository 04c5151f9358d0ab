"""Every command that takes an order, with every hostile but legal order number
(`tests/hostile_numbers.py`): each acts on that order, or refuses in one line and
changes nothing; never another order, never a traceback. A number starting with
`-` works as typed; one that is exactly an option of the command goes after `--`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer

from podops.cli.args import OrderCommand, checked_reference
from podops.cli.main import app, main
from podops.db import Database
from podops.status import OrderStatus
from tests.cli.conftest import seed
from tests.hostile_numbers import (
    AMBIGUOUS,
    HOSTILE_NUMBERS,
    orders_snapshot,
    status_of_number,
)


@dataclass(frozen=True)
class Verb:
    words: tuple[str, ...]
    options: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    """Arguments after the order number."""
    before: tuple[str, ...] = ()
    """Arguments before it (`label void ORDER`)."""

    def typed(self, number: str) -> list[str]:
        """As staff type it: the number right after the command, options last."""
        return [*self.words, *self.before, number, *self.after, *self.options]

    def escaped(self, number: str) -> list[str]:
        """The number after `--`, options first: works for every number."""
        return [*self.words, *self.options, "--", *self.before, number, *self.after]


VERBS = (
    Verb(("orders", "show"), ("--json",)),
    Verb(("hold",), ("--reason", "check the name")),
    Verb(("release",)),
    Verb(("edit",), ("--line", "1"), ("name=ANA",)),
    Verb(("render",)),
    Verb(("accept-photo",)),
    Verb(("track",), after=("UPS", "1Z999AA10123456784")),
    Verb(("submit",)),
    Verb(("retry",)),
    Verb(("remake",), ("--reason", "misprint", "--pays", "provider")),
    Verb(("return",), ("--reason", "wrong size")),
    Verb(("label",)),
    Verb(("label",), before=("void",)),
    Verb(("label",), before=("print",)),
    Verb(("fulfilled",)),
    Verb(("cancel",), ("--reason", "duplicate")),
)


@pytest.fixture
def shop(workdir: Path, db_url: str) -> Iterator[Database]:
    seed(db_url, *HOSTILE_NUMBERS)
    database = Database(db_url)
    yield database
    database.dispose()


def _run(
    db: Database, argv: list[str], number: str, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    """Run `argv` for the order `number`: no other order may change (none at all when
    the text names two orders)."""
    before = orders_snapshot(db)
    code = main(argv)
    out, err = capsys.readouterr()
    after = orders_snapshot(db)
    changed = {n for n in before if before[n] != after[n]}
    allowed = set() if number in AMBIGUOUS and AMBIGUOUS[number] not in argv else {number}
    assert changed <= allowed, (argv, changed, out, err)
    assert code in (0, 1, 2), (argv, code, err)
    assert "Traceback" not in out + err
    if code:
        assert (out + err).strip(), (argv, code)  # a refusal says why
    return code, out, err


def test_every_order_command_reaches_every_number_or_refuses(
    shop: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    for verb in VERBS:
        for number in HOSTILE_NUMBERS:
            for argv in (verb.typed(number), verb.escaped(number)):
                code, _, err = _run(shop, argv, number, capsys)
                if number in AMBIGUOUS:
                    assert code == 2, (argv, err)


def test_show_and_hold_find_each_number_as_typed(
    shop: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    for number in HOSTILE_NUMBERS:
        typed = AMBIGUOUS.get(number, number)
        argv = ["orders", "show", typed, "--json"]
        if number == "--help":
            assert main(argv) == 0 and "Usage:" in capsys.readouterr().out  # the option
            argv = ["orders", "show", "--json", "--", typed]
        code, out, err = _run(shop, argv, number, capsys)
        assert code == 0, (argv, err)
        assert json.loads(out)["number"] == number
        argv = ["hold", typed, "--reason", "check"]
        if number in ("--help", "-r"):
            argv = ["hold", "--reason", "check", "--", typed]
        code, out, err = _run(shop, argv, number, capsys)
        assert code == 0, (argv, err)
        assert status_of_number(shop, number) == OrderStatus.ON_HOLD, argv
        assert _run(shop, ["release", "--", typed], number, capsys)[0] == 0
        assert status_of_number(shop, number) == OrderStatus.PENDING


def _words(text: str) -> str:
    """The words of an error as click's box prints them (wrapped, framed)."""
    return " ".join(text.replace("│", " ").replace("╭", " ").replace("╰", " ").split())


def test_an_option_taken_for_the_number_says_to_put_it_after_dashes(
    shop: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["hold", "-r"]) == 2
    err = _words(capsys.readouterr().err)
    assert "If -r is the order number, put -- before it" in err
    assert "podops hold -- -r" in err
    assert main(["orders", "show", "--json"]) == 2
    assert "podops orders show -- --json" in _words(capsys.readouterr().err)
    assert main(["hold", "-17", "--reasn", "x"]) == 2  # a mistyped option is named
    assert "--reasn" in capsys.readouterr().err
    assert status_of_number(shop, "-17") == OrderStatus.PENDING


def test_a_refusal_names_what_to_type_for_each_order(
    shop: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["cancel", "main:1001", "--reason", "dup"]) == 2
    err = capsys.readouterr().err
    assert "main:main:1001" in err and "main/1001" in err
    assert main(["cancel", "main/1001", "--reason", "dup"]) == 0
    assert status_of_number(shop, "1001") == OrderStatus.CANCELLED
    assert status_of_number(shop, "main:1001") == OrderStatus.PENDING
    assert main(["cancel", "A 12"]) == 2  # without a reason: the hint quotes the number
    assert "podops cancel --reason \"out of stock\" 'A 12'" in capsys.readouterr().err


def _order_commands(group: Any) -> Iterator[Any]:
    """The commands under a (Typer's click) group that take an ORDER argument."""
    for command in group.commands.values():
        if hasattr(command, "commands"):
            yield from _order_commands(command)
        elif any(
            getattr(p, "callback", None) is checked_reference or "ORDER" in (p.metavar or "")
            for p in command.params
        ):
            yield command


def test_every_command_taking_an_order_reads_numbers_that_start_with_a_dash() -> None:
    commands = list(_order_commands(typer.main.get_command(app)))
    assert len(commands) >= 14
    assert [c.name for c in commands if not isinstance(c, OrderCommand)] == []
