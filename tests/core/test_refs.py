"""Order and line references: every form reads back as the ref it was made from, today's
forms are kept byte for byte, and what cannot be read is refused in staff's words."""

from __future__ import annotations

import dataclasses
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from podops import services
from podops.db import Database
from podops.errors import AmbiguousReference, InvalidInput, OrderNotFound
from podops.fulfillment.claim import order_by_provider_reference
from podops.refs import ANY_STORE, LineRef, OrderRef, print_file_stem
from podops.routing import ShopPolicy
from podops.settings import NAME_PATTERN
from tests.factories import received_order

store_keys = st.from_regex(NAME_PATTERN.strip("^$"), fullmatch=True)
typed_numbers = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", fullmatch=True)
"""The numbers staff can type in a command today."""
any_numbers = st.text(min_size=1, max_size=64)
"""Whatever a store may call an order."""
positions = st.integers(min_value=0, max_value=999)


# Today's forms, byte for byte ----------------------------------------------------


def test_the_forms_read_as_they_did() -> None:
    order = OrderRef("main", "1234")
    assert (order.staff, str(order), order.provider, order.print_name) == (
        "main:1234",
        "main:1234",
        "main-1234",
        "main-1234",
    )
    assert OrderRef.any_store("1234").staff == "1234"
    line = LineRef(order, 2)
    assert (line.label, line.staff, str(line)) == ("1234-02", "main:1234-02", "main:1234-02")
    assert LineRef(order, 100).label == "1234-100"


def test_print_file_names_keep_the_renderer_s_rule() -> None:
    assert print_file_stem("main-1234", 2) == "main-1234-2"
    assert print_file_stem("#1234", 1) == "1234-1"
    assert print_file_stem("main-12.5", 3) == "main-12_5-3"
    assert print_file_stem("..", 1) == "order-1"
    assert print_file_stem("main-" + "9" * 80, 1) == ("main-" + "9" * 80)[:64] + "-1"


def test_a_ref_is_a_value() -> None:
    ref = OrderRef("main", "1234")
    assert ref == OrderRef.parse_staff("main:1234") and {ref: 1}[OrderRef("main", "1234")] == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        ref.number = "1"  # type: ignore[misc]


# Every form reads back as the ref it was made from ---------------------------------


@given(store=store_keys | st.just(ANY_STORE), number=typed_numbers)
def test_staff_form_round_trips(store: str, number: str) -> None:
    ref = OrderRef(store, number)
    assert OrderRef.parse_staff(ref.staff) == ref
    assert OrderRef.parse_staff(f"  {ref}\n") == ref


@given(store=store_keys, number=typed_numbers)
def test_staff_may_type_a_hash_or_a_slash(store: str, number: str) -> None:
    ref = OrderRef(store, number)
    assert OrderRef.parse_staff(f"#{number}") == OrderRef.any_store(number)
    assert OrderRef.parse_staff(f"{store}:#{number}") == ref
    assert OrderRef.parse_staff(f"{store}/{number}") == ref


@given(store=store_keys, number=any_numbers)
def test_provider_form_round_trips_for_every_number(store: str, number: str) -> None:
    ref = OrderRef(store, number)
    assert OrderRef.parse_provider(ref.provider) == ref


@given(store=store_keys, number=any_numbers)
def test_pasted_form_round_trips_for_every_number_with_its_store(store: str, number: str) -> None:
    ref = OrderRef(store, number)
    assert OrderRef.parse_pasted(ref.staff) == ref


@given(number=any_numbers.filter(lambda n: ":" not in n))
def test_pasted_form_without_a_store_round_trips(number: str) -> None:
    assert OrderRef.parse_pasted(number) == OrderRef.any_store(number)


@given(store=store_keys, number=any_numbers, position=positions)
def test_typed_line_round_trips(store: str, number: str, position: int) -> None:
    line = LineRef(OrderRef(store, number), position)
    assert LineRef.parse(line.staff) == line


@given(number=any_numbers.filter(lambda n: ":" not in n), position=positions)
def test_a_line_label_typed_back_names_the_line_in_any_store(number: str, position: int) -> None:
    line = LineRef(OrderRef("main", number), position)
    assert LineRef.parse(line.label) == LineRef(OrderRef.any_store(number), position)


@given(number=any_numbers, position=st.integers(min_value=0, max_value=10**6), store=store_keys)
def test_line_label_round_trips_for_every_number_and_position(
    number: str, position: int, store: str
) -> None:
    label = LineRef(OrderRef(store, number), position).label
    assert LineRef.parse_label(label) == LineRef(OrderRef.any_store(number), position)


