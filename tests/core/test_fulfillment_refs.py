"""Fulfillment references: the first keeps the order's own reference byte for byte, later
ones are distinct from every order's and every other part's, read back exactly, and
use only the characters providers already take."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from podops.errors import OrderNotFound
from podops.refs import FulfillmentRef, OrderRef
from podops.settings import NAME_PATTERN

store_keys = st.from_regex(NAME_PATTERN.strip("^$"), fullmatch=True)
any_numbers = st.text(min_size=1, max_size=64)
"""Whatever a store may call an order."""
plain_numbers = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", fullmatch=True)
seqs = st.integers(min_value=1, max_value=999_999)


def test_the_forms() -> None:
    order = OrderRef("main", "1234")
    assert FulfillmentRef(order, 1).provider == "main-1234"  # today's, unchanged
    assert FulfillmentRef(order, 2).provider == "main--1234_P2"
    assert FulfillmentRef(OrderRef("main", "2024/5001"), 3).provider == "main--2024_2F5001_P3"
    assert FulfillmentRef(OrderRef("main", "1234_P2"), 1).provider == "main-1234_P2"
    assert FulfillmentRef.parse_provider("main-1234_P2") == FulfillmentRef(
        OrderRef("main", "1234_P2"), 1
    )
    assert FulfillmentRef.parse_provider("main--1234_P2") == FulfillmentRef(order, 2)
    assert FulfillmentRef(order, 2).label == "part 2"


@given(store=store_keys, number=any_numbers, seq=seqs)
def test_every_fulfillment_reference_reads_back(store: str, number: str, seq: int) -> None:
    ref = FulfillmentRef(OrderRef(store, number), seq)
    assert FulfillmentRef.parse_provider(ref.provider) == ref


@given(
    store=store_keys,
    number=any_numbers,
    seq=seqs,
    other_store=store_keys,
    other=any_numbers,
    other_seq=seqs,
)
def test_distinct_parts_never_share_a_reference(
    store: str, number: str, seq: int, other_store: str, other: str, other_seq: int
) -> None:
    one = FulfillmentRef(OrderRef(store, number), seq)
    two = FulfillmentRef(OrderRef(other_store, other), other_seq)
    if one != two:
        assert one.provider != two.provider


@given(store=store_keys, number=any_numbers, other=any_numbers, seq=st.integers(2, 999_999))
def test_a_later_part_is_never_an_order_s_own_reference(
    store: str, number: str, other: str, seq: int
) -> None:
    """Whatever number another order of the store has (plain, escaped, ending in `_P2`)."""
    assert FulfillmentRef(OrderRef(store, number), seq).provider != OrderRef(store, other).provider


@given(store=store_keys, number=plain_numbers, seq=st.integers(2, 999_999))
def test_a_plain_number_s_parts_collide_with_no_plain_number(
    store: str, number: str, seq: int
) -> None:
    """The numbers podops sent unescaped before (`main-1234_P2` is order `1234_P2`)."""
    part = FulfillmentRef(OrderRef(store, number), seq).provider
    assert FulfillmentRef.parse_provider(part).seq == seq
    assert OrderRef(store, f"{number}_P{seq}").provider != part


@given(store=store_keys, number=any_numbers, seq=seqs)
def test_part_references_fit_what_providers_take(store: str, number: str, seq: int) -> None:
    """The characters today's references use; later parts not even `.`."""
    reference = FulfillmentRef(OrderRef(store, number), seq).provider
    assert re.fullmatch(r"[0-9A-Za-z_.-]+", reference)
    if seq > 1:
        assert re.fullmatch(r"[0-9A-Za-z_-]+", reference)


@pytest.mark.parametrize(
    "text", ["main--1234_P1", "main--1234_P0", "main--_P2", "main--12_P2_P3", "main--1234_P02"]
)
def test_a_part_reference_we_did_not_make_is_no_part(text: str) -> None:
    with pytest.raises(OrderNotFound):
        FulfillmentRef.parse_provider(text)
