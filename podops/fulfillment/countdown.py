"""The submission worker: the countdown, exactly-once submission, reconciliation.

Each order goes out in three steps: claim it (`submitting`, committed before
any outside call), call the provider (outside any transaction, bounded
concurrency and rate), record the answer in a new transaction. Orders left in
`submitting` by a crash are looked up at the provider by our reference before
anything is sent again, each as soon as its own claim is stale (a live worker
keeps the claims it is working on fresh: `keepalive`). The composition root builds one `Submitter`
(`runtime.submission`) that every channel calls for these verbs; it shares the
provider roster (`roster.ProviderRoster`) with what happens after submission:
tracking and cancellation (`followup.ProviderFollowUp`, `runtime.follow_up`)
and design changes (`late_design`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from podops import events, services
from podops.db import Database
from podops.errors import ConcurrentModification, InvalidInput, PodopsError
from podops.events import Actor, EventName
from podops.fulfillment.address_check import AddressChecks
from podops.fulfillment.attempt import Outcome, RetryPlan, place_once
from podops.fulfillment.claim import Claimed, due_query, lock_skipping
from podops.fulfillment.found_design import check_found_design
from podops.fulfillment.keepalive import ClaimKeeper
from podops.fulfillment.limits import LimitedProvider
from podops.fulfillment.outages import retry_after_outages
from podops.fulfillment.roster import ProviderRoster
from podops.models import Order, utcnow
from podops.ports.fulfillment import PrintFileSource
from podops.refs import OrderRef
from podops.services.provider_answers import record_design_resent, record_old_design_at_provider
from podops.services.readiness import (
    is_readiness_problem,
    needs_print_files,
    readiness_problems,
    set_readiness,
)
from podops.status import OrderStatus

log = logging.getLogger(__name__)

CLAIM_BATCH = 50
STUCK_AFTER = timedelta(minutes=1)
"""A claim not re-stamped for this long belongs to a dead (or very late) worker. A live
worker keeps the claims it is working on fresh (`keepalive`), so this can be short."""
KEEP_ALIVE_PASSES = 4
"""Claims are re-stamped this many times per stuck threshold."""


@dataclass(slots=True)
class TickReport:
    submitted: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    blocked: list[tuple[str, str]] = field(default_factory=list)
    reconciled: list[str] = field(default_factory=list)
    retried: list[str] = field(default_factory=list)
    handed_over: list[str] = field(default_factory=list)
    """Orders another worker took over before this one called the provider."""


class Submitter:
    """Sends due orders to their providers: the countdown, by hand, and after a crash."""

    def __init__(
        self,
        db: Database,
        roster: ProviderRoster,
        *,
        print_file_source: PrintFileSource | None = None,
        workers: int = 8,
        retry: RetryPlan = RetryPlan(),
        stuck_after: timedelta = STUCK_AFTER,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], None] = time.sleep,
        address_checks: AddressChecks | None = None,
    ) -> None:
        self.db = db
        self.roster = roster
        self.address_checks = address_checks
        """Address verification before submission (stores with `verify_addresses`)."""
        self.print_file_source = print_file_source
        self.workers = workers
        self.retry_plan = retry
        self.stuck_after = stuck_after
        self.clock = clock
        self.sleep = sleep
        self.actor = Actor.system("fulfillment")
        self.keeper = ClaimKeeper(
            db, stuck_after.total_seconds() / KEEP_ALIVE_PASSES, lambda: self.clock()
        )

    # The countdown -----------------------------------------------------------

    def tick(self, *, max_batches: int = 1000) -> TickReport:
        """One pass: reconcile stuck orders, prepare print files, submit what is due."""
        report = TickReport()
        report.reconciled.extend(self.reconcile_stuck())
        report.retried.extend(retry_after_outages(self.db, self.actor, self.clock()))
        if self.address_checks is not None:
            report.blocked.extend(self.address_checks.run(self.clock()))
        self._prepare_print_files(report)
        for _ in range(max_batches):
            claimed = self._claim_due(report)
            if not claimed:
                break
            self._deliver_all(claimed, report)
        return report

    def _claim_due(self, report: TickReport) -> list[Claimed]:
        claimed: list[Claimed] = []
        with self.db.unit_of_work() as session:
            query = lock_skipping(due_query(self.clock(), CLAIM_BATCH), session)
            for order in session.scalars(query):
                problems = readiness_problems(order, require_current=self._require_current)
                unmapped = self.roster.shipping_problem(order)
                if unmapped:
                    services.hold_for_shipping(session, order, unmapped, self.actor)
                    report.blocked.append((order.number, unmapped))
                elif problems:
                    set_readiness(session, order, problems, self.actor)
                    report.blocked.append((order.number, "; ".join(problems)))
                elif self.address_checks and not self.address_checks.cleared(order):
                    self.address_checks.hold_back(session, order)  # checked next pass
                elif order.provider not in self.roster.by_name:
                    self._fail_unconfigured(session, order, report)
                else:
                    claimed.append(self._begin(session, order, self.actor))
        return claimed

    def _fail_unconfigured(self, session: Session, order: Order, report: TickReport) -> None:
        reason = f"no provider named {order.provider!r} is configured; fix the config, then retry"
        services.begin_submit(session, order, self.actor, provider=order.provider or "none")
        services.mark_submit_failed(session, order, self.actor, reason=reason)
        report.failed.append((order.number, reason))

    @property
    def _require_current(self) -> bool:
        return self.print_file_source is not None

    def _begin(self, session: Session, order: Order, actor: Actor) -> Claimed:
        claim = self._claim_of(order)
        services.begin_submit(session, order, actor, provider=claim.provider)
        return claim

    def _claim_of(self, order: Order) -> Claimed:
        """Take the order's claim (a fresh token) and describe the call to make."""
        request = self.roster.request_for(order)
        return Claimed(
            order.id,
            request.reference,
            self.roster.provider(order.provider).name,
            request,
            earlier_attempts=order.submit_attempts,
            token=services.take_claim(order, self.clock()),
            files={item.reference: item.print_file or "" for item in order.items},
        )

    def _still_mine(self, claim: Claimed) -> bool:
        """Re-stamp the claim right before a provider call; False once it was taken over.

        A database that cannot answer counts as "not mine": nothing is sent, and
        the reconciler (which looks the order up first) finishes it later.
        """
        try:
            with self.db.unit_of_work() as session:
                return services.confirm_claim(session, claim.order_id, claim.token, self.clock())
        except PodopsError as exc:
            log.warning("%s: cannot confirm the claim: %s", claim.reference, exc.message)
            return False

    def _prepare_print_files(self, report: TickReport) -> None:
        """Ask the renderer for missing print files; clear problems it resolved."""
        with self.db.unit_of_work() as session:
            waiting = list(session.scalars(due_query(self.clock(), 500, blocked=True)))
            waiting += list(session.scalars(due_query(self.clock(), 500)))
            candidates = [
                (order.id, OrderRef.of(order))
                for order in waiting
                if all(is_readiness_problem(p) for p in order.problems)
                and (order.problems or needs_print_files(order))
            ]
        for order_id, ref in candidates:
            self._ensure_print_files(ref.staff)
            self._recheck(order_id, report)

    def _ensure_print_files(self, reference: str) -> None:
        if self.print_file_source is None:
            return
        try:
            self.print_file_source.ensure_current(reference)
        except PodopsError as exc:
            log.warning("print files for %s: %s", reference, exc.message)

    def _recheck(self, order_id: int, report: TickReport) -> None:
        try:
            with self.db.unit_of_work() as session:
                order = session.get(Order, order_id)
                if order is None or OrderStatus(order.status) != OrderStatus.PENDING:
                    return
                problems = readiness_problems(order, require_current=self._require_current)
                if set_readiness(session, order, problems, self.actor) and problems:
                    report.blocked.append((order.number, "; ".join(problems)))
        except ConcurrentModification:
            return

    # One order, by hand --------------------------------------------------------

    def submit_now(self, reference: str, actor: Actor) -> Order:
        """Submit one pending (or failed) order now, whatever its countdown says."""
        with self.db.unit_of_work() as session:
            order = services.get_order(session, reference, for_update=True)
            canonical = OrderRef.of(order)
            stale = needs_print_files(order)
        if stale:
            self._ensure_print_files(canonical.staff)
        if self.address_checks is not None:
            self.address_checks.before_submit_now(canonical, actor)
        with self.db.unit_of_work() as session:
            order = services.get_order(session, canonical, for_update=True)
            problems = readiness_problems(order, require_current=self._require_current)
            unmapped = self.roster.shipping_problem(order)
            if unmapped:
                problems.append(f"{unmapped} (set its speed: shipping=SPEED in the edit)")
            if problems:
                raise InvalidInput(f"{order.label} cannot be submitted: {'; '.join(problems)}")
            set_readiness(session, order, [], actor)
            claimed = self._begin(session, order, actor)
        self._deliver(claimed)
        with self.db.unit_of_work() as session:
            return services.get_order(session, canonical)

    def retry(self, reference: str, actor: Actor) -> Order:
        """A failed order goes back to the countdown (it leaves at the next tick if due)."""
        with self.db.unit_of_work() as session:
            order = services.get_order(session, reference, for_update=True)
            services.retry_submission(session, order, actor)
            return order

    # Provider calls and their outcome -----------------------------------------

    def _deliver_all(
        self, claimed: list[Claimed], report: TickReport, *, lookup_first: bool = False
    ) -> None:
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="submit") as pool:
            list(pool.map(lambda c: self._deliver(c, report, lookup_first=lookup_first), claimed))

    def _deliver(
        self, claim: Claimed, report: TickReport | None = None, *, lookup_first: bool = False
    ) -> None:
        """Call, then record the answer at once; the claim is kept alive meanwhile."""
        with self.keeper.holding(claim.token):
            outcome = self._call(claim, lookup_first=lookup_first)
            provider = self.roster.provider(claim.provider)
            outcome = check_found_design(self.db, provider, claim, outcome)
            self._finish(claim, outcome, report)

    def _call(self, claim: Claimed, *, lookup_first: bool = False) -> Outcome:
        """After an earlier failed attempt the order may exist already: look it up first."""
        lookup_first = lookup_first or claim.earlier_attempts > 0
        provider = self.roster.provider(claim.provider)
        return place_once(
            provider,
            claim.request,
            self.retry_plan,
            lookup_first=lookup_first,
            sleep=self.sleep,
            still_mine=lambda: self._still_mine(claim),
            turn=provider.slot if isinstance(provider, LimitedProvider) else nullcontext,
        )

    def _finish(self, claim: Claimed, outcome: Outcome, report: TickReport | None = None) -> None:
        """Record the provider's answer in a new transaction (the order is `submitting`)."""
        try:
            self._record(claim, outcome, report)
        except ConcurrentModification:  # a reconciler touched it meanwhile: read it again
            self._record(claim, outcome, report)

    def _record(self, claim: Claimed, outcome: Outcome, report: TickReport | None) -> None:
        number = claim.request.order_number
        if outcome.claim_lost:
            if report is not None:
                report.handed_over.append(number)
            return
        with self.db.unit_of_work() as session:
            order = session.get(Order, claim.order_id)
            if order is None or OrderStatus(order.status) != OrderStatus.SUBMITTING:
                return
            if order.claim_token != claim.token:  # taken over during the call: its owner records
                return
            services.drop_claim(order)
            if outcome.order is None:
                services.mark_submit_failed(
                    session, order, self.actor, reason=outcome.reason, retryable=outcome.retryable
                )
                if report is not None:
                    report.failed.append((number, outcome.reason))
                return
            remote = outcome.order
            services.mark_submitted(
                session,
                order,
                self.actor,
                provider_order_id=remote.provider_order_id,
                provider_status=remote.raw_status or remote.status.value,
            )
            if remote.documents:
                events.record(
                    session, order, self.actor, EventName.READY_TO_DOWNLOAD, **remote.documents
                )
            self._record_found_design(session, order, outcome)
            if report is not None:
                report.submitted.append(number)

    def _record_found_design(self, session: Session, order: Order, outcome: Outcome) -> None:
        status = outcome.order.raw_status if outcome.order is not None else ""
        if outcome.design_resent:
            record_design_resent(session, order, self.actor, list(outcome.design_resent), status)
        if outcome.old_design:
            record_old_design_at_provider(
                session, order, self.actor, list(outcome.old_design), outcome.old_design_reason
            )

    # Crash recovery ------------------------------------------------------------

    def reconcile_stuck(self, *, older_than: timedelta | None = None) -> list[str]:
        """Orders left `submitting`: find them at the provider, or send them once.

        Taking one gives it a new claim token, so the worker that claimed it
        first (slow, not dead) sees it lost the claim and no longer sends it.
        """
        cutoff = self.clock() - (self.stuck_after if older_than is None else older_than)
        claimed: list[Claimed] = []
        last_claimed = func.coalesce(Order.claimed_at, Order.updated_at)
        with self.db.unit_of_work() as session:
            query = (
                select(Order)
                .where(Order.status == OrderStatus.SUBMITTING, last_claimed <= cutoff)
                .order_by(last_claimed)
                .limit(CLAIM_BATCH)
            )
            query = query.options(selectinload(Order.items), selectinload(Order.store))
            for order in session.scalars(lock_skipping(query, session)):
                if order.provider not in self.roster.by_name:
                    log.error("%s: unknown provider %s", order.label, order.provider)
                    continue
                claimed.append(self._claim_of(order))  # other reconcilers now skip it
        self._deliver_all(claimed, TickReport(), lookup_first=True)
        return [claim.reference for claim in claimed]
