"""A customer photo in its frame: the crop staff choose and the print resolution it gives.

Pure arithmetic, shared by the renderer (which cuts the photo) and the services
(which check what staff typed, and the resolution against the template's
minimum), so the preview, the print file and the check always agree.

The crop, per image field of a line (docs/render.md, "Photo quality and crop"):

- `zoom` >= 1: 1 is the photo just filling its frame, as the template places it;
  2 shows it twice as large (half as many photo pixels per inch). Up to
  `podops.crop_input.ZOOM_MAX`, which reads what staff type.
- `x`, `y`: how far the photo moves right (`x`) and down (`y`), as a fraction of
  the frame's width and height (`0.1` or `10%`); negative moves it left or up.
  A photo may only move as far as it reaches past the frame: a crop that would
  leave part of the frame empty is refused.

The effective resolution is the photo's own pixels across the frame divided by
the frame's inches, after the crop: what a customer's 400-pixel photo gives in
a 9-inch circle (44 DPI), whatever the print file's own 300 DPI.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from podops.errors import InvalidInput, RenderRefused

DEFAULT_MIN_DPI = 150
_EPSILON = 1e-6

Window = tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class Crop:
    """Where a photo sits in its frame (see the module docstring)."""

    zoom: float = 1.0
    x: float = 0.0
    y: float = 0.0

    @property
    def is_default(self) -> bool:
        return self == Crop()

    def to_json(self) -> dict[str, float]:
        return {"zoom": self.zoom, "x": self.x, "y": self.y}

    @classmethod
    def from_json(cls, data: object) -> Crop:
        """A stored crop; anything unreadable is the default (we wrote it ourselves)."""
        if not isinstance(data, Mapping):
            return cls()
        try:
            crop = cls(float(data["zoom"]), float(data["x"]), float(data["y"]))
        except (KeyError, TypeError, ValueError):
            return cls()
        return crop if all(math.isfinite(v) for v in crop.to_json().values()) else cls()

    @property
    def text(self) -> str:
        """`zoom=1.5 x=10% y=0%`: how staff see it and may type it back."""
        return f"zoom={self.zoom:g} x={percent(self.x)} y={percent(self.y)}"


def percent(value: float) -> str:
    """`0.1` -> `10%`."""
    return f"{round(value * 100, 4):g}%"


def cover_window(source: tuple[float, float], frame: tuple[float, float], crop: Crop) -> Window:
    """The part of the photo (left, top, right, bottom in its pixels) that fills a
    frame of `frame`'s proportions with `crop`; it may reach outside the photo."""
    width, height = source
    ratio = frame[0] / frame[1]
    if width / height > ratio:
        crop_w, crop_h = ratio * height, float(height)
    else:
        crop_w, crop_h = float(width), width / ratio
    view_w, view_h = crop_w / crop.zoom, crop_h / crop.zoom
    left = (width - view_w) / 2 - crop.x * view_w
    top = (height - view_h) / 2 - crop.y * view_h
    return left, top, left + view_w, top + view_h


@dataclass(frozen=True, slots=True)
class PhotoFit:
    """How a photo fits its frame, as the renderer measured it: the photo's own
    pixels (upright), the frame in inches, the template's fit and minimum DPI."""

    field: str
    width_px: int
    height_px: int
    frame_width_in: float
    frame_height_in: float
    fit: str = "cover"
    min_dpi: int = DEFAULT_MIN_DPI

    def dpi(self, crop: Crop = Crop()) -> int:
        """Photo pixels per printed inch with this crop (rounded down)."""
        width_dpi = self.width_px / self.frame_width_in
        height_dpi = self.height_px / self.frame_height_in
        if self.fit == "contain":  # the whole photo inside the frame
            return math.floor(max(width_dpi, height_dpi) + _EPSILON)
        return math.floor(min(width_dpi, height_dpi) / crop.zoom + _EPSILON)

    def too_low(self, crop: Crop = Crop()) -> bool:
        return self.dpi(crop) < self.min_dpi

    def check(self, crop: Crop) -> None:
        """Refuse a crop this frame cannot take, saying how far the photo may move."""
        if crop.is_default:
            return
        if self.fit != "cover":
            raise InvalidInput(
                f"the {self.field} frame shows the whole photo (fit = {self.fit}); "
                "only a frame the photo fills (fit = cover) can be cropped"
            )
        most_x, most_y = self.reach(crop.zoom)
        moves = (("x", crop.x, most_x, "left or right"), ("y", crop.y, most_y, "up or down"))
        for key, value, most, way in moves:
            if abs(value) > most + _EPSILON:
                room = (
                    f"moves at most {percent(_floor4(most))} {way}"
                    if most > _EPSILON
                    else f"cannot move {way}; zoom in first ({self.field}.zoom=1.5)"
                )
                raise InvalidInput(
                    f"{key}={percent(value)} would leave part of the {self.field} frame empty: "
                    f"at zoom {crop.zoom:g} the photo {room}"
                )

    def reach(self, zoom: float) -> tuple[float, float]:
        """How far (a fraction of the frame) the photo can move each way at `zoom`."""
        left, top, right, bottom = cover_window(
            (self.width_px, self.height_px),
            (self.frame_width_in, self.frame_height_in),
            Crop(zoom),
        )
        return left / (right - left), top / (bottom - top)

    def to_json(self) -> dict[str, Any]:
        return {
            "width_px": self.width_px,
            "height_px": self.height_px,
            "frame_in": [self.frame_width_in, self.frame_height_in],
            "fit": self.fit,
            "min_dpi": self.min_dpi,
        }

    @classmethod
    def from_json(cls, field: str, data: Mapping[str, Any]) -> PhotoFit | None:
        try:
            frame = data["frame_in"]
            return cls(
                field,
                int(data["width_px"]),
                int(data["height_px"]),
                float(frame[0]),
                float(frame[1]),
                str(data.get("fit", "cover")),
                int(data.get("min_dpi", DEFAULT_MIN_DPI)),
            )
        except (KeyError, IndexError, TypeError, ValueError):
            return None


