"""The lifecycle of one fulfillment, and what its fulfillments make of the order.

An order's lines go to their providers as fulfillments: one per provider, each
with the lines and quantities that provider makes, its own submission, claim,
reference, status and tracking. A fulfillment moves by the same `Action`s as
an order, through its own small table (`TRANSITIONS`); `order_step` says which
step (if any) the order's own table must take once its fulfillments changed, so
`podops.status.TRANSITIONS` stays the only word on the order's status:

    fulfillments (not cancelled)              order step
    any submitting                            none yet (the order is submitting)
    settled, one or more at its provider      submit_ok: the others go on; a failed
                                              one is said on the order
    settled, none at its provider             submit_fail
    a part in production, order submitted     start_production
    cancel asked of each: every part          confirm_cancel
    cancelled; one refused                    refuse_cancel (the rest goes on)

Shipping is decided by parcels on the order's lines (`podops.tracking.parcels`),
and each fulfillment follows its own lines (`ship_step`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from podops.errors import IllegalTransition
from podops.status import Action, OrderStatus


class FulfillmentStatus(StrEnum):
    WAITING = "waiting"
    SUBMITTING = "submitting"
    SUBMIT_FAILED = "submit_failed"
    SUBMITTED = "submitted"
    IN_PRODUCTION = "in_production"
    CANCEL_REQUESTED = "cancel_requested"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class FulfillmentKind(StrEnum):
    ORDER = "order"
    """The order's own lines, as routed."""
    REMAKE = "remake"
    """Lines made again (a misprint, lost in transit): `remake_of_id` is the original."""


F = FulfillmentStatus
A = Action

TRANSITIONS: dict[tuple[Action, FulfillmentStatus], FulfillmentStatus] = {
    (A.BEGIN_SUBMIT, F.WAITING): F.SUBMITTING,
    (A.BEGIN_SUBMIT, F.SUBMIT_FAILED): F.SUBMITTING,
    (A.SUBMIT_OK, F.SUBMITTING): F.SUBMITTED,
    (A.SUBMIT_FAIL, F.SUBMITTING): F.SUBMIT_FAILED,
    (A.RETRY, F.SUBMIT_FAILED): F.WAITING,
    (A.START_PRODUCTION, F.SUBMITTED): F.IN_PRODUCTION,
    (A.SHIP_PART, F.SUBMITTED): F.PARTIALLY_SHIPPED,
    (A.SHIP_PART, F.IN_PRODUCTION): F.PARTIALLY_SHIPPED,
    (A.SHIP_PART, F.CANCEL_REQUESTED): F.PARTIALLY_SHIPPED,
    (A.SHIP_PART, F.PARTIALLY_SHIPPED): F.PARTIALLY_SHIPPED,
    (A.SHIP_ALL, F.SUBMITTED): F.SHIPPED,
    (A.SHIP_ALL, F.IN_PRODUCTION): F.SHIPPED,
    (A.SHIP_ALL, F.CANCEL_REQUESTED): F.SHIPPED,
    (A.SHIP_ALL, F.PARTIALLY_SHIPPED): F.SHIPPED,
    # A voided label's parcel leaves the fulfillment again.
    (A.UNSHIP_PART, F.SHIPPED): F.PARTIALLY_SHIPPED,
    (A.UNSHIP_PART, F.PARTIALLY_SHIPPED): F.PARTIALLY_SHIPPED,
    (A.UNSHIP_ALL, F.SHIPPED): F.SUBMITTED,
    (A.UNSHIP_ALL, F.PARTIALLY_SHIPPED): F.SUBMITTED,
    # Never reached a provider (waiting, or refused there): cancelled here.
    (A.CANCEL, F.WAITING): F.CANCELLED,
    (A.CANCEL, F.SUBMIT_FAILED): F.CANCELLED,
    # At a provider, or perhaps there (a failed attempt may have created it): ask it.
    (A.REQUEST_CANCEL, F.SUBMITTED): F.CANCEL_REQUESTED,
    (A.REQUEST_CANCEL, F.IN_PRODUCTION): F.CANCEL_REQUESTED,
    (A.REQUEST_CANCEL, F.SUBMIT_FAILED): F.CANCEL_REQUESTED,
    (A.CONFIRM_CANCEL, F.CANCEL_REQUESTED): F.CANCELLED,
    (A.REFUSE_CANCEL, F.CANCEL_REQUESTED): F.IN_PRODUCTION,
}

AT_PROVIDER: frozenset[FulfillmentStatus] = frozenset(
    {F.SUBMITTED, F.IN_PRODUCTION, F.CANCEL_REQUESTED, F.PARTIALLY_SHIPPED, F.SHIPPED}
)
"""The provider has it (it took the order)."""
TRACKED: frozenset[FulfillmentStatus] = frozenset(
    {F.SUBMITTED, F.IN_PRODUCTION, F.PARTIALLY_SHIPPED, F.CANCEL_REQUESTED}
)
"""What the tracking poll asks providers about."""
TO_SEND: frozenset[FulfillmentStatus] = frozenset({F.WAITING, F.SUBMIT_FAILED})
"""Not at a provider yet: a claim sends them."""


@dataclass(frozen=True, slots=True)
class Step:
    action: Action
    before: FulfillmentStatus
    after: FulfillmentStatus


def transition(current: FulfillmentStatus, action: Action, *, label: str) -> Step:
    """The step `action` makes from `current`, or a refusal naming the fulfillment."""
    target = TRANSITIONS.get((action, current))
    if target is None:
        raise IllegalTransition(
            f"{label} is {current.label}; it cannot be {action.value.replace('_', ' ')}"
        )
    return Step(action, current, target)


def order_step(order: OrderStatus, parts: Sequence[FulfillmentStatus]) -> Action | None:
    """The step the order takes now that its fulfillments stand at `parts` (every
    fulfillment of kind `order`), or None when it stays where it is."""
    live = [p for p in parts if p != F.CANCELLED]
    if order == OrderStatus.SUBMITTING:
        if not parts or F.SUBMITTING in live:
            return None
        return A.SUBMIT_OK if any(p in AT_PROVIDER for p in live) else A.SUBMIT_FAIL
    if order == OrderStatus.SUBMITTED and F.IN_PRODUCTION in live:
        return A.START_PRODUCTION
    if order == OrderStatus.CANCEL_REQUESTED and F.CANCEL_REQUESTED not in live:
        return A.CONFIRM_CANCEL if not live else A.REFUSE_CANCEL
    return None


def ship_step(current: FulfillmentStatus, units: int, shipped: int) -> Action | None:
    """The step a fulfillment at provider takes when `shipped` of its `units` left."""
    if current not in (*TRACKED, F.SHIPPED) or shipped <= 0:
        return None
    if shipped >= units:
        return None if current == F.SHIPPED else A.SHIP_ALL
    return None if current == F.PARTIALLY_SHIPPED else A.SHIP_PART
