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
from podops.leases import singleton
from podops.models import Fulfillment, Order
from podops.outbox import Deferred, DrainReport, Envelope, OutboxDispatcher, Progress, Topic
from podops.ports.fulfillment import SubmitRequest
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
            refusal = (
                f"order {order.number} went to several providers ({order.provider}): change "
                "the address at each of them"
            )
            return AddressRoute(address, needs, refusal=refusal, owner=owner)
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
    provider_order_id: str = ""
    request: SubmitRequest | None = None
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
        part = _only_part(order)
        request = with_address(self.roster.request_for(part), address)
        provider = self.roster.provider(part.provider).name
        return _Plan("provider", order.id, address, provider, str(part.provider_order_id), request)

    def send(self, plan: _Plan, progress: Progress) -> str:
        """'' when the provider took it, else its refusal in words."""
        if plan.kind != "provider" or plan.request is None:
            return plan.reason
        provider = self.roster.provider(plan.provider)
        try:
            provider.update_address(plan.provider_order_id, plan.request)
        except OrderLocked as exc:
            return exc.message
        except ProviderError as exc:
            if exc.retryable:
                raise
            return f"{plan.provider} refused it: {exc.message}"
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
