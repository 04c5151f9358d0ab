"""The shipping speed of an order: staff set it, and an order whose speed no table maps
for its provider is held instead of going out slower than the customer paid for.

Setting a speed moves the countdown by the difference between the two speeds'
countdowns: the countdown keeps its start (placing, or the time a hold gave
back) and ends by the new speed's rule, so an order switched to a zero-hour
rush speed is due at once and one switched back to standard waits the store's
hours again. A held order keeps its hold; its remaining time moves instead.
When the hold's only reason was the unmapped shipping method, setting a speed
that maps answers it, and the order is released (by the person who set it).
"""

from __future__ import annotations

import math
from datetime import timedelta

from sqlalchemy.orm import Session

from podops import events
from podops.errors import InvalidInput, OrderLocked
from podops.events import Actor, EventName
from podops.models import Order, utcnow
from podops.refs import OrderRef
from podops.routing import ShopPolicy
from podops.services.lookup import get_order
from podops.services.new_orders import NEEDS_ATTENTION
from podops.services.order_changes import notify
from podops.services.orders import HOLD_REASON_SEPARATOR, hold_order, release_order
from podops.speeds import ShippingTable, is_shipping_problem
from podops.status import BEFORE_SUBMISSION, OrderStatus


def order_providers(order: Order) -> list[str]:
    """The providers the order's lines go to (whose methods its speed needs; a split
    order needs a method at each of them)."""
    return list(dict.fromkeys(item.provider for item in order.items if item.provider))


def shipping_problem(order: Order, table: ShippingTable) -> str | None:
    """Why the order cannot go out at its speed, in words; None when it can."""
    speed, providers = order.shipping_speed, order_providers(order)
    return table.problem(speed, order.shipping_method_id, order.shipping_method, providers)


def set_shipping_speed(
    session: Session, reference: str | OrderRef, wanted: str, actor: Actor, policy: ShopPolicy
) -> bool:
    """Ship the order at `wanted` (a speed of its store's table); False if it already does.

    Refused with the reason when the order was submitted, the speed is unknown
    (the known ones are named), or the order's provider has no method for it."""
    order = get_order(session, reference, for_update=True)
    table = policy.store(order.store.key).shipping
    speed = check_speed(order, table, wanted)
    cleared = [p for p in order.problems if is_shipping_problem(p)]
    if speed == order.shipping_speed and not cleared:
        return False
    before = order.shipping_speed
    _move_countdown(order, table.countdown_hours(speed) - table.countdown_hours(before))
    order.shipping_speed = speed
    order.rush = table.is_rush(speed)
    order.problems = [p for p in order.problems if not is_shipping_problem(p)]
    order.updated_at = utcnow()
    event = events.record(
        session, order, actor, EventName.SHIPPING_SPEED, old=before, new=speed, rush=order.rush
    )
    notify(session, order, event)
    if cleared and _held_only_for(order, cleared):
        release_order(session, order, actor)
    return True


def check_speed(order: Order, table: ShippingTable, wanted: str) -> str:
    """`wanted` as a speed this order may ship at, or the refusal in words (raised)."""
    status = OrderStatus(order.status)
    if status not in BEFORE_SUBMISSION:
        raise OrderLocked(
            f"{order.label} is {status.label}; its shipping speed can no longer be changed "
            "(its provider has the order)"
        )
    speed = " ".join(wanted.split()).lower()
    refusal = table.refusal(speed)
    if refusal is not None:
        raise InvalidInput(f"{order.label}: {refusal}")
    for provider in order_providers(order):
        if table.provider_method(speed, provider) is None:
            usable = [s for s in table.speeds if table.provider_method(s, provider) is not None]
            raise InvalidInput(
                f"{order.label} goes to {provider}, which has no method for {speed} "
                f"(stores.{order.store.key}.shipping.providers.{provider}); "
                f"speeds {provider} ships: {', '.join(usable) or 'none'}"
            )
    return speed


def hold_for_shipping(session: Session, order: Order, problem: str, actor: Actor) -> None:
    """A due order whose speed nothing maps for its provider (the config changed since
    it arrived) waits for a person, the reason written on it."""
    if problem not in order.problems:
        order.problems = [*order.problems, problem]
    hold_order(session, order, actor, problem)


def _move_countdown(order: Order, hours: float) -> None:
    """Shift the countdown's end by `hours` (a held order: the time it has left)."""
    if not hours:
        return
    held = OrderStatus(order.status) == OrderStatus.ON_HOLD
    if held and order.hold_remaining_s is not None:
        order.hold_remaining_s = max(0, order.hold_remaining_s + math.ceil(hours * 3600))
    elif order.submit_at is not None:  # (held at receipt: release keeps this end)
        order.submit_at = order.submit_at + timedelta(hours=hours)


def _held_only_for(order: Order, answered: list[str]) -> bool:
    """Whether the order is held for nothing but the shipping problems just answered."""
    if OrderStatus(order.status) != OrderStatus.ON_HOLD or order.problems:
        return False
    reason = (order.hold_reason or "").removeprefix(NEEDS_ATTENTION)
    parts = [part for part in reason.split(HOLD_REASON_SEPARATOR) if part]
    return bool(parts) and all(part in answered for part in parts)
