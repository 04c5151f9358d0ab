"""Changing the design of an order a provider already has (ShineOn before production).

Most providers lock an order once it is submitted. Some (ShineOn while the
order waits: on hold, awaiting payment) still take a new design. The database
must never claim a design the provider does not have, so the new print files
are rendered first, aside, then sent, and only a design the provider accepted
is recorded (by `services.record_late_design`); a refusal (the provider
started production meanwhile) changes nothing but leaves the refused files
unused on disk. One change per order at a time (a lock in this process and a
lease across processes), so two people editing at once cannot leave the
provider with one design and podops another.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from podops import services
from podops.db import Database
from podops.errors import ConcurrentModification, OrderLocked, RenderRefused
from podops.events import Actor
from podops.fulfillment.claim import placed_links
from podops.fulfillment.followup import ProviderFollowUp
from podops.fulfillment.printfiles import PrintFiles
from podops.leases import singleton
from podops.models import Fulfillment, Order
from podops.photos import Crop, crops_of
from podops.placed_files import StoredFile, preview_at, stored_at
from podops.ports.fulfillment import (
    DEFAULT_PLACEMENT,
    FulfillmentProvider,
    PrintFileLinks,
    RequestItem,
)
from podops.ports.render import RenderedFileLike
from podops.refs import OrderRef
from podops.services.designs import AcceptedEdit
from podops.services.field_edits import FieldEdit, applied
from podops.services.orders import clean_fields, line_of
from podops.status import OrderStatus

Changes = Mapping[int, Mapping[str, str]] | Sequence[FieldEdit]
"""Checked edits, or plain text changes per line position."""


@dataclass(frozen=True, slots=True)
class LateDesignChange:
    """What was sent: the order, the provider that took it and the new previews."""

    number: str
    provider: str
    previews: list[str]
    """Where each new preview is kept (`podops.ports.storage` locations)."""


@dataclass(frozen=True, slots=True)
class _Proposal:
    position: int
    line: str
    product_key: str
    image_urls: dict[str, Any]
    before: dict[str, Any]
    after: dict[str, Any]
    photos_changed: bool = False
    crops: dict[str, Crop] = field(default_factory=dict)


def accepts_design_changes(
    follow_up: ProviderFollowUp, status: OrderStatus, provider: str | None
) -> bool:
    """Whether a submitted order may still get a new design from its provider."""
    adapters = follow_up.roster.by_name
    if status != OrderStatus.SUBMITTED or provider not in adapters:
        return False
    return adapters[provider].capabilities.accepts_design_changes


LEASE_TTL = timedelta(minutes=5)
_in_process: dict[int, threading.Lock] = {}
_in_process_guard = threading.Lock()


@contextmanager
def one_change_at_a_time(db: Database, order_id: int, label: str) -> Iterator[None]:
    """Hold the order's design-change lock, or refuse at once if someone else does."""
    busy = ConcurrentModification(
        f"another design change for {label} is being sent right now; try again in a moment"
    )
    with _in_process_guard:
        lock = _in_process.setdefault(order_id, threading.Lock())
    if not lock.acquire(blocking=False):
        raise busy
    try:
        with singleton(db, f"design-change:{order_id}", ttl=LEASE_TTL) as held:
            if not held:
                raise busy
            yield
    finally:
        lock.release()


def change_submitted_design(
    follow_up: ProviderFollowUp,
    print_files: PrintFiles,
    reference: str,
    changes: Changes,
    actor: Actor,
) -> LateDesignChange:
    """Render the edited lines, send the new design, record it once accepted.

    `changes`: checked edits (`FieldChecks.check`: template fields, photo links), or
    plain text changes per line position."""
    with follow_up.db.unit_of_work() as session:
        order = services.get_order(session, reference)
        order_id, label = order.id, order.label
    with one_change_at_a_time(follow_up.db, order_id, label):
        return _change(follow_up, print_files, reference, changes, actor)