@given(name=st.text(max_size=120), position=positions)
def test_print_file_names_hold_only_safe_characters(name: str, position: int) -> None:
    stem = print_file_stem(name, position)
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}-\d+", stem)


# Refusals, in the words staff get ------------------------------------------------


@pytest.mark.parametrize("text", ["#", "", "  ", "main:", "main/#", "1" * 65, "12\x0034"])
def test_text_that_is_not_an_order_number_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        OrderRef.parse_staff(text)
    assert str(caught.value) == f"{text!r} is not an order number (expected something like 1234)"


@pytest.mark.parametrize("text", ["main1234", "-1234", "main-", ""])
def test_a_provider_reference_we_did_not_make_is_no_order(text: str) -> None:
    with pytest.raises(OrderNotFound) as caught:
        OrderRef.parse_provider(text)
    assert str(caught.value) == f"no order {text}"


@pytest.mark.parametrize("text", ["1234", "1234-", "-01", "1001-98765"])
def test_text_that_is_not_a_line_is_refused(text: str) -> None:
    """`1001-98765` (a renumbered order) has too many digits to be a line."""
    with pytest.raises(InvalidInput, match="is not a line reference"):
        LineRef.parse(text)


def test_a_label_without_a_position_is_refused() -> None:
    for text in ("1234", "1234-", "-01", "1234-²"):
        with pytest.raises(InvalidInput, match="is not a line reference"):
            LineRef.parse_label(text)


def test_what_the_forms_cannot_carry() -> None:
    """Documented limits (podops.refs)."""
    with pytest.raises(InvalidInput):  # a typed line has at most three digits
        LineRef.parse(LineRef(OrderRef("main", "7"), 1000).staff)
    with pytest.raises(ValueError, match="names no store"):
        _ = OrderRef.any_store("1234").provider


# Refs kept between transactions reach any order ------------------------------------


def test_a_kept_ref_and_typed_text_find_an_odd_number(db: Database, policy: ShopPolicy) -> None:
    number = received_order(db, policy, number="2024/5001")
    with db.unit_of_work() as session:
        order = services.get_order(session, OrderRef("main", number))
        ref, line = OrderRef.of(order), LineRef.of(order.items[1])
        assert (ref, line) == (OrderRef("main", number), LineRef(ref, 2))
        assert order.items[1].reference == line.label == "2024/5001-02"
        assert order_by_provider_reference(session, ref.provider) is order
        assert services.get_order(session, number) is order
        assert services.get_order(session, f"main:{number}") is order


def test_a_kept_ref_names_its_store(db: Database, policy: ShopPolicy) -> None:
    received_order(db, policy, number="5001")
    received_order(db, policy, number="5001", store="second")
    with db.unit_of_work() as session:
        assert services.get_order(session, OrderRef("second", "5001")).store.key == "second"
        with pytest.raises(OrderNotFound) as caught:
            services.get_order(session, OrderRef("main", "5002"))
        assert str(caught.value).startswith("no order main:5002")


# Any number a store may send ---------------------------------------------------------

store_numbers = st.text(
    st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=64
).filter(lambda n: n == n.strip() and n != "#")
"""Whatever a store may call an order, as staff would type it (no outer spaces; `#`
alone is not an order number)."""
ODD = ["2024/5001", "A 12", "#1001", "ÄB-7", "12:30", "Main:1", "ab:30", "12.5", "12_", "-5"]


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("2024/5001", OrderRef.any_store("2024/5001")),
        ("main:2024/5001", OrderRef("main", "2024/5001")),
        ("A 12", OrderRef.any_store("A 12")),
        ("12 34", OrderRef.any_store("12 34")),
        ("#1001", OrderRef.any_store("1001")),
        ("12:30", OrderRef.any_store("12:30")),
        ("Main:1234", OrderRef.any_store("Main:1234")),
        ("main:a:b", OrderRef("main", "a:b")),
        (" ÄB-7 ", OrderRef.any_store("ÄB-7")),
    ],
)
def test_staff_may_type_any_number(text: str, first: OrderRef) -> None:
    assert OrderRef.parse_staff(text) == first


