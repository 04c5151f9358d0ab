"""Changing the shipping address of an order, wherever it is.

One desk for every channel (CLI, Slack form, sheet): before submission the
change is checked against the order's provider (`podops.address`) and applied
in one transaction (`services.change_address`); once a provider has the order,
the new address goes to the provider first (outside any transaction) and only
an address the provider took is recorded, so podops never claims an address
the parcel will not go to. A provider whose API has no address change refuses
with words saying where staff change it ("order 1234 is already at CustomCat:
change the address there").

A change made in the shop after submission arrives as an outbox message
(`Topic.PROVIDER_ADDRESS`, queued by `services.address.follow_store_address`)
that `ProviderAddressHandler` sends the same way, with the outbox's retries.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from podops import services
from podops.address import AddressChange, check_change, normalized, shown
from podops.db import Database
from podops.errors import ConcurrentModification, OrderLocked, ProviderError
from podops.events import Actor, Channel
from podops.fulfillment.roster import ProviderRoster
from podops.fulfillment_status import FulfillmentStatus
from podops.leases import singleton
from podops.models import Fulfillment, Order
from podops.outbox import Deferred, DrainReport, Envelope, OutboxDispatcher, Progress, Topic
from podops.ports.fulfillment import FulfillmentProvider, SubmitRequest
from podops.refs import OrderRef
from podops.services.address import (
    changeable_here,
    record_provider_address,
    refuse_shop_address,
    refuse_unless_changeable,
    take_shop_address,
)
from podops.status import OrderStatus

AT_PROVIDER_CHANGEABLE = frozenset({OrderStatus.SUBMITTED, OrderStatus.IN_PRODUCTION})
"""Statuses in which a provider may still take a new address (it decides)."""
LEASE_TTL = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class AddressOutcome:
    """What a change did, for the person who asked."""

    number: str
    changed: dict[str, tuple[str, str]]
    provider: str | None = None
    """The provider that took the new address (the order was already there)."""
    status: OrderStatus = OrderStatus.PENDING

    @property
    def words(self) -> str:
        if not self.changed:
            return f"Nothing changed on the address of order {self.number}."
        fields = "; ".join(f"{n} {a!r} -> {b!r}" for n, (a, b) in self.changed.items())
        where = f" and sent it to {self.provider}" if self.provider else ""
        return f"Changed the address of order {self.number}{where}: {fields}."


@dataclass(frozen=True, slots=True)
class _SplitPlan:
    """A split order's address change, checked, and the provider calls that send it."""

    order: OrderRef
    number: str
    status: OrderStatus
    change: AddressChange
    calls: list[tuple[FulfillmentProvider, str, SubmitRequest]]


@dataclass(frozen=True, slots=True)
class AddressRoute:
    """Where a change of an order's address goes, as a form needs to know it."""

    address: dict[str, Any]
    needs: frozenset[str]
    provider: str | None = None
    """The provider the change is sent to (None: changed here, before submission)."""
    refusal: str = ""
    """Why it cannot change at all ("" when it can)."""
    owner: str = "the provider"
    """The order's provider, named in refusals ("address.postcode cannot be empty: cc needs it")."""


