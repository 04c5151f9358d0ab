"""Customer photos decoded at the size the print needs, in bounded memory.

A legal 49-megapixel photo used to take a render to 874 MB resident: decoding a
photo costs several bytes per pixel before it is scaled down, and it ran
alongside the print file's own canvas. So:

- JPEGs are decoded at 1/2, 1/4 or 1/8 scale when the box needs no more
  (`Image.draft`), and any photo still twice the box or more is reduced at
  once (`Image.reduce`), before it is turned upright and converted to sRGB;
  one still larger than `KEPT_BYTES` is resized to the box's covering size;
  other modes (palette PNG/GIF, 16-bit grey, LA) are converted to RGB(A) in the
  same pass, a band of rows at a time, never as a whole-size copy; samples
  above 8 bits (16-bit grey, 32-bit and floating-point TIFF) are scaled to 8
  bits on the way (`_eight_bit_scale`), not clipped;
- `decode_cost` estimates the peak memory of the decode, from the header alone,
  with the bytes per pixel each decoder was measured to need (Pillow 13:
  progressive JPEGs keep every coefficient, WebP keeps two RGBA frames), plus
  the encoded bytes; a photo whose decode would pass `MAX_DECODE_BYTES` is
  refused with a reason naming the largest photo of its kind accepted,
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
MAX_DECODE_BYTES = 260 * MEGABYTE
"""A decode alone may take this much (the print file's canvas is not made yet):
with the ~90 MB a render process starts with, the peak stays near 360 MB."""
KEPT_BYTES = 48 * MEGABYTE
"""A decoded photo larger than this (and than its box) is resized to the box's
covering size at once: the compose threads would otherwise work from it next to
the print file's canvas (a 24-megapixel RGB photo took the render to 396 MB)."""
STRIP_PIXELS = 1_000_000
"""Source pixels converted, reduced or resized at a time (bigger bands fragment the heap)."""
LAZY_DECODE_BYTES = 64 * MEGABYTE
"""Cheaper decodes run alongside the canvas and the other layers (faster)."""
BYTES_PER_PIXEL = {"PNG": 5.5, "TIFF": 8.0, "WEBP": 17.0, "GIF": 5.5}
"""Peak bytes per pixel of decoding and shrinking, measured with Pillow 13 (RGB,
RGBA, palette; the worst, with a margin); JPEG and MPO below."""
JPEG_BYTES_PER_PIXEL = 5.5
"""Baseline JPEG per decoded (drafted) pixel."""
PROGRESSIVE_BYTES_PER_PIXEL = 3.7
PROGRESSIVE_OVERHEAD = 1.5
"""Progressive JPEG: its coefficients and this per full pixel, plus this per decoded pixel."""


_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
_HEIF_BRANDS |= {b"mif1", b"msf1"}


def unprintable_kind(data: bytes) -> str | None:
    """ "HEIC" or "AVIF" for the photo formats phones send that we do not print (read
    from the file's ISO media brand), else None."""
    if data[4:8] != b"ftyp":
        return None
    brand = data[8:12]
    return "AVIF" if brand in {b"avif", b"avis"} else "HEIC" if brand in _HEIF_BRANDS else None


def unprintable_advice(kind: str) -> str:
    """What staff can ask the customer for instead of a `kind` photo."""
    advice = "which we cannot print: ask the customer for a JPEG or PNG"
    if kind == "HEIC":
        advice += " (an iPhone sends JPEG with Settings > Camera > Formats > Most Compatible)"
    return advice


def decode_cost(data: bytes, needed: tuple[int, int] | None = None) -> int:
    """Estimated peak bytes of decoding this photo for a box of `needed` (0 if unreadable):
    the decoder's, the shrinking's, and the encoded bytes held meanwhile."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return _cost(image, needed) + len(data)
    except Exception:  # decode_image says what is wrong with it
        return 0


def _cost(image: Image.Image, needed: tuple[int, int] | None) -> int:
    width, height = image.size
    if image.format not in {"JPEG", "MPO"}:
        return int(width * height * BYTES_PER_PIXEL.get(image.format or "", 8.0))
    drafted = width * height
    if needed:
        scale = _jpeg_scale(image.size, _draft_size(image, needed))
        drafted = math.ceil(width / scale) * math.ceil(height / scale)
    if not image.info.get("progressive") and not image.info.get("progression"):
        return int(drafted * JPEG_BYTES_PER_PIXEL)
    coefficients = _coefficient_bytes(image) + PROGRESSIVE_OVERHEAD
    return int(width * height * coefficients + drafted * PROGRESSIVE_BYTES_PER_PIXEL)


def _coefficient_bytes(image: Image.Image) -> float:
    """Bytes a pixel a progressive JPEG's coefficients take (2 a sample, all kept until
    the last scan): 3 for the usual 4:2:0 colour, 6 for 4:4:4, 8 for CMYK."""
    layers = getattr(image, "layer", None) or [(0, 1, 1, 0)] * len(image.getbands())
    most = max(h * v for _, h, v, _ in layers)
    return 2.0 * sum(h * v for _, h, v, _ in layers) / most


def upright_size(data: bytes) -> tuple[int, int] | None:
    """The photo's size in pixels once turned upright (EXIF), from its header alone;
    None when it cannot be read (decoding then says why)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            rotated = image.getexif().get(0x0112, 1) in {5, 6, 7, 8}
    except Exception:  # decode_image says what is wrong with it
        return None
    return (height, width) if rotated else (width, height)


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
    kind = unprintable_kind(data)
    if kind:
        raise RenderRefused(f"the photo is a {kind} file, {unprintable_advice(kind)}")
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
        _refuse_costly(image, needed, len(data))
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


