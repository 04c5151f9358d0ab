"""A deterministic, photo-like stand-in for a customer's picture.

Template checks and the benchmark need a photo that behaves like a real one
(smooth colour gradients, soft shapes and a little sensor noise, so it neither
compresses absurdly well nor like pure noise) without shipping one. Built only
from Pillow operations with fixed parameters, so the same size always gives the
same picture.
"""

from __future__ import annotations

import random

from PIL import Image, ImageChops, ImageDraw, ImageFilter

NOISE_AMPLITUDE = 6
NOISE_TILE = 509


def make_sample_photo(size: tuple[int, int] = (3000, 3000), seed: int = 7) -> Image.Image:
    """An RGB picture: a sky-like gradient, blurred blobs and low-amplitude noise."""
    width, height = size
    sky = Image.linear_gradient("L").resize(size).rotate(20, expand=False, fillcolor=255)
    glow = Image.radial_gradient("L").resize(size)
    side = Image.linear_gradient("L").transpose(Image.Transpose.ROTATE_90).resize(size)
    photo = Image.merge("RGB", (ImageChops.invert(glow), side, ImageChops.invert(sky)))
    draw = ImageDraw.Draw(photo)
    chooser = random.Random(seed)
    for _ in range(14):
        x, y = chooser.uniform(0, width), chooser.uniform(0, height)
        radius = chooser.uniform(0.05, 0.2) * min(size)
        colour = tuple(chooser.randrange(40, 230) for _ in range(3))
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=colour)
    photo = photo.filter(ImageFilter.GaussianBlur(max(1, min(size) // 400)))
    return ImageChops.add(photo, _noise(size, chooser), scale=1.0, offset=-128)


def _noise(size: tuple[int, int], chooser: random.Random) -> Image.Image:
    """Seeded noise around 128 (Pillow's effect_noise cannot be seeded), tiled from
    a prime-sized patch so no pattern lines up with 8 x 8 JPEG blocks."""
    side = min(NOISE_TILE, *size)
    spread = 2 * NOISE_AMPLITUDE + 1
    patch = Image.frombytes("RGB", (side, side), chooser.randbytes(side * side * 3))
    patch = patch.point(lambda value: 128 - NOISE_AMPLITUDE + value % spread)
    noise = Image.new("RGB", size)
    for top in range(0, size[1], side):
        for left in range(0, size[0], side):
            noise.paste(patch, (left, top))
    return noise