class AddressDesk:
    """Address changes for staff (all channels) and for the shop after submission."""

    def __init__(self, db: Database, roster: ProviderRoster) -> None:
        self.db = db
        self.roster = roster
        self._locks: dict[int, threading.Lock] = {}
        self._guard = threading.Lock()

    def needs(self, provider: str | None) -> frozenset[str]:
        """Address fields the order's provider needs (beyond name, street, city, country)."""
        adapter = self.roster.by_name.get(provider or "")
        return adapter.capabilities.address_required if adapter is not None else frozenset()

    def route(self, order: Order) -> AddressRoute:
        """Here, through the provider, or refused with the reason (no outside call)."""
        address, needs = dict(order.shipping_address), self.needs(order.provider)
        owner = order.provider or "the provider"
        if changeable_here(order):
            return AddressRoute(address, needs, owner=owner)
        if _at_provider(order) and len(order.parts) > 1:
            refusal, sent = self._split_refusal(order), _sent_parts(order)
            needs = self._split_needs(order)
            names = ", ".join(dict.fromkeys(p.provider for p in sent)) or None
            return AddressRoute(address, needs, None if refusal else names, refusal, owner)
        adapter = self.roster.by_name.get(order.provider or "")
        if _at_provider(order) and adapter is not None:
            if adapter.capabilities.accepts_address_changes:
                return AddressRoute(address, needs, adapter.name, owner=owner)
            refusal = (
                f"order {order.number} is already at {adapter.name}: change the address there "
                f"({adapter.name} takes no address change through its API)"
            )
            return AddressRoute(address, needs, adapter.name, refusal, owner)
        try:
            refuse_unless_changeable(order)
        except (OrderLocked, ConcurrentModification) as exc:
            return AddressRoute(address, needs, refusal=exc.message, owner=owner)
        return AddressRoute(address, needs, refusal=f"{order.label} has no provider order")

    def _split_refusal(self, order: Order) -> str:
        return split_refusal(self.roster, order)

    def _split_needs(self, order: Order) -> frozenset[str]:
        """Address fields any provider of a split order's parts needs (sent or not)."""
        return frozenset().union(*(self.needs(p.provider) for p in order.parts))

    def change_in(
        self, session: Session, reference: str | OrderRef, typed: Mapping[str, str], actor: Actor
    ) -> AddressChange:
        """A change before submission inside the caller's transaction (the Slack form saves
        the address and the personalization together)."""
        order = services.get_order(session, reference, for_update=True)
        return services.change_address(
            session, reference, typed, actor, provider_needs=self.needs(order.provider)
        )

    def change(
        self, reference: str | OrderRef, typed: Mapping[str, str], actor: Actor
    ) -> AddressOutcome:
        """Change the address: here before submission, through the provider after it."""
        with self.db.unit_of_work() as session:
            order = services.get_order(session, reference, for_update=True)
            if not _at_provider(order):
                change = self.change_in(session, reference, typed, actor)
                return AddressOutcome(order.number, change.changed, None, OrderStatus(order.status))
            order_id, label = order.id, order.label
        with self._one_at_a_time(order_id, label):
            return self._change_at_provider(reference, typed, actor)

    def _change_at_provider(
        self, reference: str | OrderRef, typed: Mapping[str, str], actor: Actor
    ) -> AddressOutcome:
        with self.db.unit_of_work() as session:
            order = services.get_order(session, reference)
            if not _at_provider(order):
                refuse_unless_changeable(order)  # it moved on meanwhile (shipped...)
            split = self._plan_split(order, typed) if len(order.parts) > 1 else None
        if split is not None:
            return self._change_split(split, typed, actor)
        with self.db.unit_of_work() as session:
            order = services.get_order(session, reference)
            provider = self.roster.provider(order.provider)
            change = check_change(
                order.shipping_address,
                typed,
                provider_needs=provider.capabilities.address_required,
                provider=provider.name,
            )
            if change.empty:
                return AddressOutcome(order.number, {}, None, OrderStatus(order.status))
            part = _only_part(order)
            request = with_address(self.roster.request_for(part), change.address)
            canonical, provider_id = OrderRef.of(order), str(part.provider_order_id)
        provider.update_address(provider_id, request)  # OrderLocked: said where to change it
        with self.db.unit_of_work() as session:
            order = services.get_order(session, canonical, for_update=True)
            change = check_change(order.shipping_address, typed, provider=provider.name)
            services.set_address(session, order, change, actor, after_submission=provider.name)
            return AddressOutcome(order.number, change.changed, provider.name, order.status)

    def _plan_split(self, order: Order, typed: Mapping[str, str]) -> _SplitPlan:
        """A split order's change, checked, and the calls that send it: every provider
        that has a part must take it through its API; the parts not sent yet (a failed
        one, a line routed late) leave with the stored address, so they follow."""
        refusal = self._split_refusal(order)
        if refusal:
            raise OrderLocked(refusal)
        names = ", ".join(dict.fromkeys(p.provider for p in order.parts))
        change = check_change(
            order.shipping_address, typed, provider_needs=self._split_needs(order), provider=names
        )
        calls = [
            (
                self.roster.provider(part.provider),
                str(part.provider_order_id),
                with_address(self.roster.request_for(part), change.address),
            )
            for part in _sent_parts(order)
        ]
        return _SplitPlan(
            OrderRef.of(order), order.number, OrderStatus(order.status), change, calls
        )

    def _change_split(
        self, plan: _SplitPlan, typed: Mapping[str, str], actor: Actor
    ) -> AddressOutcome:
        """Send the new address to each provider (outside any transaction), then record it."""
        if plan.change.empty:
            return AddressOutcome(plan.number, {}, None, plan.status)
        took: list[str] = []
        for provider, provider_id, request in plan.calls:
            try:
                provider.update_address(provider_id, request)
            except (OrderLocked, ProviderError) as exc:
                if not took:
                    raise
                # a provider already has the new address: podops records it, says where not
                self._record(plan.order, typed, actor, ", ".join(took))
                raise OrderLocked(
                    f"{', '.join(took)} took the new address of order {plan.number}, but "
                    f"{provider.name} refused it: {exc.message}; change it there"
                ) from exc
            took.append(provider.name)
        return self._record(plan.order, typed, actor, ", ".join(took) or None)

    def _record(
        self, canonical: OrderRef, typed: Mapping[str, str], actor: Actor, took: str | None
    ) -> AddressOutcome:
        with self.db.unit_of_work() as session:
            order = services.get_order(session, canonical, for_update=True)
            change = check_change(order.shipping_address, typed, provider=took or "podops")
            services.set_address(session, order, change, actor, after_submission=took)
            return AddressOutcome(order.number, change.changed, took, order.status)

    @contextmanager
    def _one_at_a_time(self, order_id: int, label: str) -> Iterator[None]:
        """Two people sending an address to the provider at once: the second waits its turn
        or is told to try again, so the provider and podops never disagree."""
        busy = ConcurrentModification(
            f"another address change for {label} is being sent right now; try again in a moment"
        )
        with self._guard:
            lock = self._locks.setdefault(order_id, threading.Lock())
        if not lock.acquire(timeout=30):
            raise busy
        try:
            with singleton(self.db, f"address-change:{order_id}", ttl=LEASE_TTL) as held:
                if not held:
                    raise busy
                yield
        finally:
            lock.release()

    def drain(self, limit: int = 50) -> DrainReport:
        """Send the shop's changes of orders a provider has (the job `fulfillment.addresses`)."""
        handlers = {Topic.PROVIDER_ADDRESS.value: ProviderAddressHandler(self.roster)}
        return OutboxDispatcher(self.db, handlers).drain(limit)


