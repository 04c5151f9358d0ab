"""Every accepted photo renders within the render bench's 400 MB, whatever its format.

For each format and pixel mode Pillow decodes here (PNG RGBA/RGB/palette/16-bit
grey, GIF, TIFF, WebP RGB/RGBA, and JPEGs too close to the box's size to be
decoded at half size), the largest photo `photo_decode` accepts renders the
shipped tee in a fresh process under 400 MB peak resident memory; one a little
larger is refused with a reason naming the largest accepted size. The worst
shapes are used: a short side just under twice the box's, so the photo is not
halved but resized to the box's covering size.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from podops.errors import RenderRefused
from render.photo_decode import MAX_DECODE_BYTES, decode_cost, decode_image
from tests.render.test_render_memory import PEAK_LIMIT_MB, peak_render_mb

BOX = (2700, 2700)  # the tee's 9 in photo frame at 300 DPI


def _gradient(size: tuple[int, int]) -> Image.Image:
    return Image.linear_gradient("L").resize(size)


def _rgb(size: tuple[int, int]) -> Image.Image:
    grey = _gradient(size)
    return Image.merge("RGB", (grey, grey.transpose(Image.Transpose.ROTATE_180), grey))


def _rgba(size: tuple[int, int]) -> Image.Image:
    photo = _rgb(size).convert("RGBA")
    photo.putalpha(_gradient(size).transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    return photo


def _grey16(size: tuple[int, int]) -> Image.Image:
    return _gradient(size).convert("I").point(lambda value: value * 256).convert("I;16")


Maker = Callable[[tuple[int, int]], Image.Image]
# kind: (make the pixels, save as, save options, largest accepted size, just too large)
KINDS: dict[str, tuple[Maker, str, dict[str, object], tuple[int, int], tuple[int, int]]] = {
    "png-rgba": (_rgba, "PNG", {}, (9000, 5490), (9000, 5540)),
    "png-rgb": (_rgb, "PNG", {}, (9000, 5490), (9000, 5540)),
    "png-palette": (lambda s: _rgb(s).quantize(256), "PNG", {}, (9000, 5490), (9000, 5540)),
    "png-16-bit-grey": (_grey16, "PNG", {}, (9000, 5490), (9000, 5540)),
    "gif": (lambda s: _rgb(s).quantize(256), "GIF", {}, (9000, 5490), (9000, 5540)),
    "tiff-rgba": (_rgba, "TIFF", {"compression": "tiff_deflate"}, (7100, 4780), (7300, 4800)),
    "webp-rgb": (_rgb, "WEBP", {"quality": 50}, (4890, 3270), (5000, 3300)),
    "webp-rgba": (_rgba, "WEBP", {"quality": 50}, (4890, 3270), (5000, 3300)),
    "jpeg-not-halved": (_rgb, "JPEG", {"quality": 85}, (9100, 5398), (9260, 5399)),
    "jpeg-progressive-not-halved": (
        _rgb,
        "JPEG",
        {"quality": 85, "progressive": True},
        (7050, 4700),
        (7200, 4800),
    ),
}


def encoded(kind: str, size: tuple[int, int]) -> bytes:
    make, file_format, options, _, _ = KINDS[kind]
    buffer = io.BytesIO()
    make(size).save(buffer, file_format, **options)
    return buffer.getvalue()


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_largest_accepted_photo_renders_under_the_bench_memory(
    tmp_path: Path, kind: str
) -> None:
    data = encoded(kind, KINDS[kind][3])
    cost = decode_cost(data, BOX)
    assert 0.97 * MAX_DECODE_BYTES < cost <= MAX_DECODE_BYTES, "not the largest accepted"
    photo = tmp_path / kind
    photo.write_bytes(data)
    peak = peak_render_mb(photo)
    assert peak < PEAK_LIMIT_MB, f"{kind}: peak resident memory {peak} MB"


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_photo_just_too_large_is_refused_naming_the_largest_accepted(kind: str) -> None:
    width, height = KINDS[kind][4]
    with pytest.raises(RenderRefused) as refused:
        decode_image(encoded(kind, (width, height)), needed=BOX)
    message = refused.value.message
    assert f"{width} x {height}" in message and "too large to decode safely" in message
    largest = re.search(r"accepted up to (\d+) megapixels", message)
    assert largest, message
    accepted = KINDS[kind][3]
    assert round(accepted[0] * accepted[1] / 1e6) <= int(largest.group(1)) < width * height / 1e6
