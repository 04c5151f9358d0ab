"""The order lifecycle as one explicit table.

Every state change in podops goes through `transition`; the table is the only
place that says which action may move an order from which status to which.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from podops.errors import IllegalTransition


class OrderStatus(StrEnum):
    RECEIVED = "received"
    PENDING = "pending"
    ON_HOLD = "on_hold"
    NEEDS_DESIGN = "needs_design"
    SUBMITTING = "submitting"
    SUBMIT_FAILED = "submit_failed"
    SUBMITTED = "submitted"
    IN_PRODUCTION = "in_production"
    CANCEL_REQUESTED = "cancel_requested"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    RETURNED = "returned"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class Action(StrEnum):
    QUEUE = "queue"
    HOLD = "hold"
    RELEASE = "release"
    RELEASE_TO_DESIGN = "release_to_design"
    FLAG_DESIGN = "flag_design"
    DESIGN_READY = "design_ready"
    BEGIN_SUBMIT = "begin_submit"
    SUBMIT_OK = "submit_ok"
    SUBMIT_FAIL = "submit_fail"
    RETRY = "retry"
    START_PRODUCTION = "start_production"
    SHIP_PART = "ship_part"
    SHIP_ALL = "ship_all"
    COMPLETE = "complete"
    CANCEL = "cancel"
    REQUEST_CANCEL = "request_cancel"
    CONFIRM_CANCEL = "confirm_cancel"
    REFUSE_CANCEL = "refuse_cancel"
    RETURN = "return"
    FULFILLED_BY_SHOP = "fulfilled_by_shop"
    UNSHIP_PART = "unship_part"
    UNSHIP_ALL = "unship_all"


S = OrderStatus
A = Action

# (action, from) -> to. Nothing else is allowed.
TRANSITIONS: dict[tuple[Action, OrderStatus], OrderStatus] = {
    (A.QUEUE, S.RECEIVED): S.PENDING,
    (A.HOLD, S.PENDING): S.ON_HOLD,
    (A.HOLD, S.NEEDS_DESIGN): S.ON_HOLD,
    (A.HOLD, S.SUBMIT_FAILED): S.ON_HOLD,
    # Release returns a held order to where it waited: the countdown, or design
    # work when it was held from needs_design (or its lines still have problems).
    (A.RELEASE, S.ON_HOLD): S.PENDING,
    (A.RELEASE_TO_DESIGN, S.ON_HOLD): S.NEEDS_DESIGN,
    # A held order has no design steps of its own: see UNDER_HOLD below.
    (A.FLAG_DESIGN, S.RECEIVED): S.NEEDS_DESIGN,
    (A.FLAG_DESIGN, S.PENDING): S.NEEDS_DESIGN,
    (A.DESIGN_READY, S.NEEDS_DESIGN): S.PENDING,
    (A.BEGIN_SUBMIT, S.PENDING): S.SUBMITTING,
    (A.BEGIN_SUBMIT, S.SUBMIT_FAILED): S.SUBMITTING,
    (A.SUBMIT_OK, S.SUBMITTING): S.SUBMITTED,
    (A.SUBMIT_FAIL, S.SUBMITTING): S.SUBMIT_FAILED,
    (A.RETRY, S.SUBMIT_FAILED): S.PENDING,
    (A.START_PRODUCTION, S.SUBMITTED): S.IN_PRODUCTION,
    (A.SHIP_PART, S.SUBMITTED): S.PARTIALLY_SHIPPED,
    (A.SHIP_PART, S.IN_PRODUCTION): S.PARTIALLY_SHIPPED,
    (A.SHIP_PART, S.CANCEL_REQUESTED): S.PARTIALLY_SHIPPED,
    (A.SHIP_PART, S.PARTIALLY_SHIPPED): S.PARTIALLY_SHIPPED,
    (A.SHIP_ALL, S.SUBMITTED): S.SHIPPED,
    (A.SHIP_ALL, S.IN_PRODUCTION): S.SHIPPED,
    (A.SHIP_ALL, S.CANCEL_REQUESTED): S.SHIPPED,
    (A.SHIP_ALL, S.PARTIALLY_SHIPPED): S.SHIPPED,
    (A.COMPLETE, S.SHIPPED): S.COMPLETED,
    (A.CANCEL, S.RECEIVED): S.CANCELLED,
    (A.CANCEL, S.PENDING): S.CANCELLED,
    (A.CANCEL, S.ON_HOLD): S.CANCELLED,
    (A.CANCEL, S.NEEDS_DESIGN): S.CANCELLED,
    (A.CANCEL, S.SUBMIT_FAILED): S.CANCELLED,
    (A.REQUEST_CANCEL, S.SUBMITTED): S.CANCEL_REQUESTED,
    (A.REQUEST_CANCEL, S.IN_PRODUCTION): S.CANCEL_REQUESTED,
    # A failed submission may still have created the order (an answer of an odd
    # shape, a timeout): it is looked up at the provider before it is cancelled.
    (A.REQUEST_CANCEL, S.SUBMIT_FAILED): S.CANCEL_REQUESTED,
    (A.CONFIRM_CANCEL, S.CANCEL_REQUESTED): S.CANCELLED,
    (A.REFUSE_CANCEL, S.CANCEL_REQUESTED): S.IN_PRODUCTION,
    (A.RETURN, S.SHIPPED): S.RETURNED,
    (A.RETURN, S.COMPLETED): S.RETURNED,
    # The shop made and sent it by hand (orders from before podops watched the store):
    # recorded as completed, nothing sent to a provider, the store's status untouched.
    (A.FULFILLED_BY_SHOP, S.ON_HOLD): S.COMPLETED,
    (A.FULFILLED_BY_SHOP, S.PENDING): S.COMPLETED,
    (A.FULFILLED_BY_SHOP, S.NEEDS_DESIGN): S.COMPLETED,
    # A shipping label voided (refunded) takes its parcel off the order again.
    (A.UNSHIP_PART, S.PARTIALLY_SHIPPED): S.PARTIALLY_SHIPPED,
    (A.UNSHIP_PART, S.SHIPPED): S.PARTIALLY_SHIPPED,
    (A.UNSHIP_PART, S.COMPLETED): S.PARTIALLY_SHIPPED,
    (A.UNSHIP_ALL, S.PARTIALLY_SHIPPED): S.SUBMITTED,
    (A.UNSHIP_ALL, S.SHIPPED): S.SUBMITTED,
    (A.UNSHIP_ALL, S.COMPLETED): S.SUBMITTED,
}

UNDER_HOLD: frozenset[Action] = frozenset({A.FLAG_DESIGN, A.DESIGN_READY})
"""Design readiness is a fact about the lines, holding a person's decision: neither
overwrites the other. On a held order these steps move the status kept *under* the
hold (`Order.held_from`, where release returns it) by this same table, never the
hold itself; only RELEASE / RELEASE_TO_DESIGN (a person, or the shop that held it),
CANCEL and the other steps out of ON_HOLD in the table end a hold."""

# Where each status stands in the life of an order; used to say "no longer".
_RANK: dict[OrderStatus, int] = {
    S.RECEIVED: 0,
    S.PENDING: 1,
    S.ON_HOLD: 1,
    S.NEEDS_DESIGN: 1,
    S.SUBMIT_FAILED: 2,
    S.SUBMITTING: 2,
    S.SUBMITTED: 3,
    S.IN_PRODUCTION: 4,
    S.CANCEL_REQUESTED: 4,
    S.PARTIALLY_SHIPPED: 5,
    S.SHIPPED: 6,
    S.COMPLETED: 7,
    S.CANCELLED: 8,
    S.RETURNED: 8,
}

# The phrase that completes "it can no longer be ..." for each action.
_PHRASES: dict[Action, str] = {
    A.QUEUE: "queued for submission",
    A.HOLD: "put on hold",
    A.RELEASE: "released",
    A.RELEASE_TO_DESIGN: "released",
    A.FLAG_DESIGN: "sent back for design",
    A.DESIGN_READY: "marked ready",
    A.BEGIN_SUBMIT: "submitted",
    A.SUBMIT_OK: "marked submitted",
    A.SUBMIT_FAIL: "marked as failed",
    A.RETRY: "retried",
    A.START_PRODUCTION: "marked in production",
    A.SHIP_PART: "marked partially shipped",
    A.SHIP_ALL: "marked shipped",
    A.COMPLETE: "completed",
    A.CANCEL: "cancelled",
    A.REQUEST_CANCEL: "cancelled at the provider",
    A.CONFIRM_CANCEL: "confirmed cancelled",
    A.REFUSE_CANCEL: "refused cancellation",
    A.RETURN: "marked returned",
    A.FULFILLED_BY_SHOP: "marked already fulfilled",
    A.UNSHIP_PART: "unshipped",
    A.UNSHIP_ALL: "unshipped",
}

TERMINAL: frozenset[OrderStatus] = frozenset(
    s for s in OrderStatus if not any(src == s for (_, src) in TRANSITIONS)
)

BEFORE_SUBMISSION: frozenset[OrderStatus] = frozenset(
    {S.RECEIVED, S.PENDING, S.ON_HOLD, S.NEEDS_DESIGN, S.SUBMIT_FAILED}
)
NOT_SHIPPED: frozenset[OrderStatus] = frozenset(
    {
        S.RECEIVED,
        S.PENDING,
        S.ON_HOLD,
        S.NEEDS_DESIGN,
        S.SUBMITTING,
        S.SUBMIT_FAILED,
        S.SUBMITTED,
        S.IN_PRODUCTION,
        S.CANCEL_REQUESTED,
        S.PARTIALLY_SHIPPED,
    }
)


FINISHED: frozenset[OrderStatus] = frozenset({S.COMPLETED, S.CANCELLED, S.RETURNED})
"""An order's life is over (a return only ends a completed one): history, which the
sheet archives and the hot queries must never walk (`podops.models` partial indexes)."""


def status_in(statuses: frozenset[OrderStatus]) -> str:
    """`status IN ('a', 'b')`: the predicate of a partial index on these statuses."""
    return "status IN (" + ", ".join(f"'{s.value}'" for s in sorted(statuses)) + ")"


@dataclass(frozen=True, slots=True)
class Step:
    action: Action
    before: OrderStatus
    after: OrderStatus


def can(action: Action, current: OrderStatus) -> bool:
    return (action, current) in TRANSITIONS


def can_apply(action: Action, current: OrderStatus, under_hold: OrderStatus | None) -> bool:
    """Whether `action` applies to an order at `current` (with `under_hold`, the status
    kept under its hold): design steps on a held order act under the hold."""
    if current == S.ON_HOLD and action in UNDER_HOLD:
        return under_hold is not None and can(action, under_hold)
    return can(action, current)


def allowed_actions(current: OrderStatus) -> list[Action]:
    return [action for (action, src) in TRANSITIONS if src == current]


def transition(current: OrderStatus, action: Action, *, order_label: str = "the order") -> Step:
    """Return the step `action` makes from `current`, or raise a readable refusal."""
    target = TRANSITIONS.get((action, current))
    if target is None:
        raise IllegalTransition(refusal_message(current, action, order_label))
    return Step(action, current, target)


def refusal_message(current: OrderStatus, action: Action, order_label: str) -> str:
    sources = [src for (act, src) in TRANSITIONS if act == action]
    phrase = _PHRASES[action]
    if sources and all(_RANK[src] < _RANK[current] for src in sources):
        message = f"{order_label} is {current.label}; it can no longer be {phrase}"
    elif sources and all(_RANK[src] > _RANK[current] for src in sources):
        message = f"{order_label} is {current.label}; it cannot be {phrase} yet"
    else:
        message = f"{order_label} is {current.label}; it cannot be {phrase}"
    if current == S.ON_HOLD and action == A.BEGIN_SUBMIT:
        message += " (release it first)"
    if current == S.SUBMITTING and action == A.CANCEL:
        message += " while it is being sent to the provider (try again in a moment)"
    return message
