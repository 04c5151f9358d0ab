"""A split order's new address, recorded part by part.

An address change after submission goes to each provider that has a part, one
after the other: nothing makes it atomic, so one provider may take it while
another refuses (its order is in production) or cannot be reached. podops then
keeps the truth per part: the order's address is the new one (what the parts
not sent yet, and any remake, leave with), and each part whose provider kept the
old address keeps that address as its own (`Fulfillment.shipping_address`), shown
beside it wherever parts are shown. Running the same change again sends it only
to those parts (`podops.fulfillment.address_change`).

Each part left behind writes an `address_change_refused` event naming it, with
its provider's words; the change itself one `edit_address` (or, when the order's
address had already moved and only parts caught up, one per part).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from podops import events
from podops.address import SHOP_REFUSED_PREFIX, normalized, shown
from podops.events import Actor, EventName
from podops.models import Fulfillment, Order, utcnow
from podops.services.order_changes import notify


@dataclass(frozen=True, slots=True)
class PartAnswer:
    """What one part's provider did with a new address."""

    fulfillment_id: int
    label: str
    """`part 2`."""
    provider: str
    refusal: str = ""
    """Its provider's words when it did not take it ("" : it took it)."""

    @property
    def named(self) -> str:
        """`part 2 at so`."""
        return f"{self.label} at {self.provider}"


def parts_behind(order: Order) -> list[Fulfillment]:
    """The order's parts whose provider still has an older address than the order's."""
    now = normalized(order.shipping_address)
    return [
        p
        for p in order.fulfillments
        if p.shipping_address is not None and normalized(p.shipping_address) != now
    ]


def record_split_address(
    session: Session,
    order: Order,
    address: Mapping[str, Any],
    actor: Actor,
    answers: Sequence[PartAnswer],
    *,
    shop: bool = False,
) -> dict[str, list[str]]:
    """Record what each provider did with `address` (the order's new address); return
    the order's own changes (field -> [old, new]; empty when only parts caught up).

    `shop`: the change came from the shop (its address is then the shop's own)."""
    before = dict(order.shipping_address)
    target = {str(k): str(v or "") for k, v in address.items()}
    parts = {p.id: p for p in order.fulfillments}
    took = [a for a in answers if not a.refusal and a.fulfillment_id in parts]
    kept = [a for a in answers if a.refusal and a.fulfillment_id in parts]
    caught_up = {a.fulfillment_id: parts[a.fulfillment_id].address for a in took}
    for answer in kept:  # its provider has what the order had: pinned before the order moves
        part = parts[answer.fulfillment_id]
        if part.shipping_address is None:
            part.shipping_address = dict(before)
    changes = _changes(before, target)
    if changes:
        if order.store_address is None and not shop:
            order.store_address = dict(before)
        _store(order, target)
    for answer in took:  # its provider has the order's address now
        parts[answer.fulfillment_id].shipping_address = None
    for part in order.fulfillments:  # parts at the order's address need none of their own
        if part.shipping_address is not None and normalized(part.shipping_address) == normalized(
            order.shipping_address
        ):
            part.shipping_address = None
    if shop:
        order.problems = [p for p in order.problems if not str(p).startswith(SHOP_REFUSED_PREFIX)]
    order.updated_at = utcnow()
    source = {"source": "shop"} if shop else {}
    if changes:
        _told(
            session,
            order,
            actor,
            EventName.EDIT_ADDRESS,
            changes=changes,
            after_submission=", ".join(dict.fromkeys(a.provider for a in took)) or None,
            parts={a.label: a.provider for a in took},
            old_address_parts={a.label: a.provider for a in kept},
            **source,
        )
    else:
        for answer in took:  # the order's address had moved; this part caught up
            part = parts[answer.fulfillment_id]
            _told(
                session,
                order,
                actor,
                EventName.EDIT_ADDRESS,
                changes=_changes(caught_up[answer.fulfillment_id], target),
                after_submission=answer.provider,
                part=part.seq,
                fulfillment=part.id,
                **source,
            )
    for answer in kept:
        part = parts[answer.fulfillment_id]
        _told(
            session,
            order,
            actor,
            EventName.ADDRESS_CHANGE_REFUSED,
            reason=(
                f"{answer.provider} kept the old address: {answer.refusal}; {part.label} "
                f"still ships to the old address (run the same change again to send it there, "
                f"or change it at {answer.provider})"
            ),
            changes=_changes(part.address, target),
            part=part.seq,
            fulfillment=part.id,
            provider=answer.provider,
            **source,
        )
    return changes


def _told(session: Session, order: Order, actor: Actor, name: EventName, **detail: Any) -> None:
    kept = {key: value for key, value in detail.items() if value not in (None, {}, "")}
    notify(session, order, events.record(session, order, actor, name, **kept))


def _store(order: Order, address: dict[str, str]) -> None:
    order.shipping_address = dict(address)
    phone = address.get("phone", "")
    if phone and phone != order.customer_phone:
        order.customer_phone = phone[:64]


def _changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[str]]:
    old, new = shown(before), shown(after)
    return {name: [old[name], new[name]] for name in old if old[name] != new[name]}
