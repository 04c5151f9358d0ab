"""The fast paths of composing give the print file the straightforward way would."""

from __future__ import annotations

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageOps

from render.compose import compose, ink_tiles
from render.photo_layer import frame_mask
from render.sample_photo import make_sample_photo
from render.templates import load_templates
from tests.render.render_test_support import SHIPPED_TEMPLATES


@pytest.mark.slow
def test_a_full_size_tee_matches_a_one_piece_lanczos_composition() -> None:
    template = load_templates(SHIPPED_TEMPLATES)["tee-front"]
    photo = make_sample_photo((3000, 2400))  # landscape: the cover fit crops the sides
    image = compose(template, {"name": "Maria"}, {"photo": photo})

    reference = Image.new("RGBA", template.size_px, (0, 0, 0, 0))
    framed = ImageOps.fit(photo, (2700, 2700), Image.Resampling.LANCZOS)
    framed.putalpha(frame_mask("circle", (2700, 2700)))
    reference.alpha_composite(framed, (900, 450))
    reference.alpha_composite(template.artwork(template.layers[1]), (750, 300))
    above_text = (0, 0, 4500, 3400)  # the name's box starts at 11.5 in

    difference = ImageChops.difference(image.crop(above_text), reference.crop(above_text))
    assert difference.getchannel("A").getbbox() is None  # the frame's shape is exact
    assert max(high for _, high in difference.getextrema()[:3]) <= 4  # rounding only
    difference.paste((0, 0, 0, 0), (900, 450, 3600, 3150))  # the photo's box
    assert difference.getbbox(alpha_only=False) is None  # identical everywhere else


def test_pasting_on_empty_canvas_equals_alpha_compositing_for_every_alpha() -> None:
    """The premise of the paste shortcut, over all 256 x 256 value/alpha pairs."""
    pixels = bytes(
        channel
        for alpha in range(256)
        for value in range(256)
        for channel in (value, 255 - value, value * 7 % 256, alpha)
    )
    layer = Image.frombytes("RGBA", (256, 256), pixels)
    composited = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    composited.alpha_composite(layer, (20, 10))
    pasted = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    coverage = layer.getchannel("A").point([0] + [255] * 255).convert("1")
    pasted.paste(layer, (20, 10), coverage)
    assert pasted.tobytes() == composited.tobytes()


def test_artwork_tiles_composite_to_the_same_pixels_as_the_whole_artwork() -> None:
    ring = Image.new("RGBA", (700, 600), (0, 0, 0, 0))
    ImageDraw.Draw(ring).ellipse((20, 20, 680, 580), outline=(200, 30, 60, 180), width=25)
    background = make_sample_photo((900, 800)).convert("RGBA")
    whole = background.copy()
    whole.alpha_composite(ring, (100, 100))
    tiled = background.copy()
    tiles = ink_tiles(ring, ring.size)
    for tile, (x, y) in tiles:
        tiled.alpha_composite(tile, (100 + x, 100 + y))
    assert tiled.tobytes() == whole.tobytes()
    assert sum(tile.width * tile.height for tile, _ in tiles) < 0.6 * 700 * 600
