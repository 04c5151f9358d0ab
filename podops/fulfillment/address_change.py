"""Changing the shipping address of an order, wherever it is.

One desk for every channel (CLI, Slack form, sheet): before submission the
change is checked against the order's provider (`podops.address`) and applied
in one transaction (`services.change_address`); once a provider has the order,
the new address goes to the provider first (outside any transaction) and only
an address the provider took is recorded, so podops never claims an address
the parcel will not go to. A provider whose API has no address change refuses
with words saying where staff change it ("order 1234 is already at CustomCat:
change the address there").

A split order's change goes to each provider with a part, one after the other,
and nothing makes that atomic: one provider may take it while another refuses or
cannot be reached. Every part is still asked, and what each did is recorded part
by part (`services.split_address`): the order keeps the new address, each part
whose provider kept the old one keeps that as its own, shown beside it, and the
same change made again goes only to those parts.

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
from podops.address import AddressChange, check_change, normalized, one_line, shown
from podops.db import Database
from podops.errors import ConcurrentModification, OrderLocked, PodopsError, ProviderError
from podops.events import Actor, Channel
from podops.fulfillment.roster import ProviderRoster
from podops.fulfillment_status import FulfillmentStatus
from podops.leases import singleton
from podops.models import Fulfillment, Order
from podops.outbox import Deferred, DrainReport, Envelope, OutboxDispatcher, Progress, Topic
from podops.ports.fulfillment import FulfillmentProvider, SubmitRequest
from podops.refs import OrderRef, in_shell
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
    caught_up: tuple[str, ...] = ()
    """A split order's parts sent the order's address again, which took it (`part 2 at
    so`), their provider having kept an older one."""
    kept: tuple[str, ...] = ()
    """A split order's parts whose provider kept the old address, with its words
    (`part 2 at so: ...`): the change is only partly made."""

    @property
    def partial(self) -> bool:
        """Some part still ships to the old address (staff must act: the answer says how)."""
        return bool(self.kept)

    @property
    def words(self) -> str:
        said = []
        if self.changed:
            fields = "; ".join(f"{n} {a!r} -> {b!r}" for n, (a, b) in self.changed.items())
            where = f" and sent it to {self.provider}" if self.provider else ""
            if self.kept and not self.provider:
                where = " for the parts not sent yet"
            said.append(f"Changed the address of order {self.number}{where}: {fields}.")
        if self.caught_up:
            said.append(
                f"Sent the address of order {self.number} to {', '.join(self.caught_up)}, "
                "which had kept the old one: it has the new address now."
            )
        if self.kept:
            said.append(
                f"Not changed for {'; '.join(self.kept)}: "
                + ("they still ship" if len(self.kept) > 1 else "it still ships")
                + f" to the old address. Run the same change again to send it there "
                f"(podops edit {in_shell(self.number)} address.FIELD=VALUE, the Slack form or the "
                "sheet), or change it at the provider."
            )
        return " ".join(said) or f"Nothing changed on the address of order {self.number}."


@dataclass(frozen=True, slots=True)
class _PartCall:
    """One part of a split order and the call that sends it the new address."""

    fulfillment_id: int
    label: str
    provider: FulfillmentProvider
    provider_order_id: str
    request: SubmitRequest


@dataclass(frozen=True, slots=True)
class _SplitPlan:
    """A split order's address change, checked, and the provider calls that send it."""

    order: OrderRef
    number: str
    status: OrderStatus
    change: AddressChange
    calls: list[_PartCall]
    """The parts at a provider whose address is not the new one yet."""
    waiting: bool
    """Parts not sent yet: they leave with the order's address, whatever providers say."""


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
    behind: tuple[str, ...] = ()
    """A split order's parts whose provider kept an older address, with it (`part 2 at
    so still ships to Ana Smith, 12 Main St, ...`): saving the form sends them the
    address shown."""


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
            late = tuple(
                f"{p.label} at {p.provider} still ships to {one_line(p.address)}"
                for p in services.parts_behind(order)
            )
            return AddressRoute(address, needs, None if refusal else names, refusal, owner, late)
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
            return self._change_split(split, actor)
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
        """A split order's change, checked, and the calls that send it: each part at a
        provider whose address is not the new one yet (all of them for a new change;
        only those whose provider kept the old address when the same change is made
        again), each provider taking it through its API; the parts not sent yet (a
        failed one, a line routed late) leave with the order's address, so they follow."""
        names = ", ".join(dict.fromkeys(p.provider for p in order.parts))
        change = check_change(
            order.shipping_address, typed, provider_needs=self._split_needs(order), provider=names
        )
        wanted = normalized(change.address)
        sent = _sent_parts(order)
        going = [part for part in sent if normalized(part.address) != wanted]
        refusal = split_refusal(self.roster, order, going)
        if refusal:
            raise OrderLocked(refusal)
        calls = [
            _PartCall(
                part.id,
                part.label,
                self.roster.provider(part.provider),
                str(part.provider_order_id),
                with_address(self.roster.request_for(part), change.address),
            )
            for part in going
        ]
        waiting = any(part not in sent for part in order.parts)
        return _SplitPlan(
            OrderRef.of(order), order.number, OrderStatus(order.status), change, calls, waiting
        )

    def _change_split(self, plan: _SplitPlan, actor: Actor) -> AddressOutcome:
        """Send the new address to each part's provider, one after the other (outside any
        transaction), then record what each did: a refusal or an outage at one never
        stops the others, and the parts whose provider kept the old address keep it
        (shown, and sent again by the same change later)."""
        if plan.change.empty and not plan.calls:
            return AddressOutcome(plan.number, {}, None, plan.status)
        answers: list[services.PartAnswer] = []
        failures: list[PodopsError] = []
        for call in plan.calls:
            try:
                call.provider.update_address(call.provider_order_id, call.request)
            except (OrderLocked, ProviderError) as exc:
                failures.append(exc)
                refusal = exc.message
                answers.append(
                    services.PartAnswer(
                        call.fulfillment_id, call.label, call.provider.name, refusal
                    )
                )
                continue
            answers.append(services.PartAnswer(call.fulfillment_id, call.label, call.provider.name))
        if len(failures) == len(answers) and failures and (plan.change.empty or not plan.waiting):
            if len(failures) == 1:  # nothing changed anywhere: the provider's refusal as it is
                raise failures[0]
            raise OrderLocked(
                f"the address of order {plan.number} was not changed: "
                + "; ".join(f"{a.named}: {a.refusal}" for a in answers)
            )
        return self._record_split(plan, actor, answers)

    def _record_split(
        self, plan: _SplitPlan, actor: Actor, answers: list[services.PartAnswer]
    ) -> AddressOutcome:
        with self.db.unit_of_work() as session:
            order = services.get_order(session, plan.order, for_update=True)
            changes = services.record_split_address(
                session, order, plan.change.address, actor, answers
            )
            took = [a for a in answers if not a.refusal]
            changed = {name: (pair[0], pair[1]) for name, pair in changes.items()}
            providers = ", ".join(dict.fromkeys(a.provider for a in took)) or None
            return AddressOutcome(
                order.number,
                changed,
                providers if changed else None,
                OrderStatus(order.status),
                caught_up=() if changed else tuple(a.named for a in took),
                kept=tuple(f"{a.named} ({a.refusal})" for a in answers if a.refusal),
            )

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


