"""Line-item meta as the real plugins write it reaches the configured fields
(WooCommerce JSON shapes: Product Add-Ons' priced keys, woocommerce/woocommerce-ios
issue #3885; attribute taxonomies; THEMEHIGH Extra Product Options slugs; hidden
copies), and what could belong to two fields is a problem on the line, not a guess."""

from __future__ import annotations

from typing import Any

from podops.settings import PersonalizationMapping
from providers.woocommerce_mapping import map_order
from tests.fakes.woocommerce_orders import sample_order
from tests.intake.conftest import store_config


def _meta(key: str, value: Any, display_key: str | None = None) -> dict[str, Any]:
    shown = key if display_key is None else display_key
    return {"id": 1, "key": key, "value": value, "display_key": shown, "display_value": value}


def _line(*meta: dict[str, Any], fields: dict[str, str] | None = None) -> Any:
    mapping = PersonalizationMapping(
        fields=fields or {"Engraving": "line1", "Gift message": "message"},
        images={"Photo": "photo"},
    )
    config = store_config("https://shop.example.com", personalization=mapping)
    return map_order(sample_order(1000, meta=list(meta)), "main", config).items[0]


def test_product_add_ons_priced_keys_fill_the_fields() -> None:
    line = _line(
        _meta("Engraving ($5.00)", "Ana & Bo"),
        _meta("Gift message (+£2.50)", "Happy birthday"),
        _meta("Photo (+$3.00)", "https://img.example/p.jpg"),
    )
    assert line.personalization == {"line1": "Ana & Bo", "message": "Happy birthday"}
    assert line.image_urls == {"photo": "https://img.example/p.jpg"}
    assert line.problems == []


def test_slugs_prefixes_and_colons_fill_the_fields() -> None:
    line = _line(
        _meta("engraving", "Ana", display_key="Engraving:"),
        _meta("gift_message", "Hi", display_key="Gift Message"),  # Extra Product Options
        _meta("_reduced_stock", "1"),
    )
    assert line.personalization == {"line1": "Ana", "message": "Hi"}
    assert line.problems == []
    attribute = _line(_meta("pa_engraving", "ana-bo", display_key="Engraving"))
    assert attribute.personalization == {"line1": "ana-bo"}


def test_a_hidden_copy_with_the_same_value_is_no_problem() -> None:
    line = _line(_meta("Engraving ($5.00)", "Ana"), _meta("_engraving", "Ana"))
    assert line.personalization == {"line1": "Ana"} and line.problems == []


def test_two_keys_filling_one_field_differently_are_reported() -> None:
    line = _line(_meta("Engraving ($5.00)", "Ana"), _meta("_engraving", "Bob"))
    assert line.personalization == {"line1": "Ana"}
    assert line.problems == [
        "meta 'Engraving ($5.00)' and '_engraving' both fill 'line1': check which is meant"
    ]


def test_the_exact_key_wins_over_a_lookalike() -> None:
    line = _line(_meta("engraving:", "Bob"), _meta("Engraving", "Ana"))
    assert line.personalization == {"line1": "Ana"}


def test_a_key_that_could_be_two_fields_fills_neither() -> None:
    fields = {"Name": "name", "name:": "recipient"}
    line = _line(_meta("NAME ($1.00)", "Ana"), fields=fields)
    assert line.personalization == {}
    assert line.problems == ["meta 'NAME ($1.00)' could be any of 'Name', 'name:': not used"]


def test_a_similar_but_different_key_is_not_used() -> None:
    line = _line(_meta("Engraving line 2", "Bo"), _meta("Line (max 20)", "Cy"))
    assert line.personalization == {} and line.problems == []
