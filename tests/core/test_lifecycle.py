"""The lifecycle table: what staff can and cannot do to an order, in words."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from podops.errors import IllegalTransition
from podops.status import (
    TERMINAL,
    TRANSITIONS,
    Action,
    OrderStatus,
    allowed_actions,
    transition,
)


def test_refusal_reads_like_a_sentence() -> None:
    with pytest.raises(IllegalTransition) as caught:
        transition(OrderStatus.SHIPPED, Action.CANCEL, order_label="order 1234")
    assert str(caught.value) == "order 1234 is shipped; it can no longer be cancelled"


def test_refusal_for_something_too_early_says_not_yet() -> None:
    with pytest.raises(IllegalTransition, match="cannot be completed yet"):
        transition(OrderStatus.PENDING, Action.COMPLETE, order_label="order 7")


def test_held_order_cannot_be_submitted_until_released() -> None:
    with pytest.raises(IllegalTransition, match="release it first"):
        transition(OrderStatus.ON_HOLD, Action.BEGIN_SUBMIT, order_label="order 7")


def test_design_lifecycle_paths_exist() -> None:
    # The paths DESIGN.md promises, end to end.
    path = [
        (Action.QUEUE, OrderStatus.PENDING),
        (Action.HOLD, OrderStatus.ON_HOLD),
        (Action.RELEASE, OrderStatus.PENDING),
        (Action.BEGIN_SUBMIT, OrderStatus.SUBMITTING),
        (Action.SUBMIT_FAIL, OrderStatus.SUBMIT_FAILED),
        (Action.BEGIN_SUBMIT, OrderStatus.SUBMITTING),
        (Action.SUBMIT_OK, OrderStatus.SUBMITTED),
        (Action.START_PRODUCTION, OrderStatus.IN_PRODUCTION),
        (Action.SHIP_PART, OrderStatus.PARTIALLY_SHIPPED),
        (Action.SHIP_ALL, OrderStatus.SHIPPED),
        (Action.COMPLETE, OrderStatus.COMPLETED),
        (Action.RETURN, OrderStatus.RETURNED),
    ]
    status = OrderStatus.RECEIVED
    for action, expected in path:
        status = transition(status, action).after
        assert status == expected


def test_every_state_before_submission_can_be_cancelled() -> None:
    for status in (
        OrderStatus.RECEIVED,
        OrderStatus.PENDING,
        OrderStatus.ON_HOLD,
        OrderStatus.NEEDS_DESIGN,
        OrderStatus.SUBMIT_FAILED,
    ):
        assert transition(status, Action.CANCEL).after == OrderStatus.CANCELLED


def test_terminal_states_are_cancelled_and_returned() -> None:
    assert {OrderStatus.CANCELLED, OrderStatus.RETURNED} == TERMINAL


@given(st.lists(st.sampled_from(list(Action)), max_size=60))
def test_no_sequence_of_actions_escapes_the_table(actions: list[Action]) -> None:
    status = OrderStatus.RECEIVED
    for action in actions:
        if (action, status) in TRANSITIONS:
            step = transition(status, action)
            assert step.before == status
            assert step.after == TRANSITIONS[(action, status)]
            status = step.after
        else:
            with pytest.raises(IllegalTransition):
                transition(status, action)
        if status in TERMINAL:
            assert allowed_actions(status) == []