def _change(
    follow_up: ProviderFollowUp,
    print_files: PrintFiles,
    reference: str,
    changes: Changes,
    actor: Actor,
) -> LateDesignChange:
    roster = follow_up.roster
    with follow_up.db.unit_of_work() as session:
        order = services.get_order(session, reference)
        part = _only_part(order)
        provider = roster.provider(part.provider)
        _check_changeable(order, part, provider)
        canonical = OrderRef.of(order)
        proposals = _proposals(order, changes)
        if not proposals:
            return LateDesignChange(order.number, provider.name, [])
        request = roster.request_for(part)
        provider_id = str(part.provider_order_id)
    rendered = {p.position: _render(print_files, canonical.staff, p) for p in proposals}
    by_line = {p.line: (p, rendered[p.position]) for p in proposals}
    items = tuple(
        _with_new_files(item, *by_line[item.line_reference], roster.links)
        if item.line_reference in by_line
        else item
        for item in request.items
    )
    remote = provider.update_design(provider_id, replace(request, items=items))
    with follow_up.db.unit_of_work() as session:
        order = services.get_order(session, canonical, for_update=True)
        edits = [
            AcceptedEdit(
                line_of(order, p.position),
                p.before,
                p.after,
                rendered[p.position],
                images=p.image_urls if p.photos_changed else None,
            )
            for p in proposals
        ]
        services.record_late_design(
            session, order, edits, actor, provider=provider.name, provider_status=remote.raw_status
        )
    return LateDesignChange(
        canonical.number,
        provider.name,
        [preview_at(rendered[p.position]) for p in proposals],
    )


def _with_new_files(
    item: RequestItem, proposal: _Proposal, rendered: RenderedFileLike, links: PrintFileLinks
) -> RequestItem:
    """The line as the provider gets it with its new design: every placement's new file."""
    files = [StoredFile(p.placement, stored_at(p)) for p in rendered.placements] or [
        StoredFile(DEFAULT_PLACEMENT, stored_at(rendered))
    ]
    return replace(
        item,
        print_file_url=links.url_for(stored_at(rendered)),
        personalization={k: str(v) for k, v in proposal.after.items()},
        placements=placed_links(files, links),
    )


def _only_part(order: Order) -> Fulfillment:
    """The one fulfillment a late design change goes to; a split order's design is
    locked (its lines are at several providers)."""
    parts = order.parts
    if len(parts) != 1:
        raise OrderLocked(
            f"{order.label} went to {order.provider or 'no provider'} as {len(parts)} "
            "fulfillments; its design can no longer change"
        )
    return parts[0]


def _check_changeable(order: Order, part: Fulfillment, provider: FulfillmentProvider) -> None:
    status = OrderStatus(order.status)
    if status != OrderStatus.SUBMITTED or not part.provider_order_id:
        raise OrderLocked(
            f"{order.label} is {status.label} at {part.provider}; its design can no longer change"
        )
    if not provider.capabilities.accepts_design_changes:
        raise OrderLocked(
            f"{order.label} was already sent to {provider.name}, which takes no design changes "
            "after submission; cancel it there and place it again to change the design"
        )


def _proposals(order: Order, changes: Changes) -> list[_Proposal]:
    proposals = []
    for edit in _as_edits(order, changes):
        item = line_of(order, edit.position)
        before, photos = dict(item.personalization), dict(item.image_urls)
        after, new_photos = applied(edit, before, photos)
        if after != before or new_photos != photos:
            proposals.append(
                _Proposal(
                    edit.position,
                    item.reference,
                    item.product_key,
                    new_photos,
                    before,
                    after,
                    photos_changed=new_photos != photos,
                    crops=crops_of(item.photos),
                )
            )
    return proposals


def _as_edits(order: Order, changes: Changes) -> list[FieldEdit]:
    """Checked edits as given, or plain text changes per line position."""
    if not isinstance(changes, Mapping):
        return sorted(changes, key=lambda edit: edit.position)
    return [
        FieldEdit(
            OrderRef.of(order),
            position,
            line_of(order, position).product_key,
            texts=clean_fields(dict(fields)),
        )
        for position, fields in sorted(changes.items())
    ]


def _render(print_files: PrintFiles, canonical: str, proposal: _Proposal) -> RenderedFileLike:
    try:
        return print_files.render_detached(
            canonical,
            proposal.position,
            proposal.product_key,
            proposal.after,
            proposal.image_urls,
            proposal.crops,
        )
    except RenderRefused as refusal:
        raise RenderRefused(
            f"line {proposal.line} could not be rendered, so nothing was sent: {refusal.message}"
        ) from refusal
