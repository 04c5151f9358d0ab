"""The address rules on their own (`podops.address`): whatever is typed is stored
clean and bounded or refused whole, with a reason naming the field."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from podops.address import (
    FIELDS,
    LIMITS,
    address_problems,
    check_change,
    digest,
    one_line,
    required_fields,
    shown,
)
from podops.errors import InvalidInput
from tests.factories import ADDRESS


def test_a_change_is_stored_in_the_shops_keys_and_lists_each_field_old_and_new() -> None:
    change = check_change(ADDRESS, {"line2": " Apt  4 ", "name": "Mary Ann Smith", "country": "us"})
    assert change.changed == {
        "name": ("Ana Smith", "Mary Ann Smith"),
        "line2": ("", "Apt 4"),
    }
    assert change.address["address_2"] == "Apt 4"
    assert (change.address["first_name"], change.address["last_name"]) == ("Mary Ann", "Smith")
    assert change.address["country"] == "US"
    assert shown(change.address)["name"] == "Mary Ann Smith"
    assert one_line(change.address) == "Mary Ann Smith, 12 Main St, Apt 4, Springfield IL 62701, US"


def test_every_refused_field_is_named_and_nothing_is_taken() -> None:
    with pytest.raises(InvalidInput) as refused:
        check_change(
            ADDRESS,
            {"line2": "Apt 4", "city": "x" * 51, "country": "XX", "phone": "1\n2"},
            provider_needs=frozenset({"postcode"}),
        )
    reason = refused.value.message
    assert "address.city is 51 characters" in reason
    assert "address.country 'XX' is not a country code" in reason
    assert "address.phone contains a control or invisible character (U+000A)" in reason
    assert "line2" not in reason


def test_a_field_the_provider_needs_cannot_be_emptied_but_a_missing_one_is_a_problem() -> None:
    with pytest.raises(InvalidInput, match=r"address\.postcode cannot be empty: cc needs it"):
        check_change(
            ADDRESS, {"postcode": ""}, provider_needs=frozenset({"postcode"}), provider="cc"
        )
    with pytest.raises(InvalidInput, match=r"address\.state cannot be empty"):
        check_change(ADDRESS, {"state": " "})  # US addresses need their state
    no_zip = {**ADDRESS, "postcode": ""}
    assert check_change(no_zip, {"line2": "Apt 4"}).changed  # filling in goes step by step
    assert address_problems(no_zip, frozenset({"postcode"})) == ["shipping address has no postcode"]
    assert address_problems({}, frozenset()) == ["no shipping address"]
    assert "postcode" not in required_fields(frozenset({"postcode"}), "HK")


def test_a_verdict_is_tied_to_the_exact_address() -> None:
    assert digest(ADDRESS) == digest({**ADDRESS, "city": " Springfield "})
    assert digest(ADDRESS) != digest({**ADDRESS, "address_2": "Apt 4"})


@given(
    st.sampled_from(FIELDS),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=90),
)
def test_whatever_is_typed_is_stored_clean_and_bounded_or_refused(name: str, text: str) -> None:
    try:
        change = check_change(ADDRESS, {name: text})
    except InvalidInput as refused:
        assert f"address.{name}" in refused.message
        return
    value = shown(change.address)[name]
    assert len(value) <= LIMITS[name]
    assert value.replace("\u200c", "").replace("\u200d", "").isprintable()
    assert value == value.strip()
