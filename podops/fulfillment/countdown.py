"""The submission worker: the countdown, exactly-once submission, reconciliation.

Each order goes out in three steps: claim it (`submitting`, committed before
any outside call) with one fulfillment per provider its lines go to, call each
provider (outside any transaction, bounded concurrency and rate), record each
answer in a new transaction. Fulfillments left in `submitting` by a crash are
looked up at their provider by their own reference before anything is sent
again, each as soon as its own claim is stale (a live worker keeps the claims it
is working on fresh: `keepalive`). A fulfillment an order left behind (it
failed while the others went on, then was retried) goes on its own. The
composition root builds one `Submitter` (`runtime.submission`) that every
channel calls for these verbs; it shares the provider roster
(`roster.ProviderRoster`) with what happens after submission: tracking and
cancellation (`followup.ProviderFollowUp`, `runtime.follow_up`) and design
changes (`late_design`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime, timedelta
from functools import cached_property

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, selectinload

from podops import services
from podops.db import Database
from podops.errors import ConcurrentModification, InvalidInput, PodopsError
from podops.events import Actor
from podops.fulfillment.address_check import AddressChecks
from podops.fulfillment.answers import Answers, TickReport, for_part
from podops.fulfillment.attempt import Outcome, RetryPlan, finish_found, place_once
from podops.fulfillment.claim import (
    ORDER_LOADED,
    Claimed,
    due_query,
    left_behind_query,
    lock_skipping,
    remakes_query,
)
from podops.fulfillment.found_design import check_found_design
from podops.fulfillment.keepalive import ClaimKeeper
from podops.fulfillment.limits import LimitedProvider
from podops.fulfillment.outages import retry_after_outages
from podops.fulfillment.roster import ProviderRoster
from podops.fulfillment_status import TO_SEND, FulfillmentStatus
from podops.leases import singleton
from podops.models import Fulfillment, LineItem, Order, utcnow
from podops.ports.fulfillment import PrintFileSource
from podops.refs import OrderRef
from podops.routing import Route, ShopPolicy
from podops.services.fulfillments import held_lines, order_parts
from podops.services.orders import hold_order
from podops.services.readiness import (
    is_readiness_problem,
    needs_print_files,
    readiness_problems,
    set_readiness,
)
from podops.services.remakes import REMAKABLE, waiting_remakes
from podops.services.submission import GOING_ON
from podops.status import Action, OrderStatus, transition

log = logging.getLogger(__name__)

CLAIM_BATCH = 50
SHARED_CLAIM_BATCH = 8
STUCK_AFTER = timedelta(minutes=1)
"""A claim not re-stamped for this long belongs to a dead (or very late) worker. A live
worker keeps the claims it is working on fresh (`keepalive`), so this can be short."""
KEEP_ALIVE_PASSES = 4
"""Claims are re-stamped this many times per stuck threshold."""
NOTHING_ROUTED = "no line of this order can be routed"
CHECKS_LEASE = "fulfillment.countdown.checks"
SUBMIT_NOW_WAIT_S = 10.0
"""How long "submit now" waits for another worker rendering the order (a render takes
a second or two a line): a person asked and waits for the answer (Slack's bot has
acknowledged already), so a short wait that ends in "sent" beats a refusal."""
LEASE_POLL_S = 0.25
"""On PostgreSQL every worker runs the countdown; what is not claim-protected (outage
retries, address verification) runs under this lease, on one worker at a time."""


class HeldHere:
    """Orders a thread of this process is rendering: the render lease on one host."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: set[int] = set()

    @contextmanager
    def hold(self, order_id: int) -> Iterator[bool]:
        with self._lock:
            mine = order_id not in self._held
            self._held.add(order_id)
        try:
            yield mine
        finally:
            if mine:
                with self._lock:
                    self._held.discard(order_id)


