"""Print files for line items: render when the design changes or before
submission, and hand each revision or refusal to the services that record it
(`podops.services.designs`: the file on its line, a refusal as design work).

Rendering takes about a second and may download a photo, so it runs outside
any transaction: read what to render, render, then record the result only if
the design did not change meanwhile (otherwise the newer edit renders again).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import exists, select

from podops import services
from podops.db import Database
from podops.errors import OrderLocked, RenderRefused, StorageUnavailable
from podops.events import Actor
from podops.fulfillment_status import TO_SEND
from podops.models import Fulfillment, LineItem, Order
from podops.photos import Crop, CropRefused, PhotoFit, crops_of
from podops.placed_files import preview_at, stored_at
from podops.ports.render import RenderedFileLike, Renderer
from podops.refs import OrderRef
from podops.services.design_gate import GOING_ON, design_may_change
from podops.services.fulfillments import lines_to_send
from podops.services.remakes import REMAKABLE, lines_to_remake
from podops.status import BEFORE_SUBMISSION, OrderStatus

log = logging.getLogger(__name__)

NEEDS_DESIGN_SCAN = 500  # needs_design orders looked at per pass (staff's queue: small)


@dataclass(frozen=True, slots=True)
class RenderOutcome:
    reference: str
    ok: bool
    preview_path: Path | None
    message: str
    path: Path | None = None
    """Where this host wrote it (with a bucket, gone once uploaded: use `location`)."""
    preview: str | None = None
    """Where the preview is kept for every host (queued for Slack by location)."""
    location: str | None = None
    """Where the print file is kept for every host (a path, or `s3://...`)."""


@dataclass(frozen=True, slots=True)
class _Job:
    item_id: int
    reference: str
    position: int
    product_key: str
    personalization: dict[str, Any]
    image_urls: dict[str, Any]
    crops: dict[str, Crop]


class PrintFiles:
    def __init__(self, db: Database, renderer: Renderer) -> None:
        self.db = db
        self.renderer = renderer

    def render_order(
        self, reference: str | OrderRef, actor: Actor, positions: list[int] | None = None
    ) -> list[RenderOutcome]:
        """Render the order's lines (all, or those at `positions`) as new revisions."""
        jobs, canonical = self._jobs(reference, positions, stale_only=False)
        return self._run(canonical, jobs, actor)

    def ensure_current(self, order_ref: str | OrderRef, actor: Actor | None = None) -> None:
        """Render every line lacking a current print file (before submission)."""
        jobs, canonical = self._jobs(order_ref, None, stale_only=True)
        if jobs:
            self._run(canonical, jobs, actor or Actor.system("renderer"))

    def stale_orders(self, limit: int = 50) -> list[OrderRef]:
        """Orders whose print files must be (re)made, oldest due first: those in the
        countdown, and held or needs_design orders whose design staff changed since
        the renderer refused it (an unchanged refused design is not retried)."""
        return [reference for _, reference in self.stale(limit)]

    def stale(self, limit: int = 50) -> list[tuple[int, OrderRef]]:
        """`stale_orders` with each order's id (what its render lease is named by)."""
        with self.db.unit_of_work() as session:
            # Status first (indexed, few open orders), then a correlated look at their
            # lines: scanning every line item of a year of orders cost 100+ ms a pass.
            lines = exists().where(
                LineItem.order_id == Order.id,
                LineItem.print_file_current.is_(False),
                LineItem.product_key != "",
            )
            stale = select(Order).where(lines).order_by(Order.submit_at, Order.id)
            waiting = stale.where(Order.status.in_([OrderStatus.PENDING, OrderStatus.ON_HOLD]))
            flagged = stale.where(Order.status == OrderStatus.NEEDS_DESIGN)
            found = [
                order
                for order in session.scalars(waiting.limit(limit))
                if order.status == OrderStatus.PENDING or any(_renderable(i) for i in order.items)
            ]
            found += [
                order
                for order in session.scalars(flagged.limit(NEEDS_DESIGN_SCAN))
                if any(_renderable(item) for item in order.items)
            ]
            # a split order going on, or a shipped one being remade, whose part not sent
            # yet had a line edited (the sheet saves the edit; this renders it)
            # Found from the few parts still to send (their status is indexed): read
            # from the orders' side, the shipped and completed history was scanned.
            behind = Order.id.in_(
                select(Fulfillment.order_id).where(Fulfillment.status.in_(TO_SEND))
            )
            later = stale.where(behind, Order.status.in_([*GOING_ON, *REMAKABLE]))
            found += [
                order
                for order in session.scalars(later.limit(limit))
                if any(_renderable(i) and _may_change(order, i) for i in order.items)
            ]
            found.sort(key=lambda o: (o.submit_at is None, o.submit_at, o.id))
            return [(o.id, OrderRef.of(o)) for o in found[:limit]]

    def _jobs(
        self, reference: str | OrderRef, positions: list[int] | None, *, stale_only: bool
    ) -> tuple[list[_Job], OrderRef]:
        with self.db.unit_of_work() as session:
            order = services.get_order(session, reference)
            unsent = _unsent(order)
            remade = set() if unsent is None else {i.position for i in lines_to_remake(order)}
            if unsent is not None and not unsent:
                if not remade:
                    raise OrderLocked(
                        f"{order.label} is {OrderStatus(order.status).label}; its print files "
                        "can no longer change"
                    )
                # a remake about to leave sends its lines' current print files
                positions = [p for p in positions or remade if p in remade]
            jobs = [
                _Job(
                    item.id,
                    item.reference,
                    item.position,
                    item.product_key,
                    dict(item.personalization),
                    dict(item.image_urls),
                    crops_of(item.photos),
                )
                for item in order.items
                if (positions is None or item.position in positions)
                and (unsent is None or item.id in unsent or item.position in remade)
                and not (stale_only and not _renderable(item))
            ]
            return jobs, OrderRef.of(order)

    def _run(self, canonical: OrderRef, jobs: list[_Job], actor: Actor) -> list[RenderOutcome]:
        outcomes = []
        for job in jobs:
            try:
                rendered = self.renderer.render_item(
                    canonical.print_name,
                    job.position,
                    job.product_key,
                    {k: str(v) for k, v in job.personalization.items()},
                    {k: str(v) for k, v in job.image_urls.items()},
                    crops=job.crops,
                    revision=self._claim_revision(job.item_id),
                )
            except RenderRefused as refusal:
                fits = refusal.fits if isinstance(refusal, CropRefused) else ()
                self._record_refusal(canonical, job, refusal.message, actor, fits)
                outcomes.append(RenderOutcome(job.reference, False, None, refusal.message))
                continue
            except StorageUnavailable as failure:
                message = f"not stored, will retry: {failure.message}"
                self._record_failure(canonical, job, message, actor)
                outcomes.append(RenderOutcome(job.reference, False, None, message))
                continue
            recorded = self._record(canonical, job, rendered, actor)
            outcomes.append(
                RenderOutcome(
                    job.reference,
                    recorded,
                    rendered.preview_path,
                    f"revision {rendered.revision}"
                    if recorded
                    else "the design changed while rendering; rendering again",
                    rendered.path,
                    preview_at(rendered),
                    stored_at(rendered),
                )
            )
        return outcomes

    def _record(self, canonical: OrderRef, job: _Job, rendered: Any, actor: Actor) -> bool:
        with self.db.unit_of_work() as session:
            order = services.get_order(session, canonical, for_update=True)
            item = session.get(LineItem, job.item_id)
            if item is None or not _may_change(order, item):
                return False
            if item.personalization != job.personalization or item.image_urls != job.image_urls:
                return False
            if crops_of(item.photos) != job.crops:
                return False
            services.record_print_file(session, order, item, rendered, actor)
            services.record_photo_fits(session, order, item, rendered.photos, actor)
            services.release_design_hold(session, order, actor)
        return True

    def render_detached(
        self,
        canonical: str,
        position: int,
        product_key: str,
        personalization: dict[str, Any],
        image_urls: dict[str, Any],
        crops: dict[str, Crop] | None = None,
    ) -> RenderedFileLike:
        """A new revision of a line's print file, not recorded on the line (for a design
        a provider must accept first); call outside a transaction. Raises RenderRefused.
        `canonical` is the order's staff reference with its store (`OrderRef.staff`),
        read back exactly (a number such as `#1001` keeps its `#`)."""
        reference = OrderRef.parse_pasted(canonical)
        with self.db.unit_of_work() as session:
            order = services.get_order(session, reference)
            item_id = next((i.id for i in order.items if i.position == position), None)
        return self.renderer.render_item(
            reference.print_name,
            position,
            product_key,
            {k: str(v) for k, v in personalization.items()},
            {k: str(v) for k, v in image_urls.items()},
            crops=crops or {},
            revision=None if item_id is None else self._claim_revision(item_id),
        )

    def _claim_revision(self, item_id: int) -> int:
        """The render's revision number, from the database in its own short
        transaction (`services.claim_revision`): the renderer lists nothing."""
        with self.db.unit_of_work() as session:
            return services.claim_revision(session, item_id)

    def _record_failure(self, canonical: OrderRef, job: _Job, reason: str, actor: Actor) -> None:
        """The storage did not take the file: the line keeps no new file (so nothing is
        sent with a link that does not work), the order says why, and the next pass
        (countdown, render-ahead) renders again: the design is not marked refused."""
        with self.db.unit_of_work() as session:
            order = services.get_order(session, canonical, for_update=True)
            services.record_render_failure(session, order, job.reference, reason, actor)
        log.warning("print file for %s not stored: %s", job.reference, reason)

    def _record_refusal(
        self,
        canonical: OrderRef,
        job: _Job,
        reason: str,
        actor: Actor,
        fits: tuple[PhotoFit, ...] = (),
    ) -> None:
        with self.db.unit_of_work() as session:
            order = services.get_order(session, canonical, for_update=True)
            item = session.get(LineItem, job.item_id)
            if item is None:
                return
            if fits and item.image_urls == job.image_urls:
                services.remember_photo_fits(item, fits)
            refused = design_fingerprint(
                job.product_key, job.personalization, job.image_urls, job.crops
            )
            services.record_render_refusal(
                session, order, item, reason, actor, refused_design=refused
            )
        log.info("render refused for %s: %s", job.reference, reason)


