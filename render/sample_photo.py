"""Deterministic, photo-like stand-ins for a customer's picture.

Template checks and tests need a photo that behaves like a real one
(smooth colour gradients, soft shapes and a little sensor noise, so it neither
compresses absurdly well nor like pure noise) without shipping one. Built only
from Pillow operations with fixed parameters, so the same size always gives the
same picture. The render benchmark uses `phone_photo`, slower to make but
compressing like a real phone picture (PNG time depends on it).
"""

from __future__ import annotations

import random

from PIL import Image, ImageChops, ImageDraw, ImageFilter

NOISE_AMPLITUDE = 6
NOISE_TILE = 509
TEXTURE_SPREAD = 32
SENSOR_SPREAD = 3


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


def phone_photo(size: tuple[int, int] = (3000, 3000), seed: int = 7) -> Image.Image:
    """A deterministic RGB picture that compresses like a phone photo: a scene with
    multi-scale texture (strong in busy regions, a quarter of it in calm ones),
    colour texture, a slight lens blur, sensor grain and phone-style sharpening."""
    rng = random.Random(seed)
    scene, horizon = _scene(size, rng)
    busy = ImageChops.lighter(
        _value_noise(size, 300, rng, 120).point(lambda v: 0 if v < 100 else min(255, 4 * v - 400)),
        horizon,
    )
    texture = Image.new("L", size, 128)
    spread = float(TEXTURE_SPREAD)
    for cell in (256, 128, 64, 32, 16, 8, 4, 2, 1):
        texture = _add(texture, _value_noise(size, cell, rng, spread))
        spread *= 0.8
    texture = Image.composite(texture, texture.point(lambda v: 128 + (v - 128) // 4), busy)
    channels = []
    for channel in scene.split():
        colour = Image.new("L", size, 128)
        for cell, share in ((64, 4), (16, 5), (4, 6)):
            colour = _add(colour, _value_noise(size, cell, rng, TEXTURE_SPREAD / share))
        channels.append(_add(_add(channel, texture), colour))
    photo = Image.merge("RGB", channels).filter(ImageFilter.GaussianBlur(0.6))
    grainy = [
        _add(
            _add(channel, _value_noise(size, 1, rng, SENSOR_SPREAD)),
            _value_noise(size, 2, rng, SENSOR_SPREAD / 2),
        )
        for channel in photo.split()
    ]
    return Image.merge("RGB", grainy).filter(ImageFilter.UnsharpMask(2, 60, 2))


def _scene(size: tuple[int, int], rng: random.Random) -> tuple[Image.Image, Image.Image]:
    """Sky over green ground with soft shapes; also the ground's mask."""
    width, height = size
    ramp = Image.linear_gradient("L").resize(size)
    scene = Image.merge(
        "RGB",
        (
            ramp.point(lambda v: 60 + v // 2),
            ramp.point(lambda v: 110 + 2 * v // 5),
            ramp.point(lambda v: 200 + v // 5),
        ),
    )
    horizon = ramp.point(lambda v: 255 if v > 110 else 0).filter(ImageFilter.GaussianBlur(20))
    scene.paste((70, 95, 45), (0, 0, width, height), horizon)
    draw = ImageDraw.Draw(scene)
    for _ in range(14):
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        radius = rng.uniform(0.05, 0.2) * min(size)
        colour = tuple(rng.randrange(40, 230) for _ in range(3))
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=colour)
    return scene.filter(ImageFilter.GaussianBlur(3)), horizon


def _value_noise(
    size: tuple[int, int], cell: int, rng: random.Random, spread: float
) -> Image.Image:
    """Seeded noise around 128 with features about `cell` px across, about +-spread deep."""
    width, height = size
    small = (max(2, -(-width // cell) + 1), max(2, -(-height // cell) + 1))
    noise = Image.frombytes("L", small, rng.randbytes(small[0] * small[1]))
    if cell > 1:
        noise = noise.resize((small[0] * cell, small[1] * cell), Image.Resampling.BICUBIC)
    noise = noise.crop((0, 0, width, height))
    return noise.point([max(0, min(255, round(128 + (v - 128) * spread / 74))) for v in range(256)])


def _add(image: Image.Image, noise: Image.Image) -> Image.Image:
    return ImageChops.add(image, noise, scale=1.0, offset=-128)
