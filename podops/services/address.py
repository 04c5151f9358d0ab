"""Shipping address changes: by staff before submission, by the shop, by a provider.

Every change writes one event with each changed field old -> new, who and from
where, and then re-checks what the address still lacks (`recheck_address`): an
order held at receipt for "no shipping address" goes back to its countdown once
its address is complete and nothing else holds it; a person's hold stays. The
order's last address verification is about the old address, so its problem (or
the hold it made) goes too; the new address is verified again before submission.

A change made in the shop is told from the shop's old address coming again by
`Order.store_address` (the shop's address, kept once ours differs from it).
Before submission it is applied (or, when podops cannot send it, the order waits
with the reason); after it, it is queued for the provider (`Topic.PROVIDER_ADDRESS`,
sent by `podops.fulfillment.address_change`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from podops import events
from podops.address import (
    CHECK_PREFIX,
    SHOP_REFUSED_PREFIX,
    AddressChange,
    address_problems,
    check_change,
    is_address_problem,
    normalized,
    shown,
)
from podops.errors import ConcurrentModification, InvalidInput, OrderLocked
from podops.events import Actor, EventName
from podops.fulfillment_status import FulfillmentStatus
from podops.incoming import IncomingOrder
from podops.models import Order, utcnow
from podops.outbox import enqueue
from podops.outbox.messages import provider_address_message
from podops.refs import OrderRef, in_shell
from podops.services.designs import RENDER_PROBLEM_PREFIX
from podops.services.lookup import get_order
from podops.services.order_changes import notify
from podops.services.orders import may_exist_at_provider, release_order
from podops.services.remakes import remakes
from podops.status import BEFORE_SUBMISSION, OrderStatus

NEEDS_ATTENTION = "needs attention: "
"""How intake's hold reason starts (`services.new_orders`): a hold for the order's problems."""

AT_PROVIDER = frozenset(
    {
        OrderStatus.SUBMITTING,
        OrderStatus.SUBMITTED,
        OrderStatus.IN_PRODUCTION,
        OrderStatus.CANCEL_REQUESTED,
        OrderStatus.PARTIALLY_SHIPPED,
    }
)
"""Where a shop's change must go through the provider (or be refused by it)."""


def changeable_here(order: Order) -> bool:
    """Whether the address is still podops' own to change (nothing at a provider yet,
    or a shipped order's remake waiting to go: the reship takes the new address)."""
    status = OrderStatus(order.status)
    if status in BEFORE_SUBMISSION:
        return not may_exist_at_provider(order)
    return reship_waiting(order)


def reship_waiting(order: Order) -> bool:
    """A fully shipped order whose remakes all wait to go (none at a provider yet): the
    parcels that left are gone, so the address is the remake's alone (a lost parcel
    sent again to the address the customer corrected)."""
    if OrderStatus(order.status) not in (OrderStatus.SHIPPED, OrderStatus.COMPLETED):
        return False
    going = [p for p in remakes(order) if p.status != FulfillmentStatus.CANCELLED]
    waiting = [p for p in going if p.status == FulfillmentStatus.WAITING]
    return (
        bool(waiting) and len(waiting) == len(going) and not any(p.submit_attempts for p in waiting)
    )


def refuse_unless_changeable(order: Order) -> None:
    """Say why the address of an order that is (or may be) at its provider cannot just
    be changed here (the caller sends it to the provider where its API allows)."""
    status = OrderStatus(order.status)
    if status == OrderStatus.SUBMITTING:
        raise ConcurrentModification(
            f"{order.label} is being sent to {order.provider} right now; try again in a moment"
        )
    if may_exist_at_provider(order):
        raise OrderLocked(
            f"{order.label} may already be at {order.provider} (its last submission failed "
            "midway); retry or cancel it first, then change the address"
        )
    if status not in BEFORE_SUBMISSION and not reship_waiting(order):
        again = (
            " (to send it again to a new address, remake it first, then change the address "
            "before the remake leaves)"
            if status in (OrderStatus.SHIPPED, OrderStatus.COMPLETED)
            else ""
        )
        raise OrderLocked(
            f"{order.label} is {status.label}; its address can no longer change{again}"
        )


def change_address(
    session: Session,
    reference: str | OrderRef,
    typed: Mapping[str, str],
    actor: Actor,
    *,
    provider_needs: frozenset[str] = frozenset(),
) -> AddressChange:
    """Staff change address fields of an order not yet submitted: all or nothing."""
    order = get_order(session, reference, for_update=True)
    refuse_unless_changeable(order)
    change = check_change(
        order.shipping_address,
        typed,
        provider_needs=provider_needs,
        provider=order.provider or "the provider",
    )
    if change.empty:
        return change
    set_address(session, order, change, actor, provider_needs=provider_needs)
    return change


def set_address(
    session: Session,
    order: Order,
    change: AddressChange,
    actor: Actor,
    *,
    provider_needs: frozenset[str] = frozenset(),
    after_submission: str | None = None,
) -> None:
    """Store the new address (the shop's own kept aside), audit it, re-check the order.

    `after_submission`: the provider that already took the new address."""
    if order.store_address is None:
        order.store_address = dict(order.shipping_address)
    _store(order, change.address)
    event = events.record(
        session,
        order,
        actor,
        EventName.EDIT_ADDRESS,
        changes={name: list(pair) for name, pair in change.changed.items()},
        after_submission=after_submission,
    )
    notify(session, order, event)
    if after_submission is None:
        recheck_address(session, order, actor, provider_needs)