def _refuse_costly(image: Image.Image, needed: tuple[int, int] | None, encoded: int) -> None:
    """RenderRefused, naming the largest photo of its kind accepted, if decoding
    this one would take more than `MAX_DECODE_BYTES`."""
    cost = _cost(image, needed)
    if cost + encoded <= MAX_DECODE_BYTES:
        return
    width, height = image.size
    kind = image.format or "image"
    if kind in {"JPEG", "MPO"}:
        progressive = image.info.get("progressive") or image.info.get("progression")
        kind = "progressive JPEG" if progressive else "JPEG"
    largest = max(0, MAX_DECODE_BYTES - encoded) / (cost / (width * height)) / 1e6
    raise RenderRefused(
        f"the photo is a {width} x {height} {kind} ({width * height / 1e6:.0f} megapixels), too "
        f"large to decode safely: {kind} photos like it are accepted up to {math.floor(largest)} "
        "megapixels (a JPEG at least twice the print's size is decoded at half size, up to "
        "50); ask the customer for a smaller photo or a baseline JPEG"
    )


def _reduced(image: Image.Image, needed: tuple[int, int]) -> Image.Image:
    """`image` shrunk while it still covers `needed` (after EXIF rotation), and in
    RGB/RGBA unless it is already RGB, RGBA or CMYK.

    By a whole factor (`Image.reduce`) when that leaves at most `KEPT_BYTES`,
    otherwise straight to the covering size (Lanczos). Done a band of rows at a
    time into one preallocated result, so the decode's peak is the full photo
    plus the small result: converting a whole 49-megapixel palette PNG or GIF to
    RGBA first would take another 196 MB, and for RGBA Pillow's `reduce` and
    `resize` make a premultiplied copy of the whole photo."""
    covering = _draft_size(image, needed)
    depth = _eight_bit_scale(image)
    factor = max(1, min(image.width // covering[0], image.height // covering[1]))
    mode = image.mode if image.mode in _KEPT_MODES else _pixel_mode(image)
    kept = math.ceil(image.width / factor) * math.ceil(image.height / factor)
    if kept * len(mode) > KEPT_BYTES and kept > covering[0] * covering[1]:
        reduced = _resize_in_strips(image, mode, covering, depth)
    elif factor > 1 or mode != image.mode or image.format == "WEBP":
        # Pillow's WebP image keeps its decoder (two RGBA frames) and the raw
        # pixels for as long as it lives: copied out, those are freed now.
        reduced = _convert_reduce_in_strips(image, mode, factor, depth)
    else:
        return image
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


def _eight_bit_scale(image: Image.Image) -> float | None:
    """The factor taking the samples of a photo Pillow keeps above 8 bits (16-bit
    grey "I;16", 32-bit integer "I", floating point "F") to 0-255; None for the
    8-bit modes.

    Pillow's own `convert` clips such samples at 255 instead: a 16-bit grey PNG
    (0-65535) came out a white blob. 16-bit samples are scaled from 65535; 32-bit
    and floating-point ones from the range they use: 0-1 (floating point's
    usual), 0-255, 0-65535 (16-bit data kept in 32 bits), or else their maximum."""
    if image.mode.startswith("I;16"):
        return 255 / 65535
    if image.mode not in {"I", "F"}:
        return None
    high = float(image.getextrema()[1])  # type: ignore[arg-type, index]
    if image.mode == "F" and (not math.isfinite(high) or high <= 1.0):
        return 255.0
    return next((255 / top for top in (255.0, 65535.0) if high <= top), 255 / high)


def _to_mode(image: Image.Image, mode: str, depth: float | None) -> Image.Image:
    """`image.convert(mode)`, its samples first multiplied by `depth` (`_eight_bit_scale`)."""
    if image.mode == mode:
        return image
    if depth is not None:
        wide = image if image.mode in {"I", "F"} else image.convert("I")  # I;16*: exact
        image = wide.point(lambda value: value * depth + 0.5).convert("L")
    return image if image.mode == mode else image.convert(mode)


def _convert_reduce_in_strips(
    image: Image.Image, mode: str, factor: int, depth: float | None
) -> Image.Image:
    """`image.convert(mode).reduce(factor)`, a band of rows at a time."""
    rows = factor * max(1, STRIP_PIXELS // (image.width * factor))
    width, height = -(-image.width // factor), -(-image.height // factor)
    reduced = Image.new(mode, (width, height))
    for top in range(0, image.height, rows):
        strip = image.crop((0, top, image.width, min(image.height, top + rows)))
        strip = _to_mode(strip, mode, depth)
        if factor > 1:
            strip = strip.reduce(factor)
        reduced.paste(strip, (0, top // factor))
    return reduced


def _resize_in_strips(
    image: Image.Image, mode: str, size: tuple[int, int], depth: float | None
) -> Image.Image:
    """`image.convert(mode).resize(size, LANCZOS)`, a band of result rows at a time,
    each from the source rows its filter reaches (Lanczos: 3 source pixels a side
    per result pixel), converted and premultiplied on its own."""
    resized = Image.new(mode, size)
    scale = image.height / size[1]
    margin = math.ceil(3 * scale) + 2
    rows = max(1, int(2_000_000 / image.width / scale))
    for top in range(0, size[1], rows):
        bottom = min(size[1], top + rows)
        upper = max(0, math.floor(top * scale) - margin)
        lower = min(image.height, math.ceil(bottom * scale) + margin)
        strip = _to_mode(image.crop((0, upper, image.width, lower)), mode, depth)
        if mode == "RGBA":
            strip = strip.convert("RGBa")  # what resize does, for this band only
        box = (0.0, top * scale - upper, float(image.width), bottom * scale - upper)
        part = strip.resize((size[0], bottom - top), Image.Resampling.LANCZOS, box=box)
        resized.paste(part.convert(mode) if part.mode != mode else part, (0, top))
    return resized


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
    return _to_mode(converted, mode, _eight_bit_scale(converted))


def return_freed_memory() -> None:
    """Hand the memory a large decode freed back to the system (glibc keeps it in
    the heap otherwise, and the canvas's threads would not reuse it)."""
    with contextlib.suppress(OSError, AttributeError, TypeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
