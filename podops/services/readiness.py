"""Whether a due order may leave: its print files, as problems written on the order.

A pending order whose countdown ran out is sent only when every line it sends
has a print file (a current one, when a renderer is configured) the renderer did not
object to (a photo under its minimum that nobody accepted): lines already
at a provider, and lines no rule routes (held), are not asked for one. What is missing is
written into the order's problems, in words staff see on the sheet and in
Slack, with a `submit_blocked` event; once the files exist the problems are
cleared with a `submit_unblocked` event. Other problems on the order are
left alone: only the ones this module writes are replaced.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy.orm import Session

from podops import events
from podops.events import Actor, EventName
from podops.models import LineItem, Order
from podops.services.designs import RENDER_PROBLEM_PREFIX
from podops.services.fulfillments import lines_to_send

_READINESS = re.compile(
    r"^line (?:\S+|.+-\d{2,}) (has no print file|print file is not current|print file: .*)$"
)
"""A line is named by its label, which holds the store's order number (`A 12-02`)."""


def is_readiness_problem(problem: object) -> bool:
    """Problems this module writes (and clears again once the print files exist)."""
    return isinstance(problem, str) and _READINESS.match(problem) is not None


def readiness_problems(
    order: Order, *, require_current: bool, lines: Iterable[LineItem] | None = None
) -> list[str]:
    """Why the order (`lines`: those lines) cannot leave yet, line by line (empty when
    it can); by default the lines its next claim sends."""
    found = []
    for item in lines_to_send(order) if lines is None else lines:
        if not item.print_file:
            found.append(f"line {item.reference} has no print file")
        elif require_current and not item.print_file_current:
            found.append(f"line {item.reference} print file is not current")
        elif refused := [p for p in item.problems if str(p).startswith(RENDER_PROBLEM_PREFIX)]:
            # a photo under its minimum nobody accepted (a split order's part sent late)
            found.append(f"line {item.reference} {refused[0]}")
    return found


def needs_print_files(order: Order) -> bool:
    return any(not item.print_file or not item.print_file_current for item in lines_to_send(order))


def set_readiness(session: Session, order: Order, problems: list[str], actor: Actor) -> bool:
    """Replace this module's problems on the order; write an event when they change."""
    others = [p for p in order.problems if not is_readiness_problem(p)]
    mine = [p for p in order.problems if is_readiness_problem(p)]
    if mine == problems:
        return False
    order.problems = [*others, *problems]
    if problems:
        events.record(session, order, actor, EventName.SUBMIT_BLOCKED, problems=problems)
    else:
        events.record(session, order, actor, EventName.SUBMIT_UNBLOCKED)
    return True