def split_refusal(
    roster: ProviderRoster, order: Order, going: list[Fulfillment] | None = None
) -> str:
    """Why a split order's address cannot change through its providers ('' when every
    provider that has a part takes an address change through its API); `going`: only
    these parts get the change (the others have the new address already)."""
    status = {p.provider: FulfillmentStatus(p.status) for p in order.parts}
    moving = [name for name, st in status.items() if st not in SPLIT_CHANGEABLE]
    if moving:
        return (
            f"order {order.number} went to several providers ({order.provider}) and its "
            f"part at {', '.join(moving)} is "
            f"{', '.join(status[name].label for name in moving)}: its address can no "
            "longer change"
        )
    sent = _sent_parts(order) if going is None else going
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
    calls: tuple[_ShopCall, ...] = ()
    """One per part at a provider whose address is not the shop's yet."""
    reason: str = ""
    split: bool = False
    """A split order: what each part's provider did is recorded part by part."""
    took_before: tuple[services.PartAnswer, ...] = ()
    """Parts that took it in an earlier attempt of this message (not sent it again)."""


@dataclass(frozen=True, slots=True)
class _ShopCall:
    fulfillment_id: int
    label: str
    provider: str
    provider_order_id: str
    request: SubmitRequest


@dataclass(frozen=True, slots=True)
class _Sent:
    refusal: str = ""
    """A one-provider order's refusal in words ("" : it took it)."""
    answers: tuple[services.PartAnswer, ...] = ()
    """A split order: what each part's provider did."""


