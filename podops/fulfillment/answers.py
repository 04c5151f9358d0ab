"""Recording what a provider answered for one fulfillment (the countdown's third step).

In a new transaction, with the order's row locked (`services.lock_order`): the
fulfillment is submitted, or failed with the provider's words, and the order
takes the step its fulfillments call for. A provider that refused a variant as
out of stock (`Outcome.unavailable`) may send the lines elsewhere
(`fallback`): the new fulfillments are claimed in the same transaction and
handed back to the worker, which sends them at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from podops import events, services
from podops.db import Database
from podops.events import Actor, EventName
from podops.fulfillment.attempt import Outcome
from podops.fulfillment.claim import Claimed
from podops.fulfillment.fallback import fallback_moves
from podops.fulfillment.roster import ProviderRoster
from podops.fulfillment_status import FulfillmentKind, FulfillmentStatus
from podops.models import Fulfillment, Order
from podops.routing import ShopPolicy
from podops.services.provider_answers import record_design_resent, record_old_design_at_provider
from podops.services.submission import GOING_ON
from podops.status import OrderStatus


@dataclass(slots=True)
class TickReport:
    """What one countdown pass (or one order sent by hand) did, order by order."""

    submitted: list[str] = field(default_factory=list)
    """Orders that reached their providers (a split order once, when its last answer came)."""
    failed: list[tuple[str, str]] = field(default_factory=list)
    blocked: list[tuple[str, str]] = field(default_factory=list)
    reconciled: list[str] = field(default_factory=list)
    retried: list[str] = field(default_factory=list)
    handed_over: list[str] = field(default_factory=list)
    """Orders another worker took over before this one called the provider."""


class Answers:
    """Records each fulfillment's answer; `claim_of` claims a fallback's new ones."""

    def __init__(
        self,
        db: Database,
        roster: ProviderRoster,
        actor: Actor,
        policy: ShopPolicy | None,
        *,
        claim_of: Callable[[Fulfillment, int], Claimed],
    ) -> None:
        self.db = db
        self.roster = roster
        self.actor = actor
        self.policy = policy
        self.claim_of = claim_of

    def record(self, claim: Claimed, outcome: Outcome, report: TickReport | None) -> list[Claimed]:
        number = claim.request.order_number
        if outcome.claim_lost:
            if report is not None:
                report.handed_over.append(number)
            return []
        with self.db.unit_of_work() as session:
            order = services.lock_order(session, claim.order_id)
            part = session.get(Fulfillment, claim.fulfillment_id)
            if order is None or part is None or part.status != FulfillmentStatus.SUBMITTING:
                return []
            if part.claim_token != claim.token:  # taken over during the call: its owner records
                return []
            services.drop_claim(part)
            before = OrderStatus(order.status)
            if outcome.order is None:
                more = self._record_refusal(session, order, part, outcome, report)
                if report is not None and _reached(before, order):
                    report.submitted.append(number)
                return more
            remote = outcome.order
            services.mark_submitted(
                session,
                order,
                part,
                self.actor,
                provider_order_id=remote.provider_order_id,
                provider_status=remote.raw_status or remote.status.value,
                answer=remote,
            )
            if remote.documents:
                events.record(
                    session, order, self.actor, EventName.READY_TO_DOWNLOAD, **remote.documents
                )
            self._record_found_design(session, order, part, outcome)
            again = part.kind == FulfillmentKind.REMAKE
            if report is not None and (before in GOING_ON or again or _reached(before, order)):
                report.submitted.append(number)
        return []

    def _record_refusal(
        self,
        session: Session,
        order: Order,
        part: Fulfillment,
        outcome: Outcome,
        report: TickReport | None,
    ) -> list[Claimed]:
        """The provider refused (or could not be reached): the fulfillment fails, unless
        it refused a variant as out of stock and the lines can go elsewhere."""
        if (
            outcome.unavailable is not None
            and self.policy is not None
            and part.kind == FulfillmentKind.ORDER  # a remake goes where the original went
        ):
            moves = fallback_moves(
                self.policy, order, part, outcome.unavailable, self.roster.by_name
            )
            if moves is not None:
                reason = f"{part.provider} refused: {outcome.reason}"
                created = services.fall_back(session, order, part, moves, self.actor, reason=reason)
                return [self.claim_of(new, 0) for new in created]
        services.mark_submit_failed(
            session, order, part, self.actor, reason=outcome.reason, retryable=outcome.retryable
        )
        if report is not None:
            report.failed.append((order.number, for_part(part, outcome.reason)))
        return []

    def _record_found_design(
        self, session: Session, order: Order, part: Fulfillment, outcome: Outcome
    ) -> None:
        status = outcome.order.raw_status if outcome.order is not None else ""
        if outcome.design_resent:
            record_design_resent(
                session, order, part, self.actor, list(outcome.design_resent), status
            )
        if outcome.old_design:
            record_old_design_at_provider(
                session,
                order,
                part,
                self.actor,
                list(outcome.old_design),
                outcome.old_design_reason,
            )


def _reached(before: OrderStatus, order: Order) -> bool:
    """The order's last answer just came and one of its fulfillments is at a provider."""
    return before == OrderStatus.SUBMITTING and OrderStatus(order.status) == OrderStatus.SUBMITTED


def for_part(part: Fulfillment, reason: str) -> str:
    """A reason, naming the fulfillment when its order has several."""
    if len(part.order.fulfillments) > 1:
        return f"{part.label} ({part.provider}): {reason}"
    return reason
