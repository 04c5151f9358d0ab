"""A line's design and its print file, recorded on the order.

A rendered revision becomes the line's print file and clears the line's render
problems; a refusal marks the file stale, remembers which design was refused
and sends the order back for design; a needs_design order whose lines all have
current files returns to the countdown. After submission, a design the
provider accepted is recorded with its new files. The rendering itself happens
outside any transaction (`podops.fulfillment.printfiles`); only its result
comes here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from podops import events
from podops.events import Actor, EventName
from podops.models import LineItem, Order
from podops.placed_files import files_of, placed_json, preview_at, stored_at
from podops.ports.render import RenderedFileLike
from podops.services.order_changes import apply, can_apply
from podops.status import Action, OrderStatus

RENDER_PROBLEM_PREFIX = "print file: "
"""How a line's render refusal is written in its problems ("print file: text too long")."""


def claim_revision(session: Session, item_id: int) -> int:
    """The revision number of the line's next render, handed out once: one more than
    any the line recorded or was given before. The UPDATE holds the line's row until
    the caller commits, so two workers (any host) never get the same number, and it
    costs the same whatever the render folder or bucket holds (no listing)."""
    claimed = LineItem.print_file_revisions_claimed
    recorded = LineItem.print_file_revision
    session.execute(
        update(LineItem)
        .where(LineItem.id == item_id)
        .values({claimed: case((claimed > recorded, claimed), else_=recorded) + 1})
        .execution_options(synchronize_session=False)
    )
    number = session.scalar(select(claimed).where(LineItem.id == item_id))
    if number is None:
        raise LookupError(f"no line item {item_id}")
    return int(number)


def record_print_file(
    session: Session, order: Order, item: LineItem, rendered: RenderedFileLike, actor: Actor
) -> None:
    """Make `rendered` the line's current print file, clear render problems, audit it."""
    item.print_file = stored_at(rendered)
    item.print_file_sha256 = rendered.sha256
    item.print_file_revision = rendered.revision
    item.print_file_current = True
    item.placed_files = placed_json(rendered)
    item.refused_design_sha256 = None
    item.preview_file = preview_at(rendered)
    _drop_render_problems(order, item)
    placements: dict[str, Any] = {"placements": [f["placement"] for f in item.placed_files]}
    events.record(
        session,
        order,
        actor,
        EventName.RENDER,
        line=item.reference,
        revision=rendered.revision,
        sha256=rendered.sha256[:12],
        size=f"{rendered.width_px}x{rendered.height_px} @ {rendered.dpi} dpi",
        **(placements if item.placed_files else {}),
    )


def record_render_refusal(
    session: Session,
    order: Order,
    item: LineItem,
    reason: str,
    actor: Actor,
    *,
    refused_design: str,
) -> None:
    """The renderer refused the line's design (`refused_design`: its fingerprint, not
    retried until it changes): the line's file is stale and the order needs design."""
    problem = RENDER_PROBLEM_PREFIX + reason
    item.print_file_current = False
    item.refused_design_sha256 = refused_design
    _drop_render_problems(order, item)
    line_problem = f"line {item.position}: {problem}"
    item.problems = [*item.problems, problem]
    order.problems = [*order.problems, line_problem]
    if can_apply(order, Action.FLAG_DESIGN):
        apply(session, order, Action.FLAG_DESIGN, actor, reason=line_problem)
    else:
        events.record(
            session, order, actor, EventName.RENDER_REFUSED, line=item.reference, reason=reason
        )


def record_render_failure(
    session: Session, order: Order, line: str, reason: str, actor: Actor
) -> None:
    """A render whose file the storage did not take: written on the order as a
    readiness problem (the countdown does not send it; cleared once a file is
    stored) with a `render_failed` event `podops status` lists; retried as is."""
    from podops.services.readiness import is_readiness_problem

    problem = f"line {line} print file: {reason}"
    if not is_readiness_problem(problem):  # the readiness module clears its own
        problem = f"line {line} print file: not stored"
    others = [
        p for p in order.problems if not (p.startswith(f"line {line} ") and is_readiness_problem(p))
    ]
    order.problems = [*others, problem]
    events.record(session, order, actor, EventName.RENDER_FAILED, line=line, reason=reason)


def relocate_files(
    session: Session,
    line_id: int,
    *,
    was: str,
    print_file: str,
    preview_file: str | None,
    placed_files: list[Any] | None,
) -> bool:
    """The line's same files, now kept elsewhere (`podops storage migrate`): written
    only if its print file is still `was` (a line re-rendered meanwhile keeps its new
    one). Not an event: what is printed did not change."""
    item = session.get(LineItem, line_id)
    if item is None or item.print_file != was:
        return False
    item.print_file = print_file
    if preview_file is not None:
        item.preview_file = preview_file
    if placed_files is not None:
        item.placed_files = placed_files
    return True


def release_design_hold(session: Session, order: Order, actor: Actor) -> None:
    """A needs_design order whose lines all have current files returns to the countdown
    (a held one stays held: its design is ready under the hold)."""
    status = OrderStatus(order.status)
    if status == OrderStatus.ON_HOLD and order.held_from:
        status = OrderStatus(order.held_from)
    if status != OrderStatus.NEEDS_DESIGN:
        return
    ready = all(
        item.print_file_current and item.personalization and not item.problems
        for item in order.items
    )
    if ready and not any(p.startswith("line ") for p in order.problems):
        apply(session, order, Action.DESIGN_READY, actor)


def _drop_render_problems(order: Order, item: LineItem) -> None:
    """Forget the line's earlier render refusal (a new render replaces it)."""
    item.problems = [p for p in item.problems if not p.startswith(RENDER_PROBLEM_PREFIX)]
    line = f"line {item.position}: {RENDER_PROBLEM_PREFIX}"
    order.problems = [p for p in order.problems if not p.startswith(line)]


@dataclass(frozen=True, slots=True)
class AcceptedEdit:
    """One line's new design, as the provider accepted it, with its rendered file."""

    item: LineItem
    before: dict[str, Any]
    after: dict[str, Any]
    rendered: RenderedFileLike
    images: dict[str, Any] | None = None
    """The line's new photo links, when the edit replaced a photo."""


def record_late_design(
    session: Session,
    order: Order,
    edits: list[AcceptedEdit],
    actor: Actor,
    *,
    provider: str,
    provider_status: str | None,
) -> None:
    """A submitted order's provider took the edited lines' new design: record each edit
    and its print file, then that the provider has the new files."""
    for edit in edits:
        edit.item.personalization = dict(edit.after)
        old, new = {k: edit.before.get(k) for k in edit.after}, dict(edit.after)
        if edit.images is not None:
            old.update({k: edit.item.image_urls.get(k) for k in edit.images})
            new.update(edit.images)
            edit.item.image_urls = dict(edit.images)
        events.edit_personalization(
            session,
            order,
            actor,
            line=edit.item.reference,
            old=old,
            new=new,
            after_submission=provider,
        )
        record_print_file(session, order, edit.item, edit.rendered, actor)
    events.design_replaced(
        session,
        order,
        actor,
        provider=provider,
        provider_status=provider_status,
        files=[Path(f.path).name for edit in edits for f in files_of(edit.item)],
    )
