"""Checking what was typed on the command line before anything is looked up.

A mistyped argument is a usage error (exit 2, like a missing argument), not a
refusal of the business rules (exit 1): the operator fixes the command, not
the order. The checks run as Typer callbacks, so nothing touches the database.

An order number may start with `-` (a CSV phone order numbered `-17` or `--5`):
every command that takes an order is an `OrderCommand`, which reads a word that
starts with `-` but is none of the command's options as the order number, so
`podops hold -17 --reason x` works as typed. Only a number that is exactly one of
the command's options (`--help`, `-r`) needs `--` before it, as everywhere on a
command line: `podops orders show -- --help`; the error says so.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Sequence
from typing import Annotated, Any

import typer
from typer.core import TyperCommand

from podops.errors import ErrorCode, InvalidInput, PodopsError
from podops.refs import OrderRef


class UsageProblem(PodopsError):
    """What was typed cannot be a valid command (CLI exit 2)."""

    code = ErrorCode.INVALID


def checked_reference(value: str) -> str:
    """Typer callback: refuse `#` or an empty number before any look-up."""
    try:
        OrderRef.parse_staff(value)
    except InvalidInput as exc:
        raise UsageProblem(exc.message) from None
    return value


_USAGE_ERROR: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError"
)
"""Click's usage error, as the click Typer carries inside it (`typer.BadParameter`'s base)."""


def _option_arity(params: Iterable[Any]) -> dict[str, int]:
    """Each option name of a command (click parameters) -> how many words it takes."""
    arity: dict[str, int] = {}
    for param in params:
        if param.param_type_name == "option":
            takes = 0 if param.is_flag or param.count else param.nargs
            for name in (*param.opts, *param.secondary_opts):
                arity[name] = takes
    return arity


def numbers_as_arguments(
    args: Sequence[str], params: Iterable[Any], before_order: Iterable[str] = ()
) -> list[str]:
    """The words with the order number after `--` when it starts with `-`, so click
    does not take it for an option. A word is an option only when it is exactly one
    of the command's (or `--long=value`); any other word starting with `-` in the
    order's place (the first argument, or the one after a word of `before_order`)
    is the number. Unchanged when no such word was typed."""
    arity = _option_arity(params)
    leading = {word.lower() for word in before_order}
    options: list[str] = []
    arguments: list[str] = []
    moved = False
    words = iter(args)
    for word in words:
        if word == "--":
            arguments.extend(words)
            break
        name = word.split("=", 1)[0] if word.startswith("--") else word
        if name in arity:
            options.append(word)
            if name == word:
                for _ in range(arity[name]):
                    value = next(words, None)
                    if value is None:
                        return list(args)  # click says what is missing
                    options.append(value)
            continue
        if word.startswith("-") and len(word) > 1:
            if not all(a.lower() in leading for a in arguments):
                options.append(word)  # a mistyped option after the order: click names it
                continue
            moved = True
        arguments.append(word)
    return [*options, "--", *arguments] if moved else list(args)


class OrderCommand(TyperCommand):
    """A command that takes an order number: one starting with `-` needs no `--`."""

    before_order: tuple[str, ...] = ()

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        typed = list(args)
        rewritten = numbers_as_arguments(typed, self.get_params(ctx), self.before_order)
        try:
            return super().parse_args(ctx, rewritten)
        except _USAGE_ERROR as exc:
            hint = _dash_hint(ctx, typed, self.get_params(ctx))
            if hint:
                exc.message = f"{exc.message}\n{hint}"  # type: ignore[attr-defined]
            raise


def _dash_hint(ctx: Any, typed: list[str], params: Iterable[Any]) -> str:
    """When an order number is also an option's name (`-r`, `--json`), say what to type."""
    if "--" in typed:
        return ""
    arity = _option_arity(params)
    for word in typed:
        if word in arity:
            return (
                f"If {word} is the order number, put -- before it (after any options): "
                f"{ctx.command_path} -- {shlex.quote(word)}"
            )
    return ""


OrderArg = Annotated[
    str,
    typer.Argument(
        help="Order number, e.g. 1234, #1234, main:1234 or 2024/5001 (-17 too; "
        "a number that is an option of the command goes after --: -- --help).",
        metavar="ORDER",
        callback=checked_reference,
    ),
]


def order_label(label: str) -> str:
    """`order t82997` -> `Order t82997`: only the first letter changes case."""
    return label[:1].upper() + label[1:]


def parse_assignments(words: list[str]) -> dict[str, str]:
    """`name=ANA` `message=Love you` -> fields; a word without `=` is a usage error."""
    fields: dict[str, str] = {}
    for word in words:
        name, sep, value = word.partition("=")
        if not sep or not name.strip():
            raise UsageProblem(
                f"{word!r} is not FIELD=VALUE (for example: name=Ana, or "
                '"message=Happy birthday" in quotes when the value has spaces)'
            )
        if name.strip() in fields:
            raise UsageProblem(f"{name.strip()} is given twice")
        fields[name.strip()] = value
    return fields
