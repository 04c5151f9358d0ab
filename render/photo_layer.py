"""The customer's photo as a layer: scaled into its box and cut to the frame's shape.

Scaling a phone photo to a 9 in frame at 300 DPI (3000 -> 2700 px, Lanczos) is
the most expensive step of a render, so large photos are scaled in horizontal
bands on all compose threads (Pillow releases the GIL while resampling), each
band trimmed to the columns its frame reaches (a circle leaves out the
corners, about an eighth of the work). Each band is a slice of the same Lanczos
resample of the same source box; Pillow may run a band's two passes in the
other order than for the whole picture, which moves some pixels by a few levels
of rounding, never more.

Frame masks depend only on shape and size, so they are drawn once and reused.
Next to each mask we keep its coverage (a 1-bit mask of every pixel the frame
touches at all): where nothing lies under the photo yet, pasting through that
mask gives exactly what alpha compositing gives, for a fraction of the work.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

from PIL import Image, ImageChops, ImageDraw

from podops.errors import RenderRefused
from podops.photos import Crop, cover_window, photo_name
from render.templates import ImageLayer, ProductTemplate

RESAMPLE = Image.Resampling.LANCZOS
BAND_WORKERS = 2
PHOTO_BANDS = 8  # a few per worker: finer bands trim more of a round frame's corners
BANDED_MIN_PIXELS = 1_000_000  # smaller photos are scaled in one piece
_MASK_SUPERSAMPLING_LIMIT = 2048
_ANY = [0] + [255] * 255
_CROP_SLACK = 0.005
"""How far (a fraction of the photo) a crop window may pass the photo's edge before it
is refused rather than nudged back: the decoded photo's size is rounded (JPEG draft
scales), so a crop measured on the original can reach a pixel past the decoded one."""
Box = tuple[float, float, float, float]
Rectangle = tuple[int, int, int, int]


@dataclass(frozen=True)
class PreparedLayer:
    """An RGBA piece of a layer, where its top-left corner goes and, when known, its coverage.

    `coverage` is a 1-bit mask of the pixels whose alpha is above zero, and the
    RGBA piece is then exactly what alpha compositing onto an empty canvas gives.
    """

    image: Image.Image
    position: tuple[int, int]
    coverage: Image.Image | None = None


def prepare_photo(
    template: ProductTemplate, layer: ImageLayer, photo: Image.Image | None, crop: Crop = Crop()
) -> list[PreparedLayer]:
    """The customer's photo fitted into its box (moved and zoomed by staff's `crop`)
    and cut to the frame's shape, in pieces."""
    if photo is None:
        if layer.required:
            raise RenderRefused(f"the photo for field '{layer.field}' is missing")
        return []
    left, top, width, height = layer.box.pixels(template.dpi)
    size, source_box = fit_geometry(photo.size, (width, height), layer.fit)
    if not crop.is_default:
        source_box = cropped_box(photo.size, (width, height), layer, crop)
    offset = ((width - size[0]) // 2, (height - size[1]) // 2)
    radius_px = round((layer.radius_in or 0) * template.dpi)
    frame = frame_mask(layer.mask, (width, height), radius_px) if layer.mask != "none" else None
    coverage = frame_coverage(layer.mask, (width, height), radius_px) if frame else None

    def piece(rect: Rectangle) -> PreparedLayer:
        part = scaled_part(photo, size, source_box, rect)
        region = (
            offset[0] + rect[0],
            offset[1] + rect[1],
            offset[0] + rect[2],
            offset[1] + rect[3],
        )
        position = (left + region[0], top + region[1])
        if frame is None:
            return PreparedLayer(part.convert("RGBA"), position, _opaque(part))
        if part.mode == "RGB":
            part.putalpha(frame.crop(region))
            assert coverage is not None
            return PreparedLayer(part, position, coverage.crop(region))
        part.putalpha(ImageChops.multiply(part.getchannel("A"), frame.crop(region)))
        return PreparedLayer(part, position)

    parts = photo_parts(size, offset, coverage)
    if len(parts) == 1:
        return [piece(parts[0])]
    with ThreadPoolExecutor(BAND_WORKERS, thread_name_prefix="photo-band") as pool:
        return list(pool.map(piece, parts))


def _opaque(part: Image.Image) -> Image.Image | None:
    """Coverage of an unmasked piece: all of it, unless the photo has its own alpha."""
    return Image.new("1", part.size, 1) if part.mode == "RGB" else None


def fit_geometry(
    source: tuple[int, int], box: tuple[int, int], fit: str
) -> tuple[tuple[int, int], Box]:
    """(output size, source box) as Pillow's ImageOps.fit ("cover") or .contain compute them."""
    source_w, source_h = source
    source_ratio, box_ratio = source_w / source_h, box[0] / box[1]
    if fit == "cover":
        if source_ratio == box_ratio:
            crop_w, crop_h = float(source_w), float(source_h)
        elif source_ratio > box_ratio:
            crop_w, crop_h = box_ratio * source_h, float(source_h)
        else:
            crop_w, crop_h = float(source_w), source_w / box_ratio
        crop_left, crop_top = (source_w - crop_w) * 0.5, (source_h - crop_h) * 0.5
        return box, (crop_left, crop_top, crop_left + crop_w, crop_top + crop_h)
    size = box
    if source_ratio > box_ratio:
        size = (box[0], round(source_h / source_w * box[0]))
    elif source_ratio < box_ratio:
        size = (round(source_w / source_h * box[1]), box[1])
    return size, (0.0, 0.0, float(source_w), float(source_h))


def cropped_box(
    source: tuple[int, int], box: tuple[int, int], layer: ImageLayer, crop: Crop
) -> Box:
    """The part of the photo that fills the box with staff's crop (a "cover" frame only).

    A window passing the photo's edge by rounding is nudged back inside; one passing
    it by more is refused (the services check crops against the photo before saving)."""
    if layer.fit != "cover":
        raise RenderRefused(
            f"the {photo_name(layer.field)} frame shows the whole photo (fit = {layer.fit}); "
            "it cannot be cropped"
        )
    left, top, right, bottom = cover_window(source, box, crop)
    nudged = []
    for low, high, limit in ((left, right, source[0]), (top, bottom, source[1])):
        slack = _CROP_SLACK * limit + 1
        if low < -slack or high > limit + slack:
            raise RenderRefused(
                f"the crop ({crop.text}) leaves part of the {photo_name(layer.field)} frame "
                "empty; move the photo less or zoom in more"
            )
        shift = max(0.0, -low) - max(0.0, high - limit)
        nudged.append((max(0.0, low + shift), min(float(limit), high + shift)))
    (left, right), (top, bottom) = nudged
    return left, top, right, bottom


def photo_parts(
    size: tuple[int, int], offset: tuple[int, int], coverage: Image.Image | None
) -> list[Rectangle]:
    """Rectangles of the scaled photo to compute: bands of rows, each trimmed to the
    columns its frame reaches (a circle leaves the corners out); one piece when small."""
    width, height = size
    if width * height < BANDED_MIN_PIXELS:
        return [(0, 0, width, height)]
    edges = [round(index * height / PHOTO_BANDS) for index in range(PHOTO_BANDS + 1)]
    parts = []
    for upper, lower in pairwise(edges):
        reach: Rectangle | None = (0, 0, width, lower - upper)
        if coverage is not None:
            band = (offset[0], offset[1] + upper, offset[0] + width, offset[1] + lower)
            reach = coverage.crop(band).getbbox()
        if reach is not None:
            parts.append((reach[0], upper, reach[2], lower))
    return parts


def scaled_part(
    photo: Image.Image, size: tuple[int, int], source_box: Box, rect: Rectangle
) -> Image.Image:
    """The part `rect` of `photo`'s `source_box` scaled to `size` with Lanczos."""
    if rect == (0, 0, *size):
        return photo.resize(size, RESAMPLE, box=source_box)
    box_left, box_top, box_right, box_bottom = source_box
    column, row = (box_right - box_left) / size[0], (box_bottom - box_top) / size[1]
    left, upper, right, lower = rect
    source = (
        box_left + left * column,
        box_top + upper * row,
        box_left + right * column,
        box_top + lower * row,
    )
    if photo.mode == "RGBA":
        return _premultiplied_band(photo, (right - left, lower - upper), source)
    return photo.resize((right - left, lower - upper), RESAMPLE, box=source)


def _premultiplied_band(photo: Image.Image, size: tuple[int, int], source: Box) -> Image.Image:
    """`photo.resize(size, box=source)` for an RGBA photo. Pillow premultiplies the
    whole photo (RGBa) before each resize: two bands at once made two whole copies.
    Only the rows this band's filter reaches (Lanczos: 3 source pixels a side per
    result pixel) are premultiplied here, which gives the same pixels."""
    scale = max(1.0, (source[3] - source[1]) / size[1])
    margin = math.ceil(3 * scale) + 2
    upper = max(0, math.floor(source[1]) - margin)
    lower = min(photo.height, math.ceil(source[3]) + margin)
    band = photo.crop((0, upper, photo.width, lower)).convert("RGBa")
    shifted = (source[0], source[1] - upper, source[2], source[3] - upper)
    return band.resize(size, RESAMPLE, box=shifted).convert("RGBA")


@lru_cache(maxsize=4)
def frame_mask(shape: str, size: tuple[int, int], radius_px: int = 0) -> Image.Image:
    """An anti-aliased circle or rounded-rectangle mask, drawn large and reduced.

    Cached: callers must not change the returned image.
    """
    width, height = size
    factor = 4 if max(size) <= _MASK_SUPERSAMPLING_LIMIT else 2
    large = Image.new("L", (width * factor, height * factor), 0)
    draw = ImageDraw.Draw(large)
    bounds = (0, 0, width * factor - 1, height * factor - 1)
    if shape == "circle":
        draw.ellipse(bounds, fill=255)
    else:
        draw.rounded_rectangle(bounds, radius=radius_px * factor, fill=255)
    return large.reduce(factor)


@lru_cache(maxsize=4)
def frame_coverage(shape: str, size: tuple[int, int], radius_px: int = 0) -> Image.Image:
    """A 1-bit mask of every pixel the frame mask touches at all (cached, read-only)."""
    return frame_mask(shape, size, radius_px).point(_ANY).convert("1", dither=Image.Dither.NONE)
