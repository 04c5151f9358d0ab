"""A fast, lossless PNG writer for large print files.

Pillow's PNG encoder runs one zlib stream at level 6 with adaptive filtering on
a single core: 3-15 s for a 4500 x 5400 RGBA print file. Print files are
written once and read by a print provider, so we trade a few percent of file
size for speed:

* every row gets the PNG "Up" filter (type 2), computed in C by Pillow
  (`ImageChops.subtract_modulo` of the image and the image shifted down a row),
  only over the columns that hold anything: a print file is mostly transparent
  margin, all zeros, whose filtered bytes are zeros too; bands of rows that are
  blank entirely are deflated once per shape and reused;
* bands of rows are deflated in parallel threads (isal and zlib release the
  GIL) as raw deflate segments ended by a sync flush, so the concatenation is
  ONE valid zlib stream;
* the Adler-32 of the whole stream is combined from the per-band checksums
  (each computed by the deflate backend, isal's being several times faster);
* the chunks (IHDR, iCCP, pHYs, tEXt, IDAT, IEND) are written here with CRC32.

The result is a standard PNG any decoder reads; the tests check that it
decodes to exactly the source pixels.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType

from PIL import Image, ImageChops

_isal_zlib: ModuleType | None
try:  # isal is about twice as fast as zlib at level 1, but optional.
    from isal import isal_zlib as _isal_zlib
except ImportError:  # pragma: no cover - exercised only where isal is missing
    _isal_zlib = None

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DEFAULT_WORKERS = 2
DEFAULT_LEVEL = 1
ROWS_PER_BAND = 256
MAX_IDAT_CHUNK = 4 * 1024 * 1024
_ADLER_BASE = 65521
_UP_FILTER = b"\x02"
_COLOUR_TYPES = {"L": (0, 1), "RGB": (2, 3), "LA": (4, 2), "RGBA": (6, 4)}


@dataclass(frozen=True)
class PngMetadata:
    """What goes around the pixels: resolution, colour profile and text notes."""

    dpi: float | None = None
    icc_profile: bytes | None = None
    text: Sequence[tuple[str, str]] = ()


def deflate_backend(prefer_isal: bool = True) -> ModuleType:
    """The zlib-compatible module to deflate with: isal when installed, else zlib."""
    if prefer_isal and _isal_zlib is not None:
        return _isal_zlib
    return zlib


def adler32_combine(adler_a: int, adler_b: int, length_b: int) -> int:
    """Adler-32 of A+B from the checksums of A and B (zlib's adler32_combine)."""
    rem = length_b % _ADLER_BASE
    sum1 = adler_a & 0xFFFF
    sum2 = (rem * sum1) % _ADLER_BASE
    sum1 += (adler_b & 0xFFFF) + _ADLER_BASE - 1
    sum2 += ((adler_a >> 16) & 0xFFFF) + ((adler_b >> 16) & 0xFFFF) + _ADLER_BASE - rem
    sum1 %= _ADLER_BASE
    sum2 %= _ADLER_BASE
    return sum1 | (sum2 << 16)


def encode_png(
    image: Image.Image,
    metadata: PngMetadata | None = None,
    *,
    level: int = DEFAULT_LEVEL,
    workers: int = DEFAULT_WORKERS,
    rows_per_band: int = ROWS_PER_BAND,
    prefer_isal: bool = True,
) -> bytes:
    """Encode an L, LA, RGB or RGBA image as a PNG, losslessly and in parallel."""
    if image.mode not in _COLOUR_TYPES:
        raise ValueError(f"encode_png takes L, LA, RGB or RGBA images, not {image.mode}")
    width, height = image.size
    if width < 1 or height < 1:
        raise ValueError("encode_png needs an image of at least 1 x 1 pixels")
    segments, adler = _deflate_rows(
        image, deflate_backend(prefer_isal), level, max(1, workers), max(1, rows_per_band)
    )
    parts = [PNG_SIGNATURE, *_header_chunks(image, metadata or PngMetadata())]
    parts.extend(_idat_chunks(segments, adler))
    parts.append(_chunk(b"IEND", b""))
    return b"".join(parts)


def _header_chunks(image: Image.Image, metadata: PngMetadata) -> Iterator[bytes]:
    colour_type, _ = _COLOUR_TYPES[image.mode]
    width, height = image.size
    yield _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0))
    if metadata.icc_profile:
        profile = b"sRGB\x00\x00" + zlib.compress(metadata.icc_profile)
        yield _chunk(b"iCCP", profile)
    if metadata.dpi:
        per_metre = round(metadata.dpi / 0.0254)
        yield _chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1))
    for key, value in metadata.text:
        keyword = key.encode("latin-1", "replace")[:79]
        yield _chunk(b"tEXt", keyword + b"\x00" + value.encode("latin-1", "replace"))


