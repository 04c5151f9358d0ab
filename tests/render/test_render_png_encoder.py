"""The fast PNG writer: every file must decode to exactly the pixels we rendered."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from render.color_profile import srgb_profile
from render.png_encoder import PngMetadata, adler32_combine, encode_png
from render.sample_photo import make_sample_photo

MODES = ["L", "LA", "RGB", "RGBA"]


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, payload) of every chunk, checking each CRC on the way."""
    found, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        payload = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert crc == zlib.crc32(kind + payload), f"bad CRC in {kind!r}"
        found.append((kind, payload))
        offset += 12 + length
    return found


@st.composite
def small_images(draw: st.DrawFn) -> Image.Image:
    mode = draw(st.sampled_from(MODES))
    width = draw(st.integers(1, 40))
    height = draw(st.integers(1, 40))
    pixels = draw(
        st.binary(min_size=width * height * len(mode), max_size=width * height * len(mode))
    )
    return Image.frombytes(mode, (width, height), pixels)


@settings(max_examples=150, deadline=None)
@given(image=small_images(), rows_per_band=st.integers(1, 7), workers=st.integers(1, 3))
def test_any_small_image_decodes_to_identical_pixels(
    image: Image.Image, rows_per_band: int, workers: int
) -> None:
    data = encode_png(image, rows_per_band=rows_per_band, workers=workers)
    decoded = decode(data)
    assert decoded.mode == image.mode
    assert decoded.size == image.size
    assert decoded.tobytes() == image.tobytes()


@st.composite
def mostly_blank_images(draw: st.DrawFn) -> Image.Image:
    """Print-file-like: zeros everywhere but in a few rectangles of content."""
    mode = draw(st.sampled_from(MODES))
    width, height = draw(st.integers(1, 40)), draw(st.integers(1, 60))
    image = Image.new(mode, (width, height), 0)
    for _ in range(draw(st.integers(0, 3))):
        left, top = draw(st.integers(0, width - 1)), draw(st.integers(0, height - 1))
        right, bottom = draw(st.integers(left + 1, width)), draw(st.integers(top + 1, height))
        size = (right - left) * (bottom - top) * len(mode)
        pixels = draw(st.binary(min_size=size, max_size=size))
        image.paste(Image.frombytes(mode, (right - left, bottom - top), pixels), (left, top))
    return image


@settings(max_examples=200, deadline=None)
@given(image=mostly_blank_images(), rows_per_band=st.integers(1, 9), workers=st.integers(1, 2))
def test_blank_margins_and_bands_decode_to_identical_pixels(
    image: Image.Image, rows_per_band: int, workers: int
) -> None:
    decoded = decode(encode_png(image, rows_per_band=rows_per_band, workers=workers))
    assert decoded.mode == image.mode and decoded.tobytes() == image.tobytes()


def test_a_transparent_print_file_with_one_photo_round_trips() -> None:
    canvas = Image.new("RGBA", (1500, 1800), (0, 0, 0, 0))
    canvas.paste(make_sample_photo((700, 600)).convert("RGBA"), (400, 300))
    for workers in (1, 2):
        data = encode_png(canvas, rows_per_band=64, workers=workers)
        assert decode(data).tobytes() == canvas.tobytes()
    assert len(data) < len(encode_png(make_sample_photo((1500, 1800)).convert("RGBA")))


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
@pytest.mark.parametrize("size", [(1, 1), (4501, 1), (1, 999), (1237, 777)])
def test_photo_content_round_trips_at_odd_sizes(mode: str, size: tuple[int, int]) -> None:
    image = make_sample_photo(size).convert(mode)
    if mode == "RGBA":
        image.putalpha(image.getchannel("G"))
    assert decode(encode_png(image)).tobytes() == image.tobytes()


def test_the_zlib_stream_is_one_valid_stream_with_a_correct_checksum() -> None:
    image = make_sample_photo((300, 700)).convert("RGBA")
    data = encode_png(image, rows_per_band=64)
    idat = b"".join(payload for kind, payload in chunks(data) if kind == b"IDAT")
    raw = zlib.decompress(idat)  # raises if the combined Adler-32 is wrong
    assert len(raw) == 700 * (1 + 300 * 4)


def test_stdlib_zlib_fallback_gives_the_same_pixels() -> None:
    image = make_sample_photo((257, 129)).convert("RGBA")
    data = encode_png(image, prefer_isal=False, rows_per_band=16)
    assert decode(data).tobytes() == image.tobytes()


def test_resolution_and_colour_profile_are_readable_by_pillow() -> None:
    image = Image.new("RGBA", (30, 20), (10, 20, 30, 40))
    metadata = PngMetadata(dpi=300, icc_profile=srgb_profile(), text=[("Title", "Tee")])
    decoded = decode(encode_png(image, metadata))
    assert decoded.info["dpi"] == pytest.approx((300, 300), abs=0.01)
    assert decoded.info["icc_profile"] == srgb_profile()
    assert decoded.info["Title"] == "Tee"
    kinds = [kind for kind, _ in chunks(encode_png(image, metadata))]
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND"
    assert kinds.index(b"pHYs") < kinds.index(b"IDAT")


@given(a=st.binary(max_size=300), b=st.binary(max_size=300))
def test_adler32_combine_matches_zlib(a: bytes, b: bytes) -> None:
    assert adler32_combine(zlib.adler32(a), zlib.adler32(b), len(b)) == zlib.adler32(a + b)


def test_other_modes_are_refused_rather_than_mis_encoded() -> None:
    with pytest.raises(ValueError, match="CMYK"):
        encode_png(Image.new("CMYK", (2, 2)))
