"""Checking what was typed on the command line before anything is looked up.

A mistyped argument is a usage error (exit 2, like a missing argument), not a
refusal of the business rules (exit 1): the operator fixes the command, not
the order. The checks run as Typer callbacks, so nothing touches the database.
"""

from __future__ import annotations

from typing import Annotated

import typer

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


OrderArg = Annotated[
    str,
    typer.Argument(
        help="Order number, e.g. 1234, #1234, main:1234 or 2024/5001.",
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
