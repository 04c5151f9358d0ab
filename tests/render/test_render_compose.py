"""Composing print files: what the customer personalized is what gets printed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from podops.errors import RenderRefused
from render.compose import compose
from render.renderer import render_sample
from render.sample_photo import make_sample_photo
from render.templates import ProductTemplate, load_template, load_templates
from tests.render.render_test_support import (
    SHIPPED_TEMPLATES,
    SMALL_TEE,
    ink_bounds,
    write_template,
)

GOLDEN = Path(__file__).parent / "golden"
GOLDEN_DPI = 20
UPDATE_GOLDENS = os.environ.get("PODOPS_UPDATE_GOLDENS") == "1"


@pytest.fixture(scope="module")
def shipped() -> dict[str, ProductTemplate]:
    return load_templates(SHIPPED_TEMPLATES)


@pytest.fixture
def tee(tmp_path: Path) -> ProductTemplate:
    return load_template(write_template(tmp_path, "tee", SMALL_TEE))


def photo(size: tuple[int, int] = (300, 300)) -> Image.Image:
    return make_sample_photo(size)


def assert_close_to_golden(image: Image.Image, name: str) -> None:
    """Mean difference under 1 level and under 0.5 % of pixels off by more than 40."""
    path = GOLDEN / f"{name}.png"
    if UPDATE_GOLDENS:
        GOLDEN.mkdir(exist_ok=True)
        image.save(path, optimize=True)
    golden = Image.open(path).convert(image.mode)
    assert golden.size == image.size
    difference = ImageChops.difference(image, golden)
    assert max(ImageStat.Stat(difference).mean) < 1.0
    strong = difference.convert("L").point(lambda value: 255 if value > 40 else 0)
    assert ImageStat.Stat(strong).mean[0] / 255 < 0.005


@pytest.mark.parametrize("key", ["tee-front", "mug-11oz", "poster-12x18"])
def test_shipped_products_render_like_their_approved_golden(
    shipped: dict[str, ProductTemplate], key: str
) -> None:
    image = render_sample(shipped[key].at_dpi(GOLDEN_DPI))
    assert_close_to_golden(image, key)


def test_tee_is_transparent_outside_the_artwork(tee: ProductTemplate) -> None:
    image = compose(tee, {"name": "Maria"}, {"photo": photo()})
    assert image.mode == "RGBA" and image.size == (300, 360)
    assert image.getpixel((5, 5)) == (0, 0, 0, 0)
    assert image.getpixel((150, 355)) == (0, 0, 0, 0)


def test_photo_fills_the_circle_and_nothing_outside_it(tee: ProductTemplate) -> None:
    picture = Image.new("RGB", (500, 500), (200, 40, 40))
    image = compose(tee, {"name": "Maria"}, {"photo": picture})
    left, top, size = 60, 30, 180  # the 9 in frame at 20 DPI
    assert image.getpixel((left + size // 2, top + size // 2)) == (200, 40, 40, 255)
    assert image.getpixel((left + 3, top + 3))[3] == 0  # the frame's corner is cut away
    assert image.getpixel((left + size // 2, top + 1))[3] > 0  # the circle reaches its edge


def test_wide_photo_in_a_cover_frame_keeps_its_centre(tee: ProductTemplate) -> None:
    picture = Image.new("RGB", (900, 300), (0, 0, 255))
    picture.paste((0, 255, 0), (300, 0, 600, 300))  # a green middle third
    image = compose(tee, {"name": "Maria"}, {"photo": picture})
    assert image.getpixel((150, 120))[:3] == (0, 255, 0)


def test_a_long_name_shrinks_but_stays_inside_its_box(tee: ProductTemplate) -> None:
    short = compose(tee, {"name": "Ann"}, {"photo": photo()})
    long = compose(tee, {"name": "Maximiliane-Josephine Sch"}, {"photo": photo()})
    box = (15, 230, 285, 282)  # 0.75..14.25 in x 11.5..14.1 in at 20 DPI
    short_ink = ink_bounds(short.crop(box))
    long_ink = ink_bounds(long.crop(box))
    assert short_ink and long_ink
    assert long_ink[0] > 0 and long_ink[2] < box[2] - box[0]  # nothing touches the box sides
    short_height = short_ink[3] - short_ink[1]
    long_height = long_ink[3] - long_ink[1]
    assert long_height < short_height  # it got smaller to fit


def test_text_too_long_even_at_minimum_size_is_refused(tmp_path: Path) -> None:
    body = SMALL_TEE.replace("min_size_pt = 30", "min_size_pt = 100")
    tee = load_template(write_template(tmp_path, "tee", body))
    with pytest.raises(RenderRefused, match=r"does not fit its 13.5 x 2.6 in box even at 100 pt"):
        compose(tee, {"name": "W" * 30}, {"photo": photo()})


def test_ten_thousand_characters_are_refused_by_max_length(tee: ProductTemplate) -> None:
    with pytest.raises(RenderRefused) as refused:
        compose(tee, {"name": "a" * 10_000}, {"photo": photo()})
    assert refused.value.message == (
        "the text in field 'name' is 10,000 characters long; at most 30 fit on this product"
    )


@pytest.mark.parametrize("emoji", ["😀", "❤️", "🇫🇷", "👍🏽"])
def test_emoji_is_refused_with_the_reason(tee: ProductTemplate, emoji: str) -> None:
    with pytest.raises(RenderRefused) as refused:
        compose(tee, {"name": f"Maria {emoji}"}, {"photo": photo()})
    assert "field 'name' contains emoji" in refused.value.message
    assert "please remove them" in refused.value.message


def test_text_symbols_like_a_heart_are_still_printed(tee: ProductTemplate) -> None:
    image = compose(tee, {"name": "I ♥ NY"}, {"photo": photo()})
    assert ink_bounds(image.crop((15, 230, 285, 282))) is not None


def test_characters_missing_from_the_font_are_refused_not_printed_as_boxes(
    tee: ProductTemplate,
) -> None:
    with pytest.raises(RenderRefused) as refused:
        compose(tee, {"name": "李小龙"}, {"photo": photo()})
    assert refused.value.message.startswith("the font DejaVu Sans Bold cannot draw '李'")
    assert "'小'" in refused.value.message and "in field 'name'" in refused.value.message


@pytest.mark.parametrize("name", ["Zoë Ångström", "Ελένη", "Наталья", "Łukasz Żółć"])
def test_accented_greek_and_cyrillic_names_are_drawn(tee: ProductTemplate, name: str) -> None:
    image = compose(tee, {"name": name}, {"photo": photo()})
    assert ink_bounds(image.crop((15, 230, 285, 282))) is not None


def test_decomposed_accents_are_normalised_before_the_font_check(tee: ProductTemplate) -> None:
    decomposed = "Zoe\u0308"  # e + combining diaeresis: the font has the precomposed ë
    composed = compose(tee, {"name": "Zoë"}, {"photo": photo()})
    assert compose(tee, {"name": decomposed}, {"photo": photo()}).tobytes() == composed.tobytes()


def test_case_transform_is_applied(shipped: dict[str, ProductTemplate]) -> None:
    template = shipped["tee-front"].at_dpi(GOLDEN_DPI)
    upper = compose(template, {"name": "maria"}, {"photo": photo()})
    already = compose(template, {"name": "MARIA"}, {"photo": photo()})
    assert upper.tobytes() == already.tobytes()


def test_missing_required_text_and_photo_are_refused(tee: ProductTemplate) -> None:
    with pytest.raises(RenderRefused, match="field 'name' is empty"):
        compose(tee, {"name": "   "}, {"photo": photo()})
    with pytest.raises(RenderRefused, match="the photo for field 'photo' is missing"):
        compose(tee, {"name": "Maria"}, {})


def test_line_breaks_in_a_single_line_field_are_refused(tee: ProductTemplate) -> None:
    with pytest.raises(RenderRefused, match="single line"):
        compose(tee, {"name": "Maria\nJo"}, {"photo": photo()})


def test_mug_message_wraps_onto_several_lines(shipped: dict[str, ProductTemplate]) -> None:
    mug = shipped["mug-11oz"].at_dpi(60)
    one = compose(mug, {"message": "Hi"}, {"photo": photo()})
    many = compose(
        mug, {"message": "To the best grandpa in the whole wide world"}, {"photo": photo()}
    )
    text_box = (216, 21, 489, 189)  # 3.6..8.15 in x 0.35..3.15 in at 60 DPI

    def ink_height(image: Image.Image) -> int:
        inverted = ImageChops.invert(image.crop(text_box).convert("L"))
        bounds = inverted.getbbox()
        assert bounds is not None
        return bounds[3] - bounds[1]

    assert one.mode == "RGB" and one.getpixel((2, 2)) == (255, 255, 255)
    assert ink_height(many) > 2 * ink_height(one)
