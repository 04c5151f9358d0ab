"""A photo's crop and its effective resolution, in the renderer: the photo's own pixels
over the frame's inches after the crop, the template's minimum, and a crop that moves
and zooms the photo exactly as the numbers say (a test template at 20 DPI keeps the
print files small; the effective resolution does not depend on the template's DPI)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from podops.errors import RenderRefused
from podops.photos import Crop, PhotoFit
from render.compose import compose
from render.images import FetchPolicy
from render.renderer import PrintFileRenderer, measure_photos, photo_decoders
from render.sample_photo import make_sample_photo
from render.templates import ImageLayer, TemplateInvalid, load_template
from tests.render.render_test_support import SMALL_TEE, jpeg_bytes, sample_jpeg, write_template


@pytest.fixture
def tee(tmp_path: Path) -> PrintFileRenderer:
    write_template(tmp_path / "templates", "tee", SMALL_TEE)
    return PrintFileRenderer(tmp_path / "templates", tmp_path / "out", FetchPolicy())


def test_a_400_pixel_photo_in_a_9_inch_frame_is_44_dpi_and_zoom_2_halves_it(
    tee: PrintFileRenderer,
) -> None:
    rendered = tee.render_fetched("1", 1, "tee", {"name": "Ana"}, {"photo": sample_jpeg()})
    assert rendered.photos == (PhotoFit("photo", 400, 400, 9.0, 9.0, "cover", 150),)
    fit = rendered.photos[0]
    assert (fit.dpi(), fit.dpi(Crop(2.0)), fit.too_low()) == (44, 22, True)
    zoomed = tee.render_fetched(
        "1", 1, "tee", {"name": "Ana"}, {"photo": sample_jpeg()}, {"photo": Crop(2.0)}
    )
    assert zoomed.photos == rendered.photos  # the photo is the same; the crop halves its DPI


def test_the_resolution_counts_the_photo_upright_and_as_the_frame_crops_it(
    tmp_path: Path,
) -> None:
    landscape = PhotoFit("photo", 3000, 1500, 9.0, 9.0)
    assert landscape.dpi() == 166  # the height fills the round frame; the sides are cut
    assert PhotoFit("photo", 3000, 1500, 9.0, 9.0, fit="contain").dpi() == 333
    assert PhotoFit("photo", 1500, 1500, 9.0, 9.0).dpi() == 166
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: stored 600 x 400, shown 400 x 600
    data = jpeg_bytes(make_sample_photo((600, 400)), exif=exif.tobytes())
    template = load_template(write_template(tmp_path, "tee", SMALL_TEE))
    [fit] = measure_photos(template, {"photo": data}, {})
    assert (fit.width_px, fit.height_px) == (400, 600)


def test_a_template_sets_its_minimum_and_an_image_layer_its_own(tmp_path: Path) -> None:
    default = load_template(write_template(tmp_path, "a", SMALL_TEE))
    assert default.min_dpi == 150
    stricter = load_template(write_template(tmp_path, "b", "min_dpi = 200\n" + SMALL_TEE))
    photo = next(layer for layer in stricter.layers if isinstance(layer, ImageLayer))
    assert stricter.min_dpi_of(photo) == 200
    own = SMALL_TEE.replace('mask = "circle"', 'mask = "circle"\nmin_dpi = 0')
    unchecked = load_template(write_template(tmp_path, "c", own))
    photo = next(layer for layer in unchecked.layers if isinstance(layer, ImageLayer))
    assert unchecked.min_dpi_of(photo) == 0
    [fit] = measure_photos(unchecked, {"photo": sample_jpeg()}, {})
    assert not fit.too_low()
    with pytest.raises(TemplateInvalid) as refused:
        load_template(write_template(tmp_path, "d", "min_dpi = -5\n" + SMALL_TEE))
    assert "key 'min_dpi'" in refused.value.message and "-5" in refused.value.message


def _frame(image: Image.Image) -> Image.Image:
    """The tee's photo box at 20 DPI: 180 x 180 pixels from (60, 30)."""
    return image.crop((60, 30, 240, 210)).convert("RGB")