def _store(order: Order, address: dict[str, str]) -> None:
    order.shipping_address = dict(address)
    phone = address.get("phone", "")
    if phone and phone != order.customer_phone:
        order.customer_phone = phone[:64]  # what providers are sent (`build_request`)
    order.updated_at = utcnow()  # dirty the order so its version check guards the change


def recheck_address(
    session: Session, order: Order, actor: Actor, provider_needs: frozenset[str] = frozenset()
) -> None:
    """Replace the order's address problems with what its address lacks now; a hold
    podops made for the order's problems ends once none is left (a person's stays)."""
    others = [p for p in order.problems if not is_address_problem(p)]
    before = list(order.problems)
    order.problems = [*others, *address_problems(order.shipping_address, provider_needs)]
    if OrderStatus(order.status) != OrderStatus.ON_HOLD:
        return
    reason = order.hold_reason or ""
    if reason.startswith(NEEDS_ATTENTION) or reason.startswith(CHECK_PREFIX):
        if not _holding_problems(order):
            release_order(session, order, actor)  # to its countdown, or to design work
            return
        order.hold_reason = NEEDS_ATTENTION + "; ".join(_holding_problems(order))
        return
    old = NEEDS_ATTENTION + "; ".join(map(str, before))
    if before and old in reason:  # a person's hold over intake's: theirs stays, ours is updated
        holding = _holding_problems(order)
        new = NEEDS_ATTENTION + "; ".join(holding) if holding else ""
        parts = [part for part in reason.replace(old, new).split("; ") if part.strip()]
        order.hold_reason = "; ".join(parts) or reason


def _holding_problems(order: Order) -> list[str]:
    """The order's problems that keep a hold podops made; a refused design is not one of
    them (it sends the released order to design work instead)."""
    design = f": {RENDER_PROBLEM_PREFIX}"
    found = [str(p) for p in order.problems if design not in str(p)]
    found += [
        f"line {item.position}: {p}"
        for item in order.items
        for p in item.problems
        if not str(p).startswith(RENDER_PROBLEM_PREFIX)
        and f"line {item.position}: {p}" not in found
    ]
    return found


def follow_store_address(
    session: Session, order: Order, incoming: IncomingOrder, actor: Actor
) -> bool:
    """A delivery from the shop: True when it brought a new shipping address.

    A delivery without any address never clears ours; the shop's old address coming
    again (after staff changed ours) is no change."""
    if not any(str(v or "").strip() for v in incoming.shipping_address.values()):
        return False
    seen = order.store_address if order.store_address is not None else order.shipping_address
    if normalized(incoming.shipping_address) == normalized(seen):
        return False
    shop = {str(k): str(v or "").strip() for k, v in incoming.shipping_address.items()}
    order.store_address = shop
    status = OrderStatus(order.status)
    if changeable_here(order):
        take_shop_address(session, order, shop, actor)
    elif status in AT_PROVIDER or may_exist_at_provider(order):
        changes = _changes(order.shipping_address, shop)
        note = f"sending it to {order.provider}, which has the order"
        event = events.record(
            session, order, actor, EventName.STORE_ADDRESS, changes=changes, note=note
        )
        notify(session, order, event)
        session.flush()
        enqueue(session, provider_address_message(order.id, event.id, shop))
    elif status == OrderStatus.SHIPPED:
        reason = f"{order.label} was already shipped; the parcel goes to the old address"
        refuse_shop_address(session, order, actor, reason, shop)
    return True


def take_shop_address(session: Session, order: Order, shop: dict[str, str], actor: Actor) -> None:
    """Apply the shop's new address before submission, or hold it back with the reason."""
    changes = _changes(order.shipping_address, shop)
    try:
        check_change(order.shipping_address, shown(shop))  # what podops can send
    except InvalidInput as exc:
        reason = (
            f"{exc.message}; the order keeps its old address until staff fix it "
            f"(podops edit {in_shell(OrderRef.of(order).typed)} address.FIELD=VALUE)"
        )
        problem = SHOP_REFUSED_PREFIX + reason
        order.problems = [*(p for p in order.problems if p != problem), problem]
        event = events.record(
            session,
            order,
            actor,
            EventName.ADDRESS_CHANGE_REFUSED,
            reason=reason,
            changes=changes,
            source="shop",
        )
        notify(session, order, event)
        return
    _store(order, shop)
    event = events.record(session, order, actor, EventName.STORE_ADDRESS, changes=changes)
    notify(session, order, event)
    recheck_address(session, order, actor)


def refuse_shop_address(
    session: Session, order: Order, actor: Actor, reason: str, shop: Mapping[str, Any]
) -> None:
    """The shop's change could not reach the order's parcel: a problem staff see."""
    problem = SHOP_REFUSED_PREFIX + reason
    order.problems = [*(p for p in order.problems if p != problem), problem]
    event = events.record(
        session,
        order,
        actor,
        EventName.ADDRESS_CHANGE_REFUSED,
        reason=reason,
        changes=_changes(order.shipping_address, shop),
        source="shop",
    )
    notify(session, order, event)


def record_provider_address(
    session: Session, order: Order, address: Mapping[str, Any], actor: Actor, *, provider: str
) -> None:
    """The provider took the shop's new address for an order it has: ours follows."""
    changes = _changes(order.shipping_address, address)
    _store(order, {str(k): str(v or "") for k, v in address.items()})
    order.problems = [p for p in order.problems if not str(p).startswith(SHOP_REFUSED_PREFIX)]
    event = events.record(
        session,
        order,
        actor,
        EventName.EDIT_ADDRESS,
        changes=changes,
        after_submission=provider,
    )
    notify(session, order, event)


def _changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[str]]:
    old, new = shown(before), shown(after)
    return {name: [old[name], new[name]] for name in old if old[name] != new[name]}
