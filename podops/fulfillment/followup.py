"""After submission: polling tracking, provider callbacks, cancellation.

`ProviderFollowUp` is built once by the composition root (`runtime.follow_up`)
from the database and the provider roster, so Slack, the CLI, jobs and web
routes reach these verbs through that one object; the countdown
(`countdown.Submitter`) shares the roster, not the object. Everything here is
per fulfillment: each is polled at its own provider by its own reference. A
staff cancel of a submitted order is recorded by `services.cancel` (each
fulfillment `cancel_requested`); the next `poll_tracking` asks each provider
and records its answer; the order is cancelled once every one is. Late design
changes live in `late_design`. Provider calls happen between transactions;
what they report is applied by `fulfillment.tracking` through the services.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload

from podops import services
from podops.db import Database
from podops.errors import ConcurrentModification, PodopsError
from podops.events import Actor
from podops.fulfillment.roster import ProviderRoster
from podops.fulfillment.tracking import apply_provider_order
from podops.fulfillment_status import TRACKED, FulfillmentStatus
from podops.models import Fulfillment, Order, utcnow
from podops.ports.fulfillment import FulfillmentProvider, ProviderOrder

POLL_BATCH = 500


@dataclass(slots=True)
class PollReport:
    changed: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


class ProviderFollowUp:
    """The verbs after submission: poll providers, refresh one fulfillment, send cancels."""

    def __init__(
        self, db: Database, roster: ProviderRoster, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.db = db
        self.roster = roster
        self.clock = clock
        self.actor = Actor.system("fulfillment")

    def poll_tracking(self, limit: int = POLL_BATCH) -> PollReport:
        """Ask each provider about the fulfillments it has; apply production, parcels,
        cancels (a split order's fulfillments are asked of their own providers).

        The `limit` fulfillments asked longest ago go first, and each is stamped
        when asked, so with more in flight than one batch every one still gets its
        turn.
        """
        report = PollReport()
        for asked in self._in_flight(limit):
            try:
                if asked.status == FulfillmentStatus.CANCEL_REQUESTED and not asked.provider_id:
                    self._cancel_unplaced(asked)
                    continue
                provider = self.roster.provider(asked.provider)
                if asked.status == FulfillmentStatus.CANCEL_REQUESTED:
                    self._send_cancel(asked.id, provider, asked.reference, asked.provider_id)
                    continue
                remote = provider.get_status(asked.provider_id, reference=asked.reference)
            except PodopsError as exc:
                report.errors[asked.reference] = exc.message
                continue
            finally:
                self._stamp_polled(asked.id)
            changes = self._apply(asked.id, remote)
            if changes:
                report.changed[asked.reference] = changes
        return report

    def _stamp_polled(self, fulfillment_id: int) -> None:
        """Bookkeeping only: neither the fulfillment's version nor its change time moves."""
        with self.db.unit_of_work() as session:
            services.stamp_polled(session, fulfillment_id, self.clock())

    def _in_flight(self, limit: int) -> list[_Asked]:
        polled = [n for n, p in self.roster.by_name.items() if not p.capabilities.tracking_by_staff]
        with self.db.unit_of_work() as session:
            query = (
                select(Fulfillment)
                .where(
                    Fulfillment.status.in_(TRACKED),
                    or_(
                        and_(
                            Fulfillment.provider_order_id.is_not(None),
                            Fulfillment.provider.in_(polled),
                        ),
                        and_(
                            Fulfillment.provider_order_id.is_(None),
                            Fulfillment.status == FulfillmentStatus.CANCEL_REQUESTED,
                        ),
                    ),
                )
                .order_by(
                    Fulfillment.last_polled_at.is_not(None),
                    Fulfillment.last_polled_at,
                    Fulfillment.id,
                )
                .limit(limit)
                .options(selectinload(Fulfillment.order).selectinload(Order.store))
            )
            return [
                _Asked(
                    f.id,
                    f.provider,
                    f.reference,
                    f.provider_order_id or "",
                    FulfillmentStatus(f.status),
                )
                for f in session.scalars(query)
            ]

    def _apply(self, fulfillment_id: int, remote: ProviderOrder) -> list[str]:
        for _ in range(2):  # once more if someone changed the order meanwhile
            try:
                with self.db.unit_of_work() as session:
                    part = self._locked(session, fulfillment_id)
                    if part is None or part.status not in TRACKED:
                        return []
                    return apply_provider_order(session, part.order, part, remote, self.actor)
            except ConcurrentModification:
                continue
        return []

    @staticmethod
    def _locked(session: Session, fulfillment_id: int) -> Fulfillment | None:
        """The fulfillment, its order's row locked first (see `services.lock_order`)."""
        order_id = session.scalar(
            select(Fulfillment.order_id).where(Fulfillment.id == fulfillment_id)
        )
        if order_id is None or services.lock_order(session, order_id) is None:
            return None
        return session.get(Fulfillment, fulfillment_id)

    def refresh(self, reference: str, *, provider: str | None = None) -> list[str]:
        """Re-fetch one fulfillment from its provider (a callback said something changed);
        with `provider`, only if the fulfillment went to that provider (a delivery
        verified as one provider's never makes podops ask another)."""
        with self.db.unit_of_work() as session:
            part = services.fulfillment_by_reference(session, reference)
            part_id, provider_name = part.id, part.provider
            provider_id = part.provider_order_id
        if not provider_id or (provider is not None and provider != provider_name):
            return []
        remote = self.roster.provider(provider_name).get_status(provider_id, reference=reference)
        return self._apply(part_id, remote)

    def _cancel_unplaced(self, asked: _Asked) -> None:
        """Cancel a failed fulfillment: if the provider has it after all, cancel it there
        too. A provider that cannot be asked now raises, and the next poll asks again."""
        provider = self.roster.by_name.get(asked.provider)
        found = provider.find_by_reference(asked.reference) if provider is not None else None
        with self.db.unit_of_work() as session:
            part = self._locked(session, asked.id)
            if part is None or part.status != FulfillmentStatus.CANCEL_REQUESTED:
                return
            if found is None:
                where = provider.name if provider is not None else "any provider"
                services.confirm_cancel(
                    session, part.order, part, self.actor, f"never reached {where}"
                )
                return
            services.record_found_at_provider(session, part.order, part, found, self.actor)
        if provider is not None:
            self._send_cancel(asked.id, provider, asked.reference, found.provider_order_id)

    def _send_cancel(
        self, part_id: int, provider: FulfillmentProvider, reference: str, provider_id: str
    ) -> None:
        outcome = provider.cancel(provider_id, reference=reference)
        with self.db.unit_of_work() as session:
            part = self._locked(session, part_id)
            if part is None or part.status != FulfillmentStatus.CANCEL_REQUESTED:
                return
            if outcome.cancelled:
                services.confirm_cancel(session, part.order, part, self.actor, outcome.message)
            else:
                services.refuse_cancel(session, part.order, part, self.actor, outcome.message)


@dataclass(frozen=True, slots=True)
class _Asked:
    """One fulfillment to ask its provider about, read before the call."""

    id: int
    provider: str
    reference: str
    provider_id: str
    status: FulfillmentStatus
