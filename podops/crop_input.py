"""What staff type for a crop, read into `podops.photos.Crop` or refused with the reason.

The same words everywhere: `podops edit 1234 photo.zoom=1.5 photo.x=10%` on the
command line (and `photo.zoom=1.5` lines in Slack's `name=value` boxes), one
whole crop `zoom=1.5 x=10% y=0%` in the Slack form's crop box and in the sheet's
`crop` cell (`photo: ...; logo: ...` for a line with several photos). Offsets
are fractions of the frame or percent; zoom a number from 1 to `ZOOM_MAX`, also
as `1.5x` or `150%`; anything else (`nan`, `inf`, `1e3`, `abc`) is not a number.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from podops.errors import InvalidInput
from podops.photos import Crop, PhotoStatus

ZOOM_MAX = 8.0
OFFSET_SANITY = 50.0
"""No photo moves 50 frames: beyond that a number is a typo, even before measuring."""
CROP_KEYS = ("zoom", "x", "y")
_EPSILON = 1e-6
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def parse_zoom(text: str) -> float:
    """`1.5`, `1.5x` or `150%` -> 1.5; refused unless a number from 1 to `ZOOM_MAX`."""
    raw = text.strip().lower()
    scale = 1.0
    if raw.endswith("%"):
        raw, scale = raw[:-1].strip(), 0.01
    elif raw.endswith("x"):
        raw = raw[:-1].strip()
    zoom = _number(raw, "zoom", text) * scale
    if not 1.0 - _EPSILON <= zoom <= ZOOM_MAX + _EPSILON:
        raise InvalidInput(
            f"zoom {text.strip()!r} is out of range: from 1 (the photo just fills the frame) "
            f"to {ZOOM_MAX:g}; a zoom below 1 would leave part of the frame empty"
        )
    return round(zoom, 6)


def parse_offset(text: str, key: str) -> float:
    """`0.1` or `10%` -> 0.1 (a fraction of the frame); refused unless a number."""
    raw = text.strip()
    scale = 1.0
    if raw.endswith("%"):
        raw, scale = raw[:-1].strip(), 0.01
    value = _number(raw, key, text) * scale
    if abs(value) > OFFSET_SANITY:
        raise InvalidInput(
            f"{key} {text.strip()!r} is out of range: it moves the photo by a fraction of the "
            "frame (0.1 or 10% is a tenth of the frame)"
        )
    return round(value, 6)


def _number(raw: str, key: str, typed: str) -> float:
    if not _NUMBER.match(raw):
        raise InvalidInput(
            f"{key} {typed.strip()!r} is not a number (for example zoom=1.5, x=0.1 or x=10%)"
        )
    return float(raw)


def crop_with(current: Crop, key: str, text: str) -> Crop:
    """`current` with one setting changed as staff typed it (`zoom`, `x` or `y`)."""
    if key == "zoom":
        return Crop(parse_zoom(text), current.x, current.y)
    if key in ("x", "y"):
        value = parse_offset(text, key)
        return (
            Crop(current.zoom, value, current.y)
            if key == "x"
            else Crop(current.zoom, current.x, value)
        )
    raise InvalidInput(f"{key!r} is not a crop setting; expected zoom, x or y")


def parse_crop(text: str) -> Crop:
    """A whole crop as staff see it (`zoom=1.5 x=10% y=0`); missing settings are the
    defaults, so an empty text is the photo as the template places it."""
    crop = Crop()
    seen: set[str] = set()
    for word in text.replace(",", " ").split():
        key, sep, value = word.partition("=")
        key = key.strip().lower()
        if not sep:
            raise InvalidInput(f"{word!r} is not a crop setting; write zoom=1.5 x=10% y=0%")
        if key in seen:
            raise InvalidInput(f"{key} is given twice")
        seen.add(key)
        crop = crop_with(crop, key, value)
    return crop


def split_crop_settings(
    fields: Mapping[str, str],
) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Personalization fields apart from crop settings: `photo.zoom=1.5` is the
    crop of image field `photo`, every other `name=value` a personalization field."""
    personalization: dict[str, str] = {}
    crops: dict[str, dict[str, str]] = {}
    for name, value in fields.items():
        image, dot, key = name.rpartition(".")
        if dot and image.strip() and key.strip().lower() in CROP_KEYS:
            crops.setdefault(image.strip(), {})[key.strip().lower()] = value
        else:
            personalization[name] = value
    return personalization, crops


def crop_cell(statuses: list[PhotoStatus]) -> str:
    """The crops as one cell: `zoom=1.5 x=10% y=0%` for a line with one photo,
    `photo: zoom=1.5 x=10% y=0%; logo: zoom=2 x=0% y=0%` otherwise; default crops
    are left out (an empty cell is every photo as the template places it)."""
    cropped = [s for s in statuses if not s.crop.is_default]
    if len(statuses) == 1 and cropped:
        return cropped[0].crop.text
    return "; ".join(f"{s.field}: {s.crop.text}" for s in cropped)


def parse_crop_cell(text: str, fields: list[str]) -> dict[str, Crop]:
    """A crop cell as typed back (see `crop_cell`): every photo's whole crop, the ones
    not named at their default."""
    crops = {field: Crop() for field in fields}
    parts = [part.strip() for part in text.split(";") if part.strip()]
    for part in parts:
        name, colon, rest = part.partition(":")
        if colon and "=" not in name:
            field = name.strip()
            if field not in crops:
                listed = ", ".join(fields) or "none"
                raise InvalidInput(f"this line has no photo {field!r} (its photos: {listed})")
        elif len(fields) == 1 and len(parts) == 1:
            field, rest = fields[0], part
        elif not fields:
            raise InvalidInput("this line has no photo to crop")
        else:
            raise InvalidInput(
                f"this line has {len(fields)} photos; name each: "
                + "; ".join(f"{f}: zoom=1.5 x=0% y=0%" for f in fields)
            )
        crops[field] = parse_crop(rest)
    return crops
