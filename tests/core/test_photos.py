"""The arithmetic of a photo in its frame, and reading what staff type for a crop."""

from __future__ import annotations

import pytest

from podops.crop_input import crop_cell, parse_crop, parse_crop_cell, split_crop_settings
from podops.errors import InvalidInput
from podops.photos import Crop, PhotoFit, is_accepted, photo_statuses, with_state

TEE = PhotoFit("photo", 400, 400, 9.0, 9.0)


def test_a_crop_is_read_as_fractions_or_percent_and_shown_in_percent() -> None:
    assert parse_crop("zoom=1.5 x=0.1 y=-5%") == Crop(1.5, 0.1, -0.05)
    assert parse_crop(" zoom=150% , x=+.25 ") == Crop(1.5, 0.25, 0.0)
    assert parse_crop("ZOOM=2x") == Crop(2.0)
    assert parse_crop("") == Crop()
    assert Crop(1.5, 0.1, -0.05).text == "zoom=1.5 x=10% y=-5%"
    assert parse_crop(Crop(1.25, 0.125, 1 / 3).text) == Crop(1.25, 0.125, 0.333333)


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("zoom=nan", "zoom 'nan' is not a number"),
        ("zoom=inf", "zoom 'inf' is not a number"),
        ("x=-infinity", "x '-infinity' is not a number"),
        ("x=1,5", "'5' is not a crop setting"),
        ("zoom=0.99", "zoom '0.99' is out of range"),
        ("zoom=8.5", "zoom '8.5' is out of range"),
        ("x=6000%", "x '6000%' is out of range"),
        ("zoom=1.5 zoom=2", "zoom is given twice"),
        ("rotate=90", "'rotate' is not a crop setting"),
        ("zoom", "'zoom' is not a crop setting"),
    ],
)
def test_what_cannot_be_a_crop_is_refused_with_the_reason(typed: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_crop(typed)
    assert reason in refused.value.message


def test_crop_settings_are_told_apart_from_personalization_fields() -> None:
    fields = {"name": "ANA", "photo.zoom": "1.5", "photo.X": "10%", "note.txt": "hi", "a.b.y": "0"}
    personalization, crops = split_crop_settings(fields)
    assert personalization == {"name": "ANA", "note.txt": "hi"}
    assert crops == {"photo": {"zoom": "1.5", "x": "10%"}, "a.b": {"y": "0"}}


def test_the_resolution_is_the_photos_own_pixels_over_the_frames_inches() -> None:
    assert (TEE.dpi(), TEE.dpi(Crop(2.0)), TEE.dpi(Crop(4.0, 0.5, 0.0))) == (44, 22, 11)
    assert PhotoFit("photo", 1350, 1350, 9.0, 9.0).dpi() == 150  # exactly the minimum
    assert not PhotoFit("photo", 1350, 1350, 9.0, 9.0).too_low()
    assert PhotoFit("photo", 1349, 1349, 9.0, 9.0).too_low()
    assert PhotoFit("photo", 400, 400, 9.0, 9.0, min_dpi=0).too_low() is False


def test_a_photo_moves_only_as_far_as_it_reaches_past_its_frame() -> None:
    wide = PhotoFit("photo", 3000, 1500, 9.0, 9.0)  # twice as wide as the round frame
    assert wide.reach(1.0) == pytest.approx((0.5, 0.0))
    wide.check(Crop(1.0, -0.5, 0.0))
    with pytest.raises(InvalidInput, match="the photo cannot move up or down; zoom in first"):
        wide.check(Crop(1.0, 0.0, 0.01))
    assert TEE.reach(3.0) == pytest.approx((1.0, 1.0))
    TEE.check(Crop(3.0, 1.0, -1.0))
    with pytest.raises(InvalidInput, match="at zoom 3 the photo moves at most 100% left or right"):
        TEE.check(Crop(3.0, 1.01, 0.0))
    whole = PhotoFit("logo", 400, 400, 2.0, 2.0, fit="contain")
    whole.check(Crop())
    with pytest.raises(InvalidInput, match="only a frame the photo fills"):
        whole.check(Crop(1.1))


def test_an_acceptance_holds_for_that_photo_crop_and_resolution_only() -> None:
    accepted = {"url": "u1", "crop": Crop(1.2).to_json(), "dpi": 37}
    photos = with_state({}, "photo", accepted=accepted)
    assert is_accepted(photos, "photo", "u1", Crop(1.2), 37)
    assert is_accepted(photos, "photo", "u1", Crop(1.2), 40)  # a template made it better
    assert not is_accepted(photos, "photo", "u1", Crop(1.2), 30)  # ...or worse
    assert not is_accepted(photos, "photo", "u2", Crop(1.2), 37)  # another photo
    assert not is_accepted(photos, "photo", "u1", Crop(1.3), 37)  # another crop
    assert not is_accepted(photos, "logo", "u1", Crop(1.2), 37)


def test_a_stored_value_podops_cannot_read_is_the_default_crop() -> None:
    assert Crop.from_json({"zoom": "x", "x": 0, "y": 0}) == Crop()
    assert Crop.from_json({"zoom": float("nan"), "x": 0, "y": 0}) == Crop()
    assert Crop.from_json(None) == Crop()
    assert PhotoFit.from_json("photo", {"width_px": 1}) is None


def test_the_crop_cell_names_photos_only_when_a_line_has_several() -> None:
    photos = with_state({}, "photo", crop=Crop(1.5, 0.1, 0.0).to_json())
    one = photo_statuses(photos, {"photo": "u1"})
    assert crop_cell(one) == "zoom=1.5 x=10% y=0%"
    assert crop_cell(photo_statuses({}, {"photo": "u1"})) == ""
    two = photo_statuses(photos, {"photo": "u1", "logo": "u2", "empty": ""})
    assert [s.field for s in two] == ["logo", "photo"]
    assert crop_cell(two) == "photo: zoom=1.5 x=10% y=0%"
    assert parse_crop_cell("zoom=2", ["photo"]) == {"photo": Crop(2.0)}
    assert parse_crop_cell("logo: zoom=2; photo: x=0%", ["logo", "photo"]) == {
        "logo": Crop(2.0),
        "photo": Crop(),
    }
    assert parse_crop_cell("", ["logo", "photo"]) == {"logo": Crop(), "photo": Crop()}
    with pytest.raises(InvalidInput, match="this line has 2 photos; name each"):
        parse_crop_cell("zoom=2", ["logo", "photo"])
    with pytest.raises(InvalidInput, match="this line has no photo to crop"):
        parse_crop_cell("zoom=2", [])
