"""Address verification before submission, for stores with `verify_addresses`.

The countdown asks `AddressChecks.run` before it claims due orders: each due
order of such a store whose current address has no verdict yet is checked with
the verifier (EasyPost) outside any transaction, a few at a time, and the
verdict recorded (`services.address_checks`). Claiming then takes only orders
whose address is `cleared`: verified, or sent as it is by a person. An address
that does not verify holds the order for staff with the carrier's reason; an
outage leaves it waiting and tried again with growing pauses (staff are told
after a few tries), so no order is lost or silently sent unchecked, and none is
blocked for good: a person can always send it (`podops submit`, or release it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from podops import services
from podops.address import ACCEPTED, FAILED, UNAVAILABLE, VERIFIED, digest, shown
from podops.db import Database
from podops.errors import ConcurrentModification, InvalidInput
from podops.events import Actor, Channel, EventName
from podops.fulfillment_status import FulfillmentKind, FulfillmentStatus
from podops.models import Event, Fulfillment, Order, Store, utcnow
from podops.ports.address import AddressServiceDown, AddressVerdict, AddressVerifier, PostalAddress
from podops.refs import OrderRef
from podops.services import address_checks as checks
from podops.services.remakes import REMAKABLE
from podops.services.submission import GOING_ON
from podops.status import OrderStatus

log = logging.getLogger(__name__)

BATCH = 200
WORKERS = 4


@dataclass(frozen=True, slots=True)
class _Due:
    order_id: int
    number: str
    digest: str
    address: PostalAddress
    later: bool = False
    """A part or a remake leaving after the order: no hold, a person sends it as it is
    with `podops submit`."""


@dataclass(frozen=True, slots=True)
class _Answer:
    verdict: AddressVerdict | None = None
    down: AddressServiceDown | None = None


class AddressChecks:
    """Checks the addresses of due orders of `stores` with `verifier` before they leave."""

    def __init__(
        self,
        db: Database,
        verifier: AddressVerifier,
        stores: Collection[str],
        *,
        clock: Callable[[], datetime] = utcnow,
        workers: int = WORKERS,
    ) -> None:
        self.db = db
        self.verifier = verifier
        self.stores = frozenset(stores)
        self.clock = clock
        self.workers = workers
        self.actor = Actor.system("fulfillment")

    def applies(self, order: Order) -> bool:
        return order.store.key in self.stores

    def cleared(self, order: Order) -> bool:
        """Whether the order's current address may leave (always, for other stores)."""
        if not self.applies(order):
            return True
        check = order.address_check or {}
        return check.get("digest") == digest(order.shipping_address) and check.get("state") in (
            VERIFIED,
            ACCEPTED,
        )

    def hold_back(self, session: Session, order: Order) -> None:
        """A due order about to be claimed whose address has no verdict: it waits."""
        checks.mark_unchecked(session, order, self.verifier.name, self.actor)

    def keeps_waiting(self, session: Session, order: Order) -> bool:
        """Whether a part or remake of `order` about to leave waits for the address check
        (a reship is a submission: the address the customer corrected is verified
        first); one with no verdict yet is marked so and checked next pass."""
        if self.cleared(order):
            return False
        check = order.address_check or {}
        if check.get("digest") != digest(order.shipping_address):
            self.hold_back(session, order)
        return True

    # The countdown's pass --------------------------------------------------------

    def run(self, now: datetime | None = None) -> list[tuple[str, str]]:
        """Check what is due; (order, why it waits) for each order left waiting."""
        now = now or self.clock()
        due = self._due(now)
        if not due:
            return []
        with ThreadPoolExecutor(self.workers, thread_name_prefix="address-check") as pool:
            answers = list(pool.map(self._ask, due))
        waiting = []
        for item, answer in zip(due, answers, strict=True):
            why = self._record(item, answer, self.actor, now)
            if why:
                waiting.append((item.number, why))
        return waiting

    def _due(self, now: datetime) -> list[_Due]:
        """Due orders of verifying stores whose current address needs a verdict, then
        orders with a part or a remake waiting to leave after them (a reship is a
        submission too); a failed address a person released is accepted here, without
        asking again (a part or remake left waiting: a person sends it, `podops submit`)."""
        if not self.stores:
            return []
        due: list[_Due] = []
        with self.db.unit_of_work() as session:
            # Plain columns of every due order (verified ones are skipped here, so a pile
            # of verified orders waiting for something else never hides a new one).
            query = (
                select(Order.id, Order.shipping_address, Order.address_check)
                .join(Store)
                .where(
                    Store.key.in_(sorted(self.stores)),
                    Order.status == OrderStatus.PENDING,
                    Order.submit_at <= now,
                )
                .order_by(Order.submit_at, Order.id)
            )
            rows = [(*row, False) for row in session.execute(query).all()]
            rows += [(*row, True) for row in session.execute(self._leaving_later()).all()]
            for order_id, address, check, later in rows:
                current, check = digest(address or {}), check or {}
                if check.get("digest") == current:
                    state = check.get("state")
                    if state in (VERIFIED, ACCEPTED) or (later and state == FAILED):
                        continue
                    if state == UNAVAILABLE and not _time_for(check, now):
                        continue
                order = session.get(Order, order_id)
                if order is None:
                    continue
                if check.get("digest") == current and check.get("state") == FAILED:
                    self._released_by_a_person(session, order, current)
                elif len(due) < BATCH:
                    due.append(_Due(order.id, order.number, current, postal(order), later))
        return due

    def _leaving_later(self):  # type: ignore[no-untyped-def]
        """Orders of verifying stores with a fulfillment waiting to go after the order
        left: a part sent again after a failure (or routed late), or a remake."""
        left_behind = and_(Fulfillment.kind == FulfillmentKind.ORDER, Order.status.in_(GOING_ON))
        remake = and_(Fulfillment.kind == FulfillmentKind.REMAKE, Order.status.in_(REMAKABLE))
        waiting = (
            select(Fulfillment.order_id)
            .join(Order, Fulfillment.order_id == Order.id)
            .where(Fulfillment.status == FulfillmentStatus.WAITING, or_(left_behind, remake))
        )
        return (
            select(Order.id, Order.shipping_address, Order.address_check)
            .join(Store)
            .where(Store.key.in_(sorted(self.stores)), Order.id.in_(waiting))
            .order_by(Order.id)
        )

    def _released_by_a_person(self, session: Session, order: Order, current: str) -> None:
        """Only a person releases the hold a failed check makes: they send it as it is."""
        release = session.scalars(
            select(Event)
            .where(Event.order_id == order.id, Event.action == EventName.RELEASE)
            .order_by(Event.id.desc())
            .limit(1)
        ).first()
        who = Actor(release.actor, Channel(release.channel)) if release else self.actor
        service = str((order.address_check or {}).get("service") or self.verifier.name)
        reason = "released after the address did not verify"
        checks.record_accepted(session, order, current, service, who, reason)

    def _ask(self, item: _Due) -> _Answer:
        try:
            return _Answer(verdict=self.verifier.verify(item.address))
        except AddressServiceDown as exc:
            return _Answer(down=exc)
        except Exception as exc:  # a bug in the adapter must not stop the countdown
            log.exception("address check of order %s failed", item.number)
            return _Answer(down=AddressServiceDown(f"{type(exc).__name__}", retryable=True))

    def _record(self, item: _Due, answer: _Answer, actor: Actor, now: datetime) -> str:
        """Store the verdict; the reason the order waits ('' when it may leave)."""
        service = self.verifier.name
        try:
            with self.db.unit_of_work() as session:
                order = session.get(Order, item.order_id)
                if order is None or digest(order.shipping_address) != item.digest:
                    return ""  # changed meanwhile: the new address is checked next time
                if answer.verdict is not None and answer.verdict.deliverable:
                    checks.record_verified(session, order, item.digest, service, actor)
                    return ""
                if answer.verdict is not None:
                    reason = answer.verdict.reason
                    checks.record_undeliverable(
                        session, order, item.digest, service, reason, actor, later=item.later
                    )
                    return f"address did not verify: {reason}"
                assert answer.down is not None
                checks.record_unavailable(
                    session,
                    order,
                    item.digest,
                    service,
                    answer.down.message,
                    actor,
                    retryable=answer.down.retryable,
                    now=now,
                )
                return f"address not checked yet: {answer.down.message}"
        except ConcurrentModification:
            return ""  # someone changed the order at that moment: checked again next pass

    # A person's "submit now" -------------------------------------------------------

    def before_submit_now(self, reference: OrderRef, actor: Actor) -> None:
        """Check the address of an order a person submits by hand. Not deliverable: held,
        and refused with the carrier's reason. No answer: the person's submit sends it
        unchecked (recorded), so an outage never blocks a person. A part or a remake
        leaving after the order cannot be held: once its address did not verify, the
        person's submit sends it as it is (recorded)."""
        with self.db.unit_of_work() as session:
            order = services.get_order(session, reference, for_update=True)
            if self.cleared(order):
                return
            current, check = digest(order.shipping_address), order.address_check or {}
            later = OrderStatus(order.status) in LATER
            if later and check.get("digest") == current and check.get("state") == FAILED:
                reason = f"sent as it is after it did not verify ({check.get('reason', '')})"
                service = str(check.get("service") or self.verifier.name)
                checks.record_accepted(session, order, current, service, actor, reason)
                return
            item = _Due(order.id, order.number, current, postal(order), later)
        answer = self._ask(item)
        if answer.verdict is not None:
            why = self._record(item, answer, actor, self.clock())
            if why and later:
                raise InvalidInput(
                    f"order {item.number} cannot be sent again yet: its {why} "
                    f"({self.verifier.name}); fix the address, or podops submit "
                    f"{item.number} again to send it as it is"
                )
            if why:
                raise InvalidInput(
                    f"order {item.number} cannot be submitted: its {why} ({self.verifier.name}); "
                    "it is on hold: fix the address, or release it to send it as it is"
                )
            return
        assert answer.down is not None
        with self.db.unit_of_work() as session:
            order = services.get_order(session, reference, for_update=True)
            reason = f"sent unchecked: {self.verifier.name} did not answer ({answer.down.message})"
            checks.record_accepted(
                session, order, digest(order.shipping_address), self.verifier.name, actor, reason
            )


LATER = frozenset({*GOING_ON, *REMAKABLE})
"""Orders whose waiting fulfillments leave after them (a part sent again, a remake)."""


def _time_for(check: dict[str, object], now: datetime) -> bool:
    next_at = check.get("next_at")
    if not isinstance(next_at, str):
        return True
    try:
        return datetime.fromisoformat(next_at) <= now
    except ValueError:
        return True


def postal(order: Order) -> PostalAddress:
    """The order's address as the verifier takes it."""
    fields = shown(order.shipping_address)
    return PostalAddress(
        name=fields["name"] or order.customer_name,
        company=fields["company"],
        line1=fields["line1"],
        line2=fields["line2"],
        city=fields["city"],
        state=fields["state"],
        postcode=fields["postcode"],
        country=fields["country"],
        phone=fields["phone"] or order.customer_phone,
    )
