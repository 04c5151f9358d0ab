"""What an order's fulfillments make of the order: one status for staff and the store,
every step taken through the order's own table."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from podops.errors import IllegalTransition
from podops.fulfillment_status import FulfillmentStatus, order_step, ship_step, transition
from podops.status import TRANSITIONS, Action, OrderStatus

F = FulfillmentStatus
O = OrderStatus  # noqa: E741


@pytest.mark.parametrize(
    ("order", "parts", "step"),
    [
        (O.SUBMITTING, [F.SUBMITTED, F.SUBMITTING], None),  # still waiting for one answer
        (O.SUBMITTING, [F.SUBMITTED, F.SUBMITTED], Action.SUBMIT_OK),
        (O.SUBMITTING, [F.SUBMITTED, F.SUBMIT_FAILED], Action.SUBMIT_OK),  # the other goes on
        (O.SUBMITTING, [F.SUBMIT_FAILED, F.SUBMIT_FAILED], Action.SUBMIT_FAIL),
        (O.SUBMITTING, [F.CANCELLED, F.SUBMITTED], Action.SUBMIT_OK),  # fell back elsewhere
        (O.SUBMITTED, [F.IN_PRODUCTION, F.SUBMITTED], Action.START_PRODUCTION),
        (O.IN_PRODUCTION, [F.IN_PRODUCTION, F.SUBMITTED], None),
        (O.CANCEL_REQUESTED, [F.CANCELLED, F.CANCEL_REQUESTED], None),
        (O.CANCEL_REQUESTED, [F.CANCELLED, F.CANCELLED], Action.CONFIRM_CANCEL),
        (O.CANCEL_REQUESTED, [F.CANCELLED, F.IN_PRODUCTION], Action.REFUSE_CANCEL),
        (O.SUBMITTED, [F.SUBMITTED, F.SUBMIT_FAILED], None),
    ],
)
def test_the_order_follows_its_fulfillments(
    order: OrderStatus, parts: list[FulfillmentStatus], step: Action | None
) -> None:
    assert order_step(order, parts) == step


@given(
    order=st.sampled_from(OrderStatus),
    parts=st.lists(st.sampled_from(FulfillmentStatus), min_size=1, max_size=4),
)
def test_every_step_the_fulfillments_call_for_is_in_the_order_s_table(
    order: OrderStatus, parts: list[FulfillmentStatus]
) -> None:
    step = order_step(order, parts)
    assert step is None or (step, order) in TRANSITIONS


def test_a_fulfillment_moves_only_by_its_table() -> None:
    assert transition(F.WAITING, Action.BEGIN_SUBMIT, label="part 2").after == F.SUBMITTING
    with pytest.raises(IllegalTransition, match="part 2 is shipped; it cannot be cancel"):
        transition(F.SHIPPED, Action.CANCEL, label="part 2")


def test_a_fulfillment_follows_its_lines_units() -> None:
    assert ship_step(F.SUBMITTED, units=3, shipped=1) == Action.SHIP_PART
    assert ship_step(F.PARTIALLY_SHIPPED, units=3, shipped=2) is None
    assert ship_step(F.PARTIALLY_SHIPPED, units=3, shipped=3) == Action.SHIP_ALL
    assert ship_step(F.SUBMITTED, units=3, shipped=0) is None
    assert ship_step(F.WAITING, units=3, shipped=3) is None  # never sent: not its parcel
