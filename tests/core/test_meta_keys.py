"""The personalization key rules (podops.meta_keys): names as plugins write them
match, anything else does not, and a key that could mean two fields is not guessed."""

from __future__ import annotations

import pytest

from podops.meta_keys import KeyMatcher, normalize, strip_price


@pytest.mark.parametrize(
    "written",
    [
        "Engraving ($5.00)",  # WooCommerce Product Add-Ons up to 6.x, a priced field
        "Engraving (+$5.00)",
        "Engraving (+ 5,00 €)",
        "Engraving (£2.50)",
        "Engraving (EUR 5)",
        "Engraving (+5 kr)",
        "engraving",
        "ENGRAVING",
        "Engraving:",  # plugins that write the label with its colon
        " Engraving ",
        "_engraving",  # a hidden copy
        "pa_engraving",  # a WooCommerce attribute taxonomy
        "attribute_pa_engraving",  # a variation attribute as the cart stores it
    ],
)
def test_plugin_spellings_of_one_name_normalize_alike(written: str) -> None:
    assert normalize(written) == "engraving"


@pytest.mark.parametrize(
    ("written", "normal"),
    [
        ("Engraving text", "engraving text"),
        ("engraving_text", "engraving text"),  # THEMEHIGH Extra Product Options field name
        ("Engraving-Text", "engraving text"),
        ("Line (max 20)", "line max 20"),  # a number in brackets is not a price
        ("Size (20)", "size 20"),
        ("Café", "café"),
    ],
)
def test_only_a_real_price_is_removed(written: str, normal: str) -> None:
    assert normalize(written) == normal


def test_strip_price_keeps_a_name_without_one() -> None:
    assert strip_price("Gift message (+£2.50)") == "Gift message"
    assert strip_price("Gift message (optional)") == "Gift message (optional)"


def test_an_exact_key_wins_and_a_plugin_key_matches_by_the_rules() -> None:
    matcher = KeyMatcher({"Engraving": "line1", "Gift message": "message"}, {"Photo": "photo"})
    exact = matcher.match("Engraving")
    assert (exact.field, exact.exact) == ("line1", True)
    priced = matcher.match("Engraving ($5.00)", "Engraving ($5.00)")
    assert (priced.field, priced.configured, priced.exact) == ("line1", "Engraving", False)
    assert matcher.match("gift_message").field == "message"
    assert matcher.match("_photo", "Photo (+$3.00)").image == "photo"


def test_no_fuzzy_match() -> None:
    matcher = KeyMatcher({"Name": "name", "Engraving": "line1"}, {})
    for other in ("Names", "Name 2", "First name", "Engraving line 2", "Nam", "Line (max 20)"):
        assert not matcher.match(other).found, other


def test_a_key_that_could_mean_two_fields_is_ambiguous() -> None:
    matcher = KeyMatcher({"Name": "name", "name:": "recipient"}, {})
    found = matcher.match("NAME ($1.00)")
    assert not found.found and found.ambiguous == ("Name", "name:")
    assert matcher.clashes() == [("Name", "name:")]
    assert matcher.match("Name").field == "name", "the exact key still decides"


def test_names_leading_to_the_same_field_are_not_a_clash() -> None:
    matcher = KeyMatcher({"Name": "name", "Your name": "name", "name:": "name"}, {})
    assert matcher.clashes() == []
    assert matcher.match("NAME").field == "name"