def test_a_store_prefix_and_a_hash_are_only_the_first_reading() -> None:
    assert OrderRef.staff_readings("ab:30") == [OrderRef("ab", "30"), OrderRef.any_store("ab:30")]
    assert OrderRef.staff_readings("main:#1001") == [
        OrderRef("main", "1001"),
        OrderRef("main", "#1001"),
        OrderRef.any_store("main:#1001"),
    ]
    assert OrderRef.staff_readings("#1001") == [
        OrderRef.any_store("1001"),
        OrderRef.any_store("#1001"),
    ]
    assert OrderRef.pasted_readings("12:30") == [OrderRef.any_store("12:30")]
    assert OrderRef.pasted_readings("ab:30") == [OrderRef("ab", "30"), OrderRef.any_store("ab:30")]


@given(store=store_keys, number=store_numbers)
def test_every_number_is_among_the_staff_readings(store: str, number: str) -> None:
    assert OrderRef(store, number) in OrderRef.staff_readings(OrderRef(store, number).staff)
    assert OrderRef.any_store(number) in OrderRef.staff_readings(number)
    assert OrderRef(store, number) in OrderRef.pasted_readings(OrderRef(store, number).staff)
    if not number.startswith("#"):
        assert OrderRef.parse_staff(OrderRef(store, number).staff) == OrderRef(store, number)


def test_provider_references_escape_what_providers_refuse() -> None:
    assert OrderRef("main", "1234").provider == "main-1234"
    assert OrderRef("main", "A-12_b").provider == "main-A-12_b"
    assert OrderRef("main", "2024/5001").provider == "main--2024_2F5001"
    assert OrderRef("main", "ÄB-7").provider == "main--_C3_84B-7"
    assert OrderRef("main", "12_").provider == "main-12_"  # as sent before escaping existed
    assert OrderRef("main", "-5").provider == "main---5"
    assert OrderRef("main", "12.5").provider == "main-12.5"  # as sent before escaping existed
    assert OrderRef.parse_provider("main-12.5") == OrderRef("main", "12.5")


@given(store=store_keys, number=any_numbers)
def test_provider_references_are_provider_safe(store: str, number: str) -> None:
    # `.` only in numbers sent as they are (podops sent those before escaping existed)
    assert re.fullmatch(r"[0-9A-Za-z_.-]+", OrderRef(store, number).provider)
    assert re.fullmatch(r"[0-9A-Za-z_-]+", OrderRef(store, number).print_name)


@pytest.mark.parametrize("text", ["main--", "main--_2", "main--_2f", "main--a.b", "main--_C3"])
def test_an_escape_we_did_not_make_is_no_order(text: str) -> None:
    with pytest.raises(OrderNotFound):
        OrderRef.parse_provider(text)


@given(store=store_keys, number=any_numbers, other=any_numbers, position=positions)
def test_print_file_names_never_collide(store: str, number: str, other: str, position: int) -> None:
    name = OrderRef(store, number).print_name
    assert len(name) <= 64 and print_file_stem(name, position) == f"{name}-{position}"
    if other != number:
        assert OrderRef(store, other).print_name != name


def test_long_print_names_keep_a_hash_of_the_whole() -> None:
    one, two = OrderRef("main", "9" * 63 + "1"), OrderRef("main", "9" * 63 + "2")
    assert one.print_name != two.print_name and len(one.print_name) == 64
    assert one.print_name.startswith("main-" + "9" * 47 + "-")


@pytest.mark.parametrize("number", ODD)
def test_odd_numbers_are_found_typed_and_by_provider_reference(
    db: Database, policy: ShopPolicy, number: str
) -> None:
    received_order(db, policy, number=number)
    with db.unit_of_work() as session:
        order = services.get_order(session, OrderRef("main", number))
        assert services.get_order(session, f"main:{number}") is order
        assert services.get_order(session, number) is order
        assert order_by_provider_reference(session, OrderRef.of(order).provider) is order


def test_an_odd_number_in_two_stores_is_ambiguous(db: Database, policy: ShopPolicy) -> None:
    received_order(db, policy, number="2024/5001")
    received_order(db, policy, number="2024/5001", store="second")
    with db.unit_of_work() as session:
        with pytest.raises(AmbiguousReference, match="main:2024/5001, second:2024/5001"):
            services.get_order(session, "2024/5001")
        assert services.get_order(session, "second/2024/5001").store.key == "second"


@given(store=store_keys, number=any_numbers)
def test_a_staff_form_with_its_store_reads_back_exactly_as_pasted(store: str, number: str) -> None:
    """What `PrintFiles.render_detached` relies on: `main:#1001` keeps its `#`."""
    assert OrderRef.parse_pasted(OrderRef(store, number).staff) == OrderRef(store, number)