def _only_part(order: Order) -> Fulfillment:
    """The one fulfillment an address change after submission goes to (an order sent
    to several providers is refused: its address is changed at each of them)."""
    if len(order.parts) != 1:
        raise OrderLocked(
            f"order {order.number} went to several providers ({order.provider}): change the "
            "address at each of them"
        )
    return order.parts[0]


SPLIT_CHANGEABLE = frozenset(
    {
        FulfillmentStatus.WAITING,
        FulfillmentStatus.SUBMIT_FAILED,
        FulfillmentStatus.SUBMITTED,
        FulfillmentStatus.IN_PRODUCTION,
    }
)
"""A split order's parts whose address may still change: not sent yet (they leave with
the new one), or at a provider that may still take it (it decides)."""


def split_refusal(roster: ProviderRoster, order: Order) -> str:
    """Why a split order's address cannot change through its providers ('' when every
    provider that has a part takes an address change through its API)."""
    status = {p.provider: FulfillmentStatus(p.status) for p in order.parts}
    moving = [name for name, st in status.items() if st not in SPLIT_CHANGEABLE]
    if moving:
        return (
            f"order {order.number} went to several providers ({order.provider}) and its "
            f"part at {', '.join(moving)} is "
            f"{', '.join(status[name].label for name in moving)}: its address can no "
            "longer change"
        )
    sent = _sent_parts(order)
    adapters = [roster.by_name.get(p.provider) for p in sent]
    lacking = [
        p.provider
        for p, adapter in zip(sent, adapters, strict=True)
        if adapter is None or not adapter.capabilities.accepts_address_changes
    ]
    if not lacking:
        return ""
    takes = "take" if len(lacking) > 1 else "takes"
    return (
        f"order {order.number} went to several providers ({order.provider}) and "
        f"{', '.join(lacking)} {takes} no address change through its API: change the "
        "address there, at each provider that has a part"
    )