def _floor4(value: float) -> float:
    return math.floor(value * 10_000 + _EPSILON) / 10_000


def photo_name(field: str) -> str:
    """How a problem names the photo: `photo`, or `photo 'logo'` for another field."""
    return "photo" if field == "photo" else f"photo '{field}'"


def low_dpi_sentence(field: str, dpi: int, min_dpi: int) -> str:
    """`photo is 44 DPI at this size (at least 150 wanted)`: the words staff see."""
    return f"{photo_name(field)} is {dpi} DPI at this size (at least {min_dpi} wanted)"


# A line's photos as stored (`LineItem.photos`): per image field, the crop staff
# chose, the fit the last render measured (with the photo's URL) and an
# acceptance of a low resolution (with the URL, crop and DPI it was given for).


def crops_of(photos: Mapping[str, Any] | None) -> dict[str, Crop]:
    """The line's crops that differ from the default, by image field."""
    found = {}
    for field, state in (photos or {}).items():
        crop = Crop.from_json(state.get("crop")) if isinstance(state, Mapping) else Crop()
        if not crop.is_default:
            found[str(field)] = crop
    return found


def fit_of(photos: Mapping[str, Any] | None, field: str, url: str) -> PhotoFit | None:
    """How the photo at `url` fits the field's frame, if a render measured it."""
    state = (photos or {}).get(field)
    if not isinstance(state, Mapping) or not isinstance(state.get("fit"), Mapping):
        return None
    if state["fit"].get("url") != url:
        return None  # measured for another photo
    return PhotoFit.from_json(field, state["fit"])


def is_accepted(
    photos: Mapping[str, Any] | None, field: str, url: str, crop: Crop, dpi: int
) -> bool:
    """Whether staff accepted this very photo and crop at this resolution (or lower)."""
    state = (photos or {}).get(field)
    accepted = state.get("accepted") if isinstance(state, Mapping) else None
    if not isinstance(accepted, Mapping):
        return False
    same = accepted.get("url") == url and Crop.from_json(accepted.get("crop")) == crop
    return same and isinstance(accepted.get("dpi"), int) and dpi >= accepted["dpi"]


def with_state(photos: Mapping[str, Any] | None, field: str, **parts: Any) -> dict[str, Any]:
    """A new photos value with the field's parts replaced (None removes a part)."""
    updated = {
        key: dict(value) for key, value in (photos or {}).items() if isinstance(value, Mapping)
    }
    state = updated.setdefault(field, {})
    for name, value in parts.items():
        if value is None:
            state.pop(name, None)
        else:
            state[name] = value
    if not state:
        updated.pop(field)
    return updated


class CropRefused(RenderRefused):
    """The renderer refused a crop (it would leave part of a frame empty); it carries
    the photos as measured, so the next crop staff type is checked as they type it."""

    def __init__(self, message: str, fits: tuple[PhotoFit, ...]) -> None:
        super().__init__(message)
        self.fits = fits


@dataclass(frozen=True, slots=True)
class PhotoStatus:
    """One photo of a line as staff see it: its crop and, once measured, its DPI."""

    field: str
    url: str
    crop: Crop
    fit: PhotoFit | None
    """None until a render measured this photo."""
    accepted: bool = False
    """Under its minimum, and staff accepted it at this crop and resolution."""

    @property
    def dpi(self) -> int | None:
        return None if self.fit is None else self.fit.dpi(self.crop)

    @property
    def low(self) -> bool:
        """Under its minimum and not accepted: the order waits for staff."""
        return self.fit is not None and self.fit.too_low(self.crop) and not self.accepted


def photo_statuses(
    photos: Mapping[str, Any] | None, image_urls: Mapping[str, Any]
) -> list[PhotoStatus]:
    """Every photo the line has (a non-empty URL), by field name."""
    crops = crops_of(photos)
    found = []
    for field in sorted(image_urls):
        url = str(image_urls[field] or "").strip()
        if not url:
            continue
        crop = crops.get(field, Crop())
        fit = fit_of(photos, field, url)
        accepted = (
            fit is not None
            and fit.too_low(crop)
            and is_accepted(photos, field, url, crop, fit.dpi(crop))
        )
        found.append(PhotoStatus(field, url, crop, fit, accepted))
    return found
