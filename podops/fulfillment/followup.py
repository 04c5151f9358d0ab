"""After submission: polling tracking, provider callbacks, cancellation.

`ProviderFollowUp` is built once by the composition root (`runtime.follow_up`)
from the database and the provider roster, so Slack, the CLI, jobs and web
routes reach these verbs through that one object; the countdown
(`countdown.Submitter`) shares the roster, not the object. A staff
cancel of a submitted order is recorded by `services.cancel` (as
`cancel_requested`); the next `poll_tracking` asks the provider and records its
answer. Late design changes live in `late_design`. Provider calls happen
between transactions; what they report is applied by `fulfillment.tracking`
through the services.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from podops import services
from podops.db import Database
from podops.errors import ConcurrentModification, PodopsError
from podops.events import Actor
from podops.fulfillment.claim import order_by_provider_reference, provider_reference
from podops.fulfillment.roster import ProviderRoster
from podops.fulfillment.tracking import TRACKED_STATUSES, apply_provider_order
from podops.models import Order, utcnow
from podops.ports.fulfillment import FulfillmentProvider, ProviderOrder
from podops.status import OrderStatus

POLL_BATCH = 500


@dataclass(slots=True)
class PollReport:
    changed: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


class ProviderFollowUp:
    """The verbs after submission: poll providers, refresh one order, send cancels."""

    def __init__(
        self, db: Database, roster: ProviderRoster, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.db = db
        self.roster = roster
        self.clock = clock
        self.actor = Actor.system("fulfillment")

    def poll_tracking(self, limit: int = POLL_BATCH) -> PollReport:
        """Ask each provider about orders in flight; apply production, parcels, cancels.

        The `limit` orders asked longest ago go first, and each is stamped when
        asked, so with more orders in flight than one batch every order still
        gets its turn.
        """
        report = PollReport()
        for order_id, provider_name, reference, provider_id, status in self._in_flight(limit):
            try:
                if status == OrderStatus.CANCEL_REQUESTED and not provider_id:
                    self._cancel_unplaced(order_id, provider_name, reference)
                    continue
                provider = self.roster.provider(provider_name)
                if status == OrderStatus.CANCEL_REQUESTED:
                    self._send_cancel(order_id, provider, reference, provider_id)
                    continue
                remote = provider.get_status(provider_id, reference=reference)
            except PodopsError as exc:
                report.errors[reference] = exc.message
                continue
            finally:
                self._stamp_polled(order_id)
            changes = self._apply(order_id, remote)
            if changes:
                report.changed[reference] = changes
        return report

    def _stamp_polled(self, order_id: int) -> None:
        """Bookkeeping only: neither the order's version nor its change time moves."""
        with self.db.unit_of_work() as session:
            services.stamp_polled(session, order_id, self.clock())

    def _in_flight(self, limit: int) -> list[tuple[int, str, str, str, OrderStatus]]:
        polled = [n for n, p in self.roster.by_name.items() if not p.capabilities.tracking_by_staff]
        with self.db.unit_of_work() as session:
            query = (
                select(Order)
                .where(
                    Order.status.in_(TRACKED_STATUSES),
                    or_(
                        and_(Order.provider_order_id.is_not(None), Order.provider.in_(polled)),
                        and_(
                            Order.provider_order_id.is_(None),
                            Order.status == OrderStatus.CANCEL_REQUESTED,
                        ),
                    ),
                )
                .order_by(Order.last_polled_at.is_not(None), Order.last_polled_at, Order.id)
                .limit(limit)
                .options(selectinload(Order.store))
            )
            return [
                (
                    o.id,
                    o.provider or "",
                    provider_reference(o),
                    o.provider_order_id or "",
                    OrderStatus(o.status),
                )
                for o in session.scalars(query)
            ]

    def _apply(self, order_id: int, remote: ProviderOrder) -> list[str]:
        for _ in range(2):  # once more if someone changed the order meanwhile
            try:
                with self.db.unit_of_work() as session:
                    order = session.get(Order, order_id)
                    if order is None or OrderStatus(order.status) not in TRACKED_STATUSES:
                        return []
                    return apply_provider_order(session, order, remote, self.actor)
            except ConcurrentModification:
                continue
        return []

    def refresh(self, reference: str) -> list[str]:
        """Re-fetch one order from its provider (a callback said something changed)."""
        with self.db.unit_of_work() as session:
            order = order_by_provider_reference(session, reference)
            order_id, provider_name = order.id, order.provider
            provider_id = order.provider_order_id
        if not provider_id or provider_name is None:
            return []
        remote = self.roster.provider(provider_name).get_status(provider_id, reference=reference)
        return self._apply(order_id, remote)

    def _cancel_unplaced(self, order_id: int, provider_name: str | None, reference: str) -> None:
        """Cancel a failed order: if the provider has it after all, cancel it there too.

        A provider that cannot be asked now raises, and the next poll asks again.
        """
        provider = self.roster.by_name.get(provider_name or "")
        found = provider.find_by_reference(reference) if provider is not None else None
        with self.db.unit_of_work() as session:
            order = session.get(Order, order_id)
            if order is None or OrderStatus(order.status) != OrderStatus.CANCEL_REQUESTED:
                return
            if found is None:
                where = provider.name if provider is not None else "any provider"
                services.confirm_cancel(session, order, self.actor, f"never reached {where}")
                return
            services.record_found_at_provider(session, order, found, self.actor)
        if provider is not None:
            self._send_cancel(order_id, provider, reference, found.provider_order_id)

    def _send_cancel(
        self, order_id: int, provider: FulfillmentProvider, reference: str, provider_id: str
    ) -> None:
        outcome = provider.cancel(provider_id, reference=reference)
        with self.db.unit_of_work() as session:
            order = session.get(Order, order_id)
            if order is None or OrderStatus(order.status) != OrderStatus.CANCEL_REQUESTED:
                return
            if outcome.cancelled:
                services.confirm_cancel(session, order, self.actor, outcome.message)
            else:
                services.refuse_cancel(session, order, self.actor, outcome.message)