def _sent_parts(order: Order) -> list[Fulfillment]:
    """A split order's parts a provider has (the others leave with the stored address)."""
    at = {FulfillmentStatus.SUBMITTED, FulfillmentStatus.IN_PRODUCTION}
    return [p for p in order.parts if p.provider_order_id and p.status in at]


def _at_provider(order: Order) -> bool:
    status = OrderStatus(order.status)
    return status in AT_PROVIDER_CHANGEABLE and bool(order.provider_order_id)


def with_address(request: SubmitRequest, address: Mapping[str, Any]) -> SubmitRequest:
    """The order's request with another shipping address (and its phone)."""
    text = {str(k): str(v or "") for k, v in address.items()}
    phone = shown(text)["phone"] or request.phone
    return replace(request, address=text, phone=phone)


@dataclass(frozen=True, slots=True)
class _Plan:
    """What to do with the shop's address: `provider`, `local` or `refuse`."""

    kind: str
    order_id: int
    address: dict[str, str]
    provider: str = ""
    """The providers the address goes to (`cc`, or `so, pf` for a split order)."""
    calls: tuple[tuple[str, str, SubmitRequest], ...] = ()
    """(provider, its order id, the request with the new address) per part at a provider."""
    reason: str = ""


class ProviderAddressHandler:
    """`Topic.PROVIDER_ADDRESS`: the shop changed the address of an order a provider has."""

    def __init__(self, roster: ProviderRoster) -> None:
        self.roster = roster

    def prepare(self, session: Session, message: Envelope) -> _Plan | None:
        order = session.get(Order, int(message.payload["order_id"]))
        address = {str(k): str(v) for k, v in message.payload["address"].items()}
        if order is None or normalized(order.store_address or {}) != normalized(address):
            return None  # a newer change from the shop replaced this one
        if normalized(order.shipping_address) == normalized(address):
            return None  # already there
        status = OrderStatus(order.status)
        if status == OrderStatus.SUBMITTING:
            raise Deferred(f"{order.label} is being sent to its provider; the address follows")
        if changeable_here(order):
            return _Plan("local", order.id, address)
        if not _at_provider(order):
            reason = f"{order.label} is {status.label}; the provider keeps the old address"
            return _Plan("refuse", order.id, address, reason=reason)
        if len(order.parts) > 1:  # a split order: every provider with a part, or none
            refusal = split_refusal(self.roster, order)
            if refusal:
                return _Plan("refuse", order.id, address, reason=refusal)
        calls = tuple(
            (
                self.roster.provider(part.provider).name,
                str(part.provider_order_id),
                with_address(self.roster.request_for(part), address),
            )
            for part in (_sent_parts(order) if len(order.parts) > 1 else [_only_part(order)])
        )
        names = ", ".join(dict.fromkeys(name for name, _, _ in calls))
        return _Plan("provider", order.id, address, names, calls)

    def send(self, plan: _Plan, progress: Progress) -> str:
        """'' when the provider took it, else its refusal in words."""
        if plan.kind != "provider" or not plan.calls:
            return plan.reason
        took: list[str] = []
        for name, provider_order_id, request in plan.calls:
            try:
                self.roster.provider(name).update_address(provider_order_id, request)
            except OrderLocked as exc:
                return _after(took, name, exc.message)
            except ProviderError as exc:
                if exc.retryable:
                    raise  # sent again later, to each provider (the same address twice)
                return _after(took, name, f"{name} refused it: {exc.message}")
            took.append(name)
        return ""

    def record(self, session: Session, plan: _Plan, result: str) -> None:
        order = session.get(Order, plan.order_id)
        if order is None:
            return
        shop = Actor(f"store:{order.store.key}", Channel.STORE)  # as intake names the shop
        if plan.kind == "local":
            take_shop_address(session, order, plan.address, shop)
        elif result:
            refuse_shop_address(session, order, shop, result, plan.address)
        else:
            record_provider_address(session, order, plan.address, shop, provider=plan.provider)


def _after(took: list[str], name: str, refusal: str) -> str:
    """A refusal in words, saying which providers of a split order already took it."""
    if not took:
        return refusal
    return f"{', '.join(took)} took the new address, but {name} did not: {refusal}"
