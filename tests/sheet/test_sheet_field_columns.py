"""The Orders tab's personalization columns are our field names, never the store's
meta keys: a column named after a meta key would stay empty and edit nothing."""

from __future__ import annotations

from podops.settings import Settings
from sync.sheets.mirror import personalization_fields


def test_a_mapped_meta_key_shows_as_the_field_it_maps_to() -> None:
    settings = Settings(
        stores={
            "main": {
                "personalization": {"fields": {"Name on shirt": "name"}},
                "product_personalization": {"MUG-*": {"fields": {"Mug text": "message"}}},
            }
        }
    )  # type: ignore[arg-type]
    assert personalization_fields(settings, [], []) == ["message", "name"]
