"""Restricted ids (Printful's `external_id`: 32 characters of `[0-9A-Za-z_-]`): every
fulfillment reference gets one, a short one reads back exactly, a long one is a
digest that the same reference always makes again (so a look-up finds it), and two
fulfillments never share one."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from podops.refs import RESTRICTED_LIMIT, FulfillmentRef, OrderRef
from podops.settings import NAME_PATTERN

store_keys = st.from_regex(NAME_PATTERN.strip("^$"), fullmatch=True)
any_numbers = st.text(min_size=1, max_size=64)
seqs = st.integers(min_value=1, max_value=999_999)
ALLOWED = re.compile(r"[0-9A-Za-z_-]{1,32}")


@pytest.mark.parametrize(
    ("store", "number", "seq", "restricted"),
    [
        ("main", "1234", 1, "main-1234"),
        ("main", "1234", 2, "main--1234_P2"),
        ("main", "12.5", 1, "main--12_2E5"),
        ("main", "2024/5001", 1, "main--2024_2F5001"),
        ("etsy", "#1001", 1, "etsy--_231001"),
        ("main", "1234_5", 1, "main-1234_5"),
    ],
)
def test_short_references_fit_as_they_are_or_escaped(
    store: str, number: str, seq: int, restricted: str
) -> None:
    ref = FulfillmentRef(OrderRef(store, number), seq)
    assert ref.restricted() == restricted
    assert FulfillmentRef.parse_restricted(restricted) == ref


def test_a_long_reference_becomes_a_digest_that_is_made_again_the_same() -> None:
    amazon = FulfillmentRef(OrderRef("amazon_marketplace", "112-1234567-1234567"), 1)
    made = amazon.restricted()
    assert ALLOWED.fullmatch(made) and len(made) == RESTRICTED_LIMIT
    assert made.startswith("_amazon_marketp-")
    assert made == FulfillmentRef.parse_provider(amazon.provider).restricted()
    assert FulfillmentRef.parse_restricted(made) is None  # not readable: looked up instead
    other = FulfillmentRef(OrderRef("amazon_marketplace", "112-1234567-1234568"), 1)
    assert other.restricted() != made


@given(store=store_keys, number=any_numbers, seq=seqs)
def test_every_reference_has_a_restricted_id_that_reads_back_or_is_a_digest(
    store: str, number: str, seq: int
) -> None:
    ref = FulfillmentRef(OrderRef(store, number), seq)
    made = ref.restricted()
    assert ALLOWED.fullmatch(made)
    read = FulfillmentRef.parse_restricted(made)
    if made.startswith("_"):
        assert read is None
    else:
        assert read == ref
    assert FulfillmentRef.parse_provider(ref.provider).restricted() == made


@given(
    store=store_keys,
    number=any_numbers,
    seq=seqs,
    other_store=store_keys,
    other=any_numbers,
    other_seq=seqs,
)
def test_two_fulfillments_never_share_a_restricted_id(
    store: str, number: str, seq: int, other_store: str, other: str, other_seq: int
) -> None:
    one = FulfillmentRef(OrderRef(store, number), seq)
    two = FulfillmentRef(OrderRef(other_store, other), other_seq)
    if one != two:
        assert one.restricted() != two.restricted()