def _idat_chunks(segments: list[bytes], adler: int) -> Iterator[bytes]:
    # CMF 0x78 = deflate with a 32 KiB window; FLG 0x01 makes the header a multiple of 31.
    stream_parts = [b"\x78\x01", *segments, struct.pack(">I", adler)]
    for part in stream_parts:
        for start in range(0, len(part), MAX_IDAT_CHUNK):
            yield _chunk(b"IDAT", part[start : start + MAX_IDAT_CHUNK])


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(data, zlib.crc32(kind))
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def _deflate_rows(
    image: Image.Image, backend: ModuleType, level: int, workers: int, rows_per_band: int
) -> tuple[list[bytes], int]:
    width, height = image.size
    stride = width * _COLOUR_TYPES[image.mode][1]
    content = image.getbbox(alpha_only=False)  # every pixel outside it is all zeros
    bands = [(top, min(top + rows_per_band, height)) for top in range(0, height, rows_per_band)]
    last = len(bands) - 1

    def deflate_band(index: int) -> tuple[bytes, int, int]:
        top, bottom = bands[index]
        mode = backend.Z_FINISH if index == last else backend.Z_SYNC_FLUSH
        # The Up filter of a row needs the row above: a band is blank only if that row is too.
        if content is None or not (top - 1 < content[3] and bottom > content[1]):
            return _blank_band(backend, level, mode, stride, bottom - top)
        filtered = _up_filtered_rows(image, top, bottom, content)
        compressor = backend.compressobj(level, backend.DEFLATED, -15)
        data = compressor.compress(filtered) + compressor.flush(mode)
        return data, backend.adler32(filtered), len(filtered)

    if workers == 1 or len(bands) == 1:
        results = [deflate_band(index) for index in range(len(bands))]
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="png-deflate") as pool:
            results = list(pool.map(deflate_band, range(len(bands))))
    adler = 1
    for _, band_adler, band_length in results:
        adler = adler32_combine(adler, band_adler, band_length)
    return [data for data, _, _ in results], adler


@lru_cache(maxsize=16)
def _blank_band(
    backend: ModuleType, level: int, mode: int, stride: int, rows: int
) -> tuple[bytes, int, int]:
    """The deflated rows of a band of zeros (transparent margins), made once per shape."""
    filtered = bytearray(rows * (stride + 1))
    filtered[0 :: stride + 1] = _UP_FILTER * rows
    compressor = backend.compressobj(level, backend.DEFLATED, -15)
    data = compressor.compress(filtered) + compressor.flush(mode)
    return data, backend.adler32(filtered), len(filtered)


def _up_filtered_rows(
    image: Image.Image, top: int, bottom: int, content: tuple[int, int, int, int]
) -> bytearray:
    """Rows top..bottom with the Up filter, each preceded by its filter-type byte.

    Only the columns of `content` are filtered: outside them every row is zero,
    and so is its Up difference, which the zero-filled buffer already holds.
    """
    width = image.size[0]
    left, _, right, _ = content
    pixel = _COLOUR_TYPES[image.mode][1]
    current = image.crop((left, top, right, bottom))
    # Cropping above row 0 yields zeros, exactly what the Up filter expects.
    previous = image.crop((left, top - 1, right, bottom - 1))
    inner = memoryview(ImageChops.subtract_modulo(current, previous).tobytes())
    row_bytes, inner_bytes = width * pixel + 1, (right - left) * pixel
    rows = bottom - top
    filtered = bytearray(rows * row_bytes)
    filtered[0::row_bytes] = _UP_FILTER * rows
    start = 1 + left * pixel
    for row in range(rows):
        at = row * row_bytes + start
        filtered[at : at + inner_bytes] = inner[row * inner_bytes : (row + 1) * inner_bytes]
    return filtered
