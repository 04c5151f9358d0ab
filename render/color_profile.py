"""sRGB: the colour space every print file is written in.

Phones increasingly deliver Display P3 or Adobe RGB photos; printed as if they
were sRGB, skin tones and skies come out dull or shifted. Photos carrying a
profile are converted to sRGB on load, and print files embed the sRGB profile
so the provider's RIP reads the colours as intended.
"""

from __future__ import annotations

import io
import struct
from functools import lru_cache

from PIL import Image, ImageCms

# The ICC header's creation date (bytes 24-35: six big-endian uint16). LittleCMS
# writes the current time there, which would give identical renders a different
# sha256 in every process; a fixed date (the sRGB standard's) keeps files
# byte-for-byte reproducible.
_DATE_FIELD = slice(24, 36)
_FIXED_DATE = struct.pack(">6H", 1999, 10, 18, 0, 0, 0)


@lru_cache(maxsize=1)
def srgb_profile() -> bytes:
    """The sRGB ICC profile embedded in every print file (the same bytes every time)."""
    profile = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    profile[_DATE_FIELD] = _FIXED_DATE
    return bytes(profile)


def to_srgb(image: Image.Image, output_mode: str) -> Image.Image:
    """The image converted from its embedded profile to sRGB (unchanged without one).

    A profile LittleCMS cannot use is ignored rather than refused: the photo is
    then printed as if it were sRGB, which is what every other tool would do.
    """
    embedded = image.info.get("icc_profile")
    if not embedded or image.mode not in {"RGB", "RGBA", "CMYK"}:
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(embedded))
        target = ImageCms.ImageCmsProfile(io.BytesIO(srgb_profile()))
        converted = ImageCms.profileToProfile(image, source, target, outputMode=output_mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image
    return converted if converted is not None else image
