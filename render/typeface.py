"""Fonts held in memory, with the set of characters each one can draw.

A print file with a box where a letter should be goes onto a shirt and is paid
for, so text is checked against the font's character map (read with fontTools)
before anything is drawn. Font bytes are read once when templates load, so
composing stays free of I/O.
"""

from __future__ import annotations

import io
import unicodedata
from functools import lru_cache
from pathlib import Path

from fontTools.ttLib import TTFont, TTLibError
from PIL import ImageFont, features

from podops.errors import RenderRefused

BUNDLED_FONTS = Path(__file__).parent / "fonts"
_SHAPING_AVAILABLE = features.check("raqm")
_LAYOUT = ImageFont.Layout.RAQM if _SHAPING_AVAILABLE else ImageFont.Layout.BASIC
_NOT_DRAWN = {"\n"}


class Typeface:
    """One font file: its display name, its bytes and the code points it covers."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.data = path.read_bytes()
            font = TTFont(io.BytesIO(self.data), lazy=True)
            self.name = _family_name(font) or path.stem
            self.code_points: frozenset[int] = frozenset(font["cmap"].getBestCmap() or {})
        except (OSError, TTLibError, KeyError, AssertionError) as error:
            raise RenderRefused(f"the font file {path} cannot be read: {error}") from error

    def at_size(self, size_px: int) -> ImageFont.FreeTypeFont:
        """A Pillow font at this pixel size (cached: fitting text tries many sizes)."""
        return _sized_font(self, size_px)

    def undrawable(self, text: str) -> list[str]:
        """The distinct characters of `text` this font has no glyph for, in order."""
        missing: list[str] = []
        for char in text:
            if char in _NOT_DRAWN or ord(char) in self.code_points or char in missing:
                continue
            missing.append(char)
        return missing

    def check_text(self, text: str, field: str) -> None:
        """Refuse text this font cannot draw, naming the characters."""
        missing = self.undrawable(text)
        if missing:
            shown = ", ".join(f"'{char}' ({describe_char(char)})" for char in missing)
            raise RenderRefused(f"the font {self.name} cannot draw {shown} in field '{field}'")
        if not _SHAPING_AVAILABLE:
            needs = [char for char in text if _needs_shaping(char)]
            if needs:
                raise RenderRefused(
                    f"the text in field '{field}' needs right-to-left or combined-letter "
                    f"layout ('{needs[0]}'), which this print renderer cannot do"
                )

    def __repr__(self) -> str:
        return f"Typeface({self.name!r}, {self.path.name})"


@lru_cache(maxsize=256)
def _sized_font(typeface: Typeface, size_px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(io.BytesIO(typeface.data), size_px, layout_engine=_LAYOUT)


@lru_cache(maxsize=64)
def load_typeface(path: Path) -> Typeface:
    """The typeface at `path`, read once per process."""
    return Typeface(path)


def resolve_font_path(name: str, template_dir: Path) -> Path | None:
    """A font named in a template: next to the template first, then the bundled fonts."""
    for candidate in (template_dir / name, BUNDLED_FONTS / name):
        if candidate.is_file():
            return candidate
    return None


def _family_name(font: TTFont) -> str | None:
    if "name" not in font:
        return None
    name = font["name"].getDebugName(4) or font["name"].getDebugName(1)
    return str(name) if name else None


def describe_char(char: str) -> str:
    """'U+1F600 GRINNING FACE': a character named so staff can find it."""
    return f"U+{ord(char):04X} {unicodedata.name(char, 'unnamed character')}"


def _needs_shaping(char: str) -> bool:
    return unicodedata.bidirectional(char) in {"R", "AL"} or unicodedata.category(char) in {
        "Mn",
        "Mc",
    }