def _inner(image: Image.Image) -> Image.Image:
    """The middle of the round frame, away from its anti-aliased edge."""
    return image.crop((45, 45, 135, 135))


def test_zoom_and_offset_show_the_part_of_the_photo_the_numbers_say(tmp_path: Path) -> None:
    template = load_template(write_template(tmp_path, "tee", SMALL_TEE))
    photo = make_sample_photo((800, 800))
    zoomed = compose(template, {"name": "A"}, {"photo": photo}, {"photo": Crop(2.0, 0.5, -0.25)})
    # Zoom 2 shows 400 x 400 photo pixels; moved right by half a frame and up by a
    # quarter, the window starts at x = 200 - 200 = 0 and y = 200 + 100 = 300.
    expected = compose(template, {"name": "A"}, {"photo": photo.crop((0, 300, 400, 700))})
    difference = ImageChops.difference(_inner(_frame(zoomed)), _inner(_frame(expected)))
    assert max(high for _, high in difference.getextrema()) <= 6  # resampling rounding
    plain = compose(template, {"name": "A"}, {"photo": photo})
    moved = ImageChops.difference(_inner(_frame(zoomed)), _inner(_frame(plain)))
    assert max(high for _, high in moved.getextrema()) > 60  # the crop changed the print


def test_a_zoomed_photo_is_decoded_at_the_size_its_crop_needs(tmp_path: Path) -> None:
    template = load_template(write_template(tmp_path, "tee", SMALL_TEE))
    photos = {"photo": sample_jpeg((2000, 2000))}
    plain = photo_decoders(template, photos, 50_000_000)["photo"]()
    zoomed = photo_decoders(template, photos, 50_000_000, {"photo": Crop(4.0)})["photo"]()
    assert 180 <= plain.width < 720 <= zoomed.width  # the box is 180 px at 20 DPI


@pytest.mark.parametrize(
    ("crop", "reason"),
    [
        (Crop(1.0, 0.1, 0.0), "x=10% would leave part of the photo frame empty"),
        (Crop(2.0, 0.0, 0.75), "at zoom 2 the photo moves at most 50% up or down"),
    ],
)
def test_a_crop_leaving_the_frame_empty_is_refused_before_rendering(
    tee: PrintFileRenderer, crop: Crop, reason: str
) -> None:
    with pytest.raises(RenderRefused) as refused:
        tee.render_fetched(
            "1", 1, "tee", {"name": "Ana"}, {"photo": sample_jpeg()}, {"photo": crop}
        )
    assert reason in refused.value.message
    assert not list((tee.output_folder).glob("*.png"))


def test_a_frame_that_shows_the_whole_photo_cannot_be_cropped(tmp_path: Path) -> None:
    whole = SMALL_TEE.replace('fit = "cover"', 'fit = "contain"')
    write_template(tmp_path / "templates", "tee", whole)
    renderer = PrintFileRenderer(tmp_path / "templates", tmp_path / "out", FetchPolicy())
    with pytest.raises(RenderRefused) as refused:
        renderer.render_fetched(
            "1", 1, "tee", {"name": "A"}, {"photo": sample_jpeg()}, {"photo": Crop(1.5)}
        )
    assert "shows the whole photo (fit = contain)" in refused.value.message
    rendered = renderer.render_fetched("1", 1, "tee", {"name": "A"}, {"photo": sample_jpeg()})
    assert rendered.photos[0].fit == "contain" and rendered.photos[0].dpi() == 44


def test_a_photo_that_cannot_be_read_is_refused_by_decoding_not_measuring(
    tee: PrintFileRenderer,
) -> None:
    broken = io.BytesIO(sample_jpeg()).getvalue()[:200]
    with pytest.raises(RenderRefused) as refused:
        tee.render_fetched("1", 1, "tee", {"name": "Ana"}, {"photo": broken})
    assert "damaged" in refused.value.message or "not an image" in refused.value.message