class ProviderAddressHandler:
    """`Topic.PROVIDER_ADDRESS`: the shop changed the address of an order a provider has."""

    def __init__(self, roster: ProviderRoster) -> None:
        self.roster = roster

    def prepare(self, session: Session, message: Envelope) -> _Plan | None:
        order = session.get(Order, int(message.payload["order_id"]))
        address = {str(k): str(v) for k, v in message.payload["address"].items()}
        if order is None or normalized(order.store_address or {}) != normalized(address):
            return None  # a newer change from the shop replaced this one
        split = len(order.parts) > 1
        if normalized(order.shipping_address) == normalized(address) and not (
            split and services.parts_behind(order)
        ):
            return None  # already there
        status = OrderStatus(order.status)
        if status == OrderStatus.SUBMITTING:
            raise Deferred(f"{order.label} is being sent to its provider; the address follows")
        if changeable_here(order):
            return _Plan("local", order.id, address)
        if not _at_provider(order):
            reason = f"{order.label} is {status.label}; the provider keeps the old address"
            return _Plan("refuse", order.id, address, reason=reason)
        if not split:
            part = _only_part(order)
            call = self._call(part, address)
            return _Plan("provider", order.id, address, call.provider, (call,))
        took_before = tuple(
            services.PartAnswer(int(fid), str(label), str(name))
            for fid, label, name in message.payload.get("took") or []
        )
        done = {answer.fulfillment_id for answer in took_before}
        going = [
            part
            for part in _sent_parts(order)
            if normalized(part.address) != normalized(address) and part.id not in done
        ]
        refusal = split_refusal(self.roster, order, going)  # every provider with a part, or none
        if refusal:
            return _Plan("refuse", order.id, address, reason=refusal)
        calls = tuple(self._call(part, address) for part in going)
        names = ", ".join(dict.fromkeys(call.provider for call in calls))
        return _Plan(
            "provider", order.id, address, names, calls, split=True, took_before=took_before
        )

    def _call(self, part: Fulfillment, address: Mapping[str, Any]) -> _ShopCall:
        return _ShopCall(
            part.id,
            part.label,
            self.roster.provider(part.provider).name,
            str(part.provider_order_id),
            with_address(self.roster.request_for(part), address),
        )

    def send(self, plan: _Plan, progress: Progress) -> _Sent:
        """What each provider did; a provider that cannot be reached makes the message
        wait and go again, to the parts that did not take it yet."""
        if plan.kind != "provider":
            return _Sent(plan.reason)
        answers: list[services.PartAnswer] = []
        for call in plan.calls:
            try:
                self.roster.provider(call.provider).update_address(
                    call.provider_order_id, call.request
                )
            except OrderLocked as exc:
                refusal = exc.message
            except ProviderError as exc:
                if exc.retryable:
                    took = [*plan.took_before, *answers]
                    if took:  # these keep it: the retry goes to the others only
                        progress.save(took=[[a.fulfillment_id, a.label, a.provider] for a in took])
                    raise
                refusal = f"{call.provider} refused it: {exc.message}"
            else:
                answers.append(services.PartAnswer(call.fulfillment_id, call.label, call.provider))
                continue
            if not plan.split:
                return _Sent(refusal)
            answers.append(
                services.PartAnswer(call.fulfillment_id, call.label, call.provider, refusal)
            )
        return _Sent(answers=tuple(answers))

    def record(self, session: Session, plan: _Plan, result: _Sent) -> None:
        order = session.get(Order, plan.order_id)
        if order is None:
            return
        shop = Actor(f"store:{order.store.key}", Channel.STORE)  # as intake names the shop
        answers = [*plan.took_before, *result.answers]
        if plan.kind == "local":
            take_shop_address(session, order, plan.address, shop)
        elif result.refusal:
            refuse_shop_address(session, order, shop, result.refusal, plan.address)
        elif plan.split and answers and all(a.refusal for a in answers):
            reason = "; ".join(f"{a.named}: {a.refusal}" for a in answers)
            refuse_shop_address(session, order, shop, reason, plan.address)
        elif plan.split:
            services.record_split_address(session, order, plan.address, shop, answers, shop=True)
        else:
            record_provider_address(session, order, plan.address, shop, provider=plan.provider)
