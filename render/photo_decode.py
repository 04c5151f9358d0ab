"""Customer photos decoded at the size the print needs, in bounded memory.

A legal 49-megapixel photo used to take a render to 874 MB resident: decoding a
photo costs several bytes per pixel before it is scaled down, and it ran
alongside the print file's own canvas. So:

- JPEGs are decoded at 1/2, 1/4 or 1/8 scale when the box needs no more
  (`Image.draft`), and any photo still twice the box or more is reduced at
  once (`Image.reduce`), before it is turned upright and converted to sRGB;
  other modes (palette PNG/GIF, 16-bit grey, LA) are converted to RGB(A) in the
  same pass, a band of rows at a time, never as a whole-size copy;
- `decode_cost` estimates the peak memory of the decode, from the header alone,
  with the bytes per pixel each decoder was measured to need (Pillow 12:
  progressive JPEGs keep every coefficient, WebP decodes through an RGBA copy);
  a photo whose decode would pass `MAX_DECODE_BYTES` is refused with a reason,
  and one above `LAZY_DECODE_BYTES` is decoded before the canvas is made
  (`renderer.photo_decoders`), so the two peaks never add up.
Together they keep a render of the shipped templates under the render bench's
400 MB for any accepted photo.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import io
import math

from PIL import Image, ImageOps

from podops.errors import RenderRefused
from render.color_profile import to_srgb

DEFAULT_MAX_PIXELS = 50_000_000
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "TIFF", "MPO"}
MEGABYTE = 1024 * 1024
MAX_DECODE_BYTES = 320 * MEGABYTE
"""A decode alone may take this much (the print file's canvas is not made yet)."""
LAZY_DECODE_BYTES = 64 * MEGABYTE
"""Cheaper decodes run alongside the canvas and the other layers (faster)."""
BYTES_PER_PIXEL = {"PNG": 5.0, "TIFF": 8.0, "WEBP": 17.0, "GIF": 3.0}
"""Peak bytes per decoded pixel, measured (RGB and RGBA); JPEG and MPO below."""
JPEG_BYTES_PER_PIXEL = 6.0
"""Baseline JPEG per decoded (drafted) pixel, and progressive JPEG per full pixel."""


def decode_cost(data: bytes, needed: tuple[int, int] | None = None) -> int:
    """Estimated peak bytes of decoding this photo for a box of `needed` (0 if unreadable)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return _cost(image, needed)
    except Exception:  # decode_image says what is wrong with it
        return 0


def _cost(image: Image.Image, needed: tuple[int, int] | None) -> int:
    width, height = image.size
    if image.format in {"JPEG", "MPO"}:
        if needed and not image.info.get("progressive") and not image.info.get("progression"):
            scale = _jpeg_scale(image.size, _draft_size(image, needed))
            width, height = math.ceil(width / scale), math.ceil(height / scale)
        return int(width * height * JPEG_BYTES_PER_PIXEL)
    return int(width * height * BYTES_PER_PIXEL.get(image.format or "", 8.0))


def _jpeg_scale(size: tuple[int, int], wanted: tuple[int, int]) -> int:
    """The scale libjpeg decodes at for `Image.draft`: 8, 4, 2 or 1."""
    fits = (
        s
        for s in (8, 4, 2)
        if all(math.ceil(n / s) >= w for n, w in zip(size, wanted, strict=True))
    )
    return next(fits, 1)


def decode_image(
    data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS, needed: tuple[int, int] | None = None
) -> Image.Image:
    """A customer photo as upright sRGB RGB/RGBA pixels.

    `needed` is the box the photo will fill: large JPEGs are then decoded at
    1/2, 1/4 or 1/8 scale straight away, and any photo twice the box or more is
    reduced at once (never smaller than the box), which is much faster and
    lighter than carrying 12 megapixels to throw most away.
    """
    try:
        image: Image.Image = Image.open(io.BytesIO(data))
        if image.format not in ACCEPTED_FORMATS:
            raise RenderRefused(
                f"the photo is a {image.format} file; expected JPEG, PNG, WebP, GIF or TIFF"
            )
        width, height = image.size
        if width * height > max_pixels:
            raise RenderRefused(
                f"the photo is {width} x {height} pixels ({width * height / 1e6:.0f} megapixels); "
                f"at most {max_pixels / 1e6:.0f} megapixels are accepted"
            )
        _refuse_costly(image, needed)
        if needed and image.format in {"JPEG", "MPO"}:
            image.draft("RGB" if image.mode == "RGB" else None, _draft_size(image, needed))
        image.load()
        if needed:
            image = _reduced(image, needed)
    except RenderRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise RenderRefused(f"the photo is too large to open safely ({error})") from error
    except Image.UnidentifiedImageError as error:
        raise RenderRefused("the file is not an image we can read") from error
    except Exception as error:  # decoders raise many types on hostile or damaged input
        raise RenderRefused(
            f"the photo is damaged or incomplete and cannot be printed ({error})"
        ) from error
    return _upright_srgb(image)


def _refuse_costly(image: Image.Image, needed: tuple[int, int] | None) -> None:
    cost = _cost(image, needed)
    if cost <= MAX_DECODE_BYTES:
        return
    width, height = image.size
    kind = "progressive JPEG" if image.format in {"JPEG", "MPO"} else image.format
    per_pixel = cost / (width * height)
    largest = MAX_DECODE_BYTES / per_pixel / 1e6
    raise RenderRefused(
        f"the photo is a {width} x {height} {kind} ({width * height / 1e6:.0f} megapixels), too "
        f"large to decode safely: {kind} photos are accepted up to {largest:.0f} megapixels "
        "(ordinary JPEGs up to 50); ask the customer for a JPEG or a smaller photo"
    )


def _reduced(image: Image.Image, needed: tuple[int, int]) -> Image.Image:
    """`image` shrunk by a whole factor while it still covers `needed` (after EXIF
    rotation), and in RGB/RGBA unless it is already RGB, RGBA or CMYK.

    Done a band of rows at a time into one preallocated result, so the decode's
    peak is the full photo plus the small result: converting a whole 49-megapixel
    palette PNG or GIF to RGBA first would take another 196 MB, and for RGBA
    Pillow's `reduce` makes a premultiplied copy of the whole photo."""
    covering = _draft_size(image, needed)
    factor = max(1, min(image.width // covering[0], image.height // covering[1]))
    mode = image.mode if image.mode in _KEPT_MODES else _pixel_mode(image)
    if factor < 2 and mode == image.mode:
        return image
    reduced = _convert_reduce_in_strips(image, mode, factor)
    reduced.info = dict(image.info)
    if image.mode not in _KEPT_MODES:
        reduced.info.pop("icc_profile", None)  # as before: only RGB(A)/CMYK profiles are used
    with contextlib.suppress(Exception):
        reduced.getexif().update(image.getexif())  # keep the orientation
    return reduced


_KEPT_MODES = {"RGB", "RGBA", "CMYK"}
"""Modes `_upright_srgb` converts from the photo's colour profile (the rest: plain convert)."""


def _pixel_mode(image: Image.Image) -> str:
    has_alpha = image.mode in {"RGBA", "LA", "PA", "La", "RGBa"} or (
        image.mode == "P" and "transparency" in image.info
    )
    return "RGBA" if has_alpha else "RGB"


def _convert_reduce_in_strips(image: Image.Image, mode: str, factor: int) -> Image.Image:
    """`image.convert(mode).reduce(factor)`, a band of rows at a time."""
    rows = factor * max(1, 4_000_000 // (image.width * factor))
    width, height = -(-image.width // factor), -(-image.height // factor)
    reduced = Image.new(mode, (width, height))
    for top in range(0, image.height, rows):
        strip = image.crop((0, top, image.width, min(image.height, top + rows)))
        if strip.mode != mode:
            strip = strip.convert(mode)
        if factor > 1:
            strip = strip.reduce(factor)
        reduced.paste(strip, (0, top // factor))
    return reduced


def _draft_size(image: Image.Image, needed: tuple[int, int]) -> tuple[int, int]:
    """The smallest decoded size that still covers `needed` once EXIF rotation is applied."""
    width, height = image.size
    rotated = image.getexif().get(0x0112, 1) in {5, 6, 7, 8}
    upright_w, upright_h = (height, width) if rotated else (width, height)
    scale = max(needed[0] / upright_w, needed[1] / upright_h)
    return max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))


def _upright_srgb(image: Image.Image) -> Image.Image:
    # In place: the image is our own, and an upright photo is not copied (36 MB at 12 MP).
    # Unreadable EXIF: printing unrotated beats refusing the photo.
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError, SyntaxError):
        ImageOps.exif_transpose(image, in_place=True)
    upright = image
    mode = _pixel_mode(upright)
    converted = to_srgb(upright, mode)
    return converted if converted.mode == mode else converted.convert(mode)


def return_freed_memory() -> None:
    """Hand the memory a large decode freed back to the system (glibc keeps it in
    the heap otherwise, and the canvas's threads would not reuse it)."""
    with contextlib.suppress(OSError, AttributeError, TypeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