def design_fingerprint(
    product_key: str,
    personalization: dict[str, Any],
    image_urls: dict[str, Any],
    crops: dict[str, Crop] | None = None,
) -> str:
    """What a render depends on, as one hash (to tell a changed design from a retry).
    Crops count only when there are some, so designs refused before crops existed
    keep their fingerprint."""
    design: dict[str, Any] = {
        "product": product_key,
        "fields": personalization,
        "images": image_urls,
    }
    if crops:
        design["crops"] = {field: crop.to_json() for field, crop in sorted(crops.items())}
    return hashlib.sha256(json.dumps(design, sort_keys=True, default=str).encode()).hexdigest()


def _unsent(order: Order) -> set[int] | None:
    """Lines whose print file may still change: every line before submission (None);
    after it, only the lines no provider has yet (a split order's line routed late)."""
    if OrderStatus(order.status) in BEFORE_SUBMISSION:
        return None
    return {item.id for item in lines_to_send(order)}


def _may_change(order: Order, item: LineItem) -> bool:
    """Before submission every line's print file may change; after it, only the lines
    no provider has yet (a split order's failed part or line routed late) and those of
    a remake not sent yet (`services.design_gate`)."""
    return design_may_change(order, item)


def _renderable(item: LineItem) -> bool:
    """A line whose print file is missing or stale, routed to a product, and not the
    very design the renderer already refused."""
    if item.print_file and item.print_file_current:
        return False
    if not item.product_key:  # unrouted: already flagged
        return False
    refused = item.refused_design_sha256
    return refused is None or refused != design_fingerprint(
        item.product_key, item.personalization, item.image_urls, crops_of(item.photos)
    )