class Submitter:
    """Sends due orders to their providers: the countdown, by hand, and after a crash."""

    def __init__(
        self,
        db: Database,
        roster: ProviderRoster,
        *,
        policy: ShopPolicy | None = None,
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
        self.policy = policy
        """Routing: lines no rule placed at receipt are routed again when they leave (the
        config may have gained a rule), and out-of-stock fallbacks follow its rules."""
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
        self.answers = Answers(db, roster, self.actor, policy, claim_of=self._claim_of)
        self._rendering_here = HeldHere()

    # The countdown -----------------------------------------------------------

    @property
    def spread(self) -> bool:
        """Whether every worker runs the countdown at once (PostgreSQL): due orders are
        claimed `FOR UPDATE SKIP LOCKED` a few at a time, so each worker takes disjoint
        ones, and print files are rendered under a per-order lease. On SQLite (one host)
        the countdown is a singleton job, as before."""
        return self.db.dialect == "postgresql"

    def tick(self, *, max_batches: int = 1000) -> TickReport:
        """One pass: reconcile stuck orders, prepare print files, submit what is due."""
        report = TickReport()
        report.reconciled.extend(self.reconcile_stuck())
        with self._one_worker(CHECKS_LEASE) as mine:
            if mine:
                report.retried.extend(retry_after_outages(self.db, self.actor, self.clock()))
                if self.address_checks is not None:
                    report.blocked.extend(self.address_checks.run(self.clock()))
        elsewhere = self._prepare_print_files(report) | self._prepare_remake_files()
        for _ in range(max_batches):
            claimed = self._claim_due(report, elsewhere)
            if not claimed:
                break
            self._deliver_all(claimed, report)
        return report

    def render_lease(self, order_id: int) -> AbstractContextManager[bool]:
        """Whether this worker may render the order's print files now (False: another
        is making them; go on to the next order). Every pass that renders ahead of
        submission takes it, the countdown and `fulfillment.render_ahead` alike, so an
        order is never rendered twice at once: on PostgreSQL an advisory lock per order
        shared by every process; on one host a lock per order in this process, where
        those jobs run in threads side by side."""
        if self.spread:
            return self._one_worker(f"print-files:{order_id}")
        return self._rendering_here.hold(order_id)

    def _one_worker(self, name: str) -> AbstractContextManager[bool]:
        """Whether this worker may do `name` now: always on one host; on PostgreSQL, under
        an advisory lock other workers skip (they go on with the rest of the pass)."""
        return singleton(self.db, f"{name}@{self._scope}") if self.spread else nullcontext(True)

    @cached_property
    def _scope(self) -> str:
        """The database and schema: shops (or test runs) sharing a PostgreSQL server
        in schemas of their own do not wait on each other's leases."""
        with self.db.reading() as session:
            return str(session.scalar(text("SELECT current_database() || '.' || current_schema()")))

    @property
    def claim_batch(self) -> int:
        """Orders claimed at a time: when every worker claims, a few (twice what the
        pool sends at once, at least `SHARED_CLAIM_BATCH`), so the due orders are shared
        out instead of one worker taking fifty while the others find none; fifty on
        one host."""
        if not self.spread:
            return CLAIM_BATCH
        return min(CLAIM_BATCH, max(SHARED_CLAIM_BATCH, 2 * self.workers))

    def _claim_due(
        self, report: TickReport, elsewhere: frozenset[int] = frozenset()
    ) -> list[Claimed]:
        """Claim a batch of due orders (and fulfillments left behind, remakes);
        `elsewhere`: orders another worker was rendering this pass, left to it (it
        claims them once rendered), not said to be blocked."""
        chosen: list[Fulfillment] = []
        batch = self.claim_batch
        with self.db.unit_of_work() as session:
            due = due_query(self.clock(), batch)
            if elsewhere:
                due = due.where(Order.id.not_in(elsewhere))
            for order in session.scalars(lock_skipping(due, session)):
                if self._waits_for_shipping_or_address(session, order, report):
                    continue
                chosen += self._claim_order(session, order, self.actor, report)
            behind = lock_skipping(left_behind_query(batch), session, of=Fulfillment)
            with session.no_autoflush:  # the batch so far is flushed once, in `_claims`
                left = list(session.scalars(behind))
                again = lock_skipping(remakes_query(batch), session, of=Fulfillment)
                left += list(session.scalars(again))  # remakes: no countdown, they go now
            for part in left:
                if part.order_id in elsewhere:
                    continue
                checks = self.address_checks
                if checks is not None and checks.keeps_waiting(session, part.order):
                    continue  # its address is verified first, as the order's was
                chosen += self._claim_parts(session, part.order, [part], self.actor, report)
            return self._claims(session, chosen)

    def _waits_for_shipping_or_address(
        self, session: Session, order: Order, report: TickReport
    ) -> bool:
        """Hold an order whose speed no table maps; keep back one whose address is being
        verified (it is checked next pass). True when the order does not leave now."""
        unmapped = self.roster.shipping_problem(order)
        if unmapped:
            services.hold_for_shipping(session, order, unmapped, self.actor)
            report.blocked.append((order.number, unmapped))
            return True
        if self.address_checks and not self.address_checks.cleared(order):
            self.address_checks.hold_back(session, order)
            return True
        return False

    def _claims(self, session: Session, parts: list[Fulfillment]) -> list[Claimed]:
        """Their claims: tokens stamped, then one flush for the batch (new fulfillments
        are inserted with their token and get their ids)."""
        tokens = [services.take_claim(part, self.clock()) for part in parts]
        session.flush()
        return [
            self._claim_of(part, part.submit_attempts - 1, token)
            for part, token in zip(parts, tokens, strict=True)
        ]

    def _claim_order(
        self, session: Session, order: Order, actor: Actor, report: TickReport
    ) -> list[Fulfillment]:
        """Plan the order's fulfillments and claim them; an order none of whose lines
        can be routed is held for staff with the reason."""
        parts = self._plan(session, order, actor)
        if parts:
            return self._claim_parts(session, order, parts, actor, report)
        reason = self._unrouted_reason(order)
        hold_order(session, order, actor, reason)
        report.blocked.append((order.number, reason))
        return []

    def _plan(self, session: Session, order: Order, actor: Actor) -> list[Fulfillment]:
        services.route_lines(session, order, self._router(order), actor)
        return services.plan_fulfillments(session, order)

    def _router(self, order: Order) -> Callable[[LineItem], Route | None] | None:
        policy = self.policy
        if policy is None:
            return None
        store, country = order.store.key, str(order.shipping_address.get("country") or "")

        def route(item: LineItem) -> Route | None:
            found = policy.route(store, item.sku, country)
            return found if found.matched else None

        return route

    @staticmethod
    def _unrouted_reason(order: Order) -> str:
        held = held_lines(order)
        why = "; ".join(
            f"line {item.reference}: {problem}" for item in held for problem in item.problems
        )
        return f"{NOTHING_ROUTED}: {why}" if why else NOTHING_ROUTED

    def _claim_parts(
        self,
        session: Session,
        order: Order,
        parts: list[Fulfillment],
        actor: Actor,
        report: TickReport,
    ) -> list[Fulfillment]:
        """Move `parts` to `submitting` when their lines have print files (their claims
        are taken once the batch is flushed: `_claims`); a part whose provider is not
        configured fails at once with the reason."""
        lines = [line.line_item for part in parts for line in part.lines]
        problems = readiness_problems(order, require_current=self._require_current, lines=lines)
        set_readiness(session, order, problems, actor)
        if problems:
            report.blocked.append((order.number, "; ".join(problems)))
            return []
        known = [p for p in parts if p.provider in self.roster.by_name]
        services.begin_submit(session, order, parts, actor)
        for part in parts:
            if part.provider not in self.roster.by_name:
                reason = (
                    f"no provider named {part.provider!r} is configured; fix the config, then retry"
                )
                services.mark_submit_failed(session, order, part, actor, reason=reason)
                report.failed.append((order.number, for_part(part, reason)))
        return known

    @property
    def _require_current(self) -> bool:
        return self.print_file_source is not None

    def _claim_of(self, part: Fulfillment, earlier_attempts: int, token: str = "") -> Claimed:
        """Take the fulfillment's claim (a fresh token, unless stamped already) and
        describe the call to make."""
        request = self.roster.request_for(part)
        return Claimed(
            part.order_id,
            part.id,
            request.reference,
            self.roster.provider(part.provider).name,
            request,
            earlier_attempts=earlier_attempts,
            token=token or services.take_claim(part, self.clock()),
            files={
                line.line_item.reference: line.line_item.print_file or "" for line in part.lines
            },
        )

    def _still_mine(self, claim: Claimed) -> bool:
        """Re-stamp the claim right before a provider call; False once it was taken over.

        A database that cannot answer counts as "not mine": nothing is sent, and
        the reconciler (which looks the fulfillment up first) finishes it later.
        """
        try:
            with self.db.unit_of_work() as session:
                return services.confirm_claim(
                    session, claim.fulfillment_id, claim.token, self.clock()
                )
        except PodopsError as exc:
            log.warning("%s: cannot confirm the claim: %s", claim.reference, exc.message)
            return False

    def _prepare_print_files(self, report: TickReport) -> frozenset[int]:
        """Ask the renderer for missing print files; clear problems it resolved. With
        several workers, each order is rendered by the one that takes its lease (the
        others go on to the next), so the renders are shared out, none made twice.
        Returns the orders another worker was rendering."""
        with self.db.unit_of_work() as session:
            waiting = list(session.scalars(due_query(self.clock(), 500, blocked=True)))
            waiting += list(session.scalars(due_query(self.clock(), 500)))
            candidates = [
                (order.id, OrderRef.of(order), needs_print_files(order))
                for order in waiting
                if all(is_readiness_problem(p) for p in order.problems)
                and (order.problems or needs_print_files(order))
            ]
        elsewhere = set()
        for order_id, ref, renders in candidates:
            if not renders or self.print_file_source is None:
                self._recheck(order_id, report)
                continue
            with self.render_lease(order_id) as mine:
                if not mine:  # another worker renders it now
                    elsewhere.add(order_id)
                    continue
                self._ensure_print_files(ref)
                self._recheck(order_id, report)
        return frozenset(elsewhere)

    def _prepare_remake_files(self) -> frozenset[int]:
        """A remake sends its lines' current print files: stale ones are rendered again.
        Returns the orders another worker was rendering."""
        with self.db.unit_of_work() as session:
            stale = {
                part.order_id: OrderRef.of(part.order)
                for part in session.scalars(remakes_query(CLAIM_BATCH))
                if any(
                    not line.line_item.print_file or not line.line_item.print_file_current
                    for line in part.lines
                )
            }
        elsewhere = set()
        for order_id, reference in sorted(stale.items()):
            with self.render_lease(order_id) as mine:
                if mine:
                    self._ensure_print_files(reference)
                else:
                    elsewhere.add(order_id)
        return frozenset(elsewhere)

    def _ensure_print_files(self, reference: OrderRef) -> None:
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
        """Submit one pending (or failed) order now, whatever its countdown says; an
        order going on without one of its fulfillments sends that one."""
        with self.db.unit_of_work() as session:  # lines routed since are sent too
            order = services.get_order(session, reference, for_update=True)
            canonical, order_id = OrderRef.of(order), order.id
            remaking = OrderStatus(order.status) in REMAKABLE and bool(waiting_remakes(order))
            if not remaking and OrderStatus(order.status) not in GOING_ON:  # refused at once
                transition(OrderStatus(order.status), Action.BEGIN_SUBMIT, order_label=order.label)
            stale = False if remaking else self._route_now(session, order, actor)
        if remaking:  # a shipped order's remakes, then a part of its own left behind
            sent = self._send_remakes_now(order_id, canonical, actor)
            with self.db.unit_of_work() as session:
                order = services.get_order(session, canonical, for_update=True)
                if not _own_part_waits(order):
                    return sent
                stale = self._route_now(session, order, actor)
        if stale:
            self._render_by_hand(order_id, canonical)
        if self.address_checks is not None:
            self.address_checks.before_submit_now(canonical, actor)
        report = TickReport()
        with self.db.unit_of_work() as session:
            order = services.get_order(session, canonical, for_update=True)
            status = OrderStatus(order.status)
            if status not in GOING_ON:
                transition(status, Action.BEGIN_SUBMIT, order_label=order.label)
            parts = self._plan(session, order, actor)
            if not parts and status in GOING_ON:
                transition(status, Action.BEGIN_SUBMIT, order_label=order.label)
            if not parts:
                raise InvalidInput(
                    f"{order.label} cannot be submitted: {self._unrouted_reason(order)}"
                )
            lines = [line.line_item for part in parts for line in part.lines]
            problems = readiness_problems(order, require_current=self._require_current, lines=lines)
            unmapped = self.roster.shipping_problem(order)
            if unmapped:
                problems.append(f"{unmapped} (set its speed: shipping=SPEED in the edit)")
            if problems:
                raise InvalidInput(f"{order.label} cannot be submitted: {'; '.join(problems)}")
            claimed = self._claims(session, self._claim_parts(session, order, parts, actor, report))
        self._deliver_all(claimed, report)
        with self.db.unit_of_work() as session:
            return services.get_order(session, canonical)

    def _render_by_hand(self, order_id: int, canonical: OrderRef) -> None:
        """Make the order's stale print files for a person's "submit now", under the
        render lease like every other render ahead of submission. Another worker
        rendering it now is waited for, up to SUBMIT_NOW_WAIT_S (its files are then
        usually current and nothing is rendered again); still busy after that: a
        refusal that says so, and nothing is sent with files about to change."""
        polls = max(1, round(SUBMIT_NOW_WAIT_S / LEASE_POLL_S))
        for attempt in range(polls + 1):
            with self.render_lease(order_id) as mine:
                if mine:
                    self._ensure_print_files(canonical)
                    return
            if attempt < polls:
                self.sleep(LEASE_POLL_S)
        raise ConcurrentModification(
            f"Order {canonical.number} was not sent: another worker is making its print "
            "files right now. Submit it again in a minute."
        )

    def _route_now(self, session: Session, order: Order, actor: Actor) -> bool:
        """Route the lines a rule places since (they are sent too); whether print files
        must be made first."""
        services.route_lines(session, order, self._router(order), actor)
        return needs_print_files(order)

    def _send_remakes_now(self, order_id: int, canonical: OrderRef, actor: Actor) -> Order:
        """A shipped order's remakes waiting to go, sent now by a person: after the same
        address check as any submission (an address that did not verify goes as it
        is: the person saw the carrier's reason)."""
        self._render_by_hand(order_id, canonical)
        if self.address_checks is not None:
            self.address_checks.before_submit_now(canonical, actor)
        report = TickReport()
        with self.db.unit_of_work() as session:
            order = services.get_order(session, canonical, for_update=True)
            parts = waiting_remakes(order)
            claimed = self._claims(session, self._claim_parts(session, order, parts, actor, report))
        self._deliver_all(claimed, report)
        with self.db.unit_of_work() as session:
            return services.get_order(session, canonical)

    def retry(self, reference: str, actor: Actor) -> Order:
        """A failed order goes back to the countdown (it leaves at the next tick if due);
        a failed fulfillment of an order going on is sent again at the next tick."""
        with self.db.unit_of_work() as session:
            order = services.get_order(session, reference, for_update=True)
            services.retry_submission(session, order, actor)
            return order

    # Provider calls and their outcome -----------------------------------------

    def _deliver_all(
        self, claimed: list[Claimed], report: TickReport, *, lookup_first: bool = False
    ) -> None:
        if len(claimed) == 1:  # staff waiting on one order: no pool to start
            self._deliver(claimed[0], report, lookup_first=lookup_first)
            return
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="submit") as pool:
            list(pool.map(lambda c: self._deliver(c, report, lookup_first=lookup_first), claimed))

    def _deliver(
        self, claim: Claimed, report: TickReport | None = None, *, lookup_first: bool = False
    ) -> None:
        """Call, then record the answer at once; the claim is kept alive meanwhile. A
        fallback's new fulfillments (out of stock) are sent right after, by this worker."""
        with self.keeper.holding(claim.token):
            outcome = self._call(claim, lookup_first=lookup_first)
            provider = self.roster.provider(claim.provider)
            outcome = check_found_design(self.db, provider, claim, outcome)
            outcome = finish_found(provider, claim.request, outcome)
            more = self._finish(claim, outcome, report)
        for follow in more:
            self._deliver(follow, report)

    def _call(self, claim: Claimed, *, lookup_first: bool = False) -> Outcome:
        """After an earlier failed attempt it may exist already: look it up first."""
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

    def _finish(
        self, claim: Claimed, outcome: Outcome, report: TickReport | None = None
    ) -> list[Claimed]:
        """Record the provider's answer in a new transaction (it is `submitting`)."""
        try:
            return self.answers.record(claim, outcome, report)
        except ConcurrentModification:  # a reconciler touched it meanwhile: read it again
            return self.answers.record(claim, outcome, report)

    # Crash recovery ------------------------------------------------------------

    def reconcile_stuck(self, *, older_than: timedelta | None = None) -> list[str]:
        """Fulfillments left `submitting`: find them at the provider, or send them once.

        Taking one gives it a new claim token, so the worker that claimed it
        first (slow, not dead) sees it lost the claim and no longer sends it.
        """
        cutoff = self.clock() - (self.stuck_after if older_than is None else older_than)
        claimed: list[Claimed] = []
        last_claimed = func.coalesce(Fulfillment.claimed_at, Fulfillment.updated_at)
        with self.db.unit_of_work() as session:
            query = (
                select(Fulfillment)
                .where(Fulfillment.status == FulfillmentStatus.SUBMITTING, last_claimed <= cutoff)
                .order_by(last_claimed)
                .limit(self.claim_batch)
                .options(selectinload(Fulfillment.order).options(*ORDER_LOADED))
            )
            for part in session.scalars(lock_skipping(query, session, of=Fulfillment)):
                if part.provider not in self.roster.by_name:
                    log.error("%s: unknown provider %s", part.reference, part.provider)
                    continue
                # other reconcilers now skip it
                claimed.append(self._claim_of(part, part.submit_attempts))
        self._deliver_all(claimed, TickReport(), lookup_first=True)
        return [claim.reference for claim in claimed]


def _own_part_waits(order: Order) -> bool:
    """Whether an order going on has a fulfillment of its own lines still to send
    (failed, or its line routed since): `submit` sends it after the remakes."""
    return OrderStatus(order.status) in GOING_ON and any(
        part.status in TO_SEND for part in order_parts(order)
    )
