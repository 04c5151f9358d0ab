"""Fitting customer text into a template's box.

A long name must shrink rather than run off the print area, but never below the
template's minimum size (it would become unreadable on the garment): such text
is refused with a reason staff can pass on. Fit is judged on the glyphs' ink,
at the exact place they will be drawn, so nothing is clipped at the box edge.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from podops.errors import RenderRefused
from render.templates import TextLayer
from render.typeface import Typeface, describe_char

POINTS_PER_INCH = 72
_EMOJI_MARKS = {"\ufe0f", "\u20e3", "\u200d"}
_H_ANCHOR = {"left": "l", "center": "m", "right": "r"}


@dataclass(frozen=True)
class FittedText:
    """Text ready to draw: the chosen size and its lines with their baseline anchors."""

    size_px: int
    lines: tuple[str, ...]
    positions: tuple[tuple[float, float], ...]
    anchor: str


def prepare_text(layer: TextLayer, raw: str | None, typeface: Typeface) -> str | None:
    """The customer's text as it will be printed, or None for an empty optional field."""
    text = unicodedata.normalize("NFC", raw or "").strip()
    text = "\n".join(line.strip() for line in text.replace("\r\n", "\n").split("\n"))
    if not text:
        if layer.required:
            raise RenderRefused(f"field '{layer.field}' is empty; this product needs it")
        return None
    if len(text) > layer.max_length:
        raise RenderRefused(
            f"the text in field '{layer.field}' is {len(text):,} characters long; "
            f"at most {layer.max_length} fit on this product"
        )
    if "\n" in text and not layer.multiline:
        raise RenderRefused(f"field '{layer.field}' is a single line; remove the line breaks")
    controls = [char for char in text if char != "\n" and unicodedata.category(char) == "Cc"]
    if controls:
        raise RenderRefused(
            f"the text in field '{layer.field}' contains an invisible control character "
            f"(U+{ord(controls[0]):04X})"
        )
    emoji = [char for char in text if is_emoji(char)]
    if emoji:
        raise RenderRefused(
            f"the text in field '{layer.field}' contains emoji ('{emoji[0]}', "
            f"{describe_char(emoji[0])}); emoji cannot be printed as customers see them "
            "on their phones (in colour), so please remove them"
        )
    text = _apply_case(text, layer.case)
    typeface.check_text(text, layer.field)
    return text


def fit_text(
    layer: TextLayer, text: str, typeface: Typeface, box_size: tuple[int, int], dpi: int
) -> FittedText:
    """The largest size between the layer's minimum and nominal size at which the text fits."""
    largest = max(1, round(layer.size_pt * dpi / POINTS_PER_INCH))
    smallest = max(1, min(largest, round(layer.smallest_pt * dpi / POINTS_PER_INCH)))
    best = _layout(layer, text, typeface, box_size, smallest)
    if best is None:
        raise RenderRefused(
            f"the text in field '{layer.field}' does not fit its "
            f"{layer.box.width:g} x {layer.box.height:g} in box even at "
            f"{layer.smallest_pt:g} pt; please shorten it"
        )
    low, high = smallest + 1, largest
    while low <= high:  # the largest size that still fits
        middle = (low + high) // 2
        candidate = _layout(layer, text, typeface, box_size, middle)
        if candidate is None:
            high = middle - 1
        else:
            best, low = candidate, middle + 1
    return best


def draw_text_mask(
    fitted: FittedText, typeface: Typeface, box_size: tuple[int, int]
) -> Image.Image:
    """An 8-bit coverage mask of the text, the size of its box."""
    mask = Image.new("L", box_size, 0)
    draw = ImageDraw.Draw(mask)
    font = typeface.at_size(fitted.size_px)
    for line, position in zip(fitted.lines, fitted.positions, strict=True):
        draw.text(position, line, fill=255, font=font, anchor=fitted.anchor)
    return mask


def _layout(
    layer: TextLayer, text: str, typeface: Typeface, box_size: tuple[int, int], size_px: int
) -> FittedText | None:
    font = typeface.at_size(size_px)
    width, height = box_size
    lines = _wrap(text, font, width) if layer.multiline else [text]
    if lines is None:
        return None
    ascent, descent = font.getmetrics()
    line_height = (ascent + descent) * layer.line_spacing
    block_height = ascent + descent + line_height * (len(lines) - 1)
    top = {"top": 0.0, "middle": (height - block_height) / 2, "bottom": height - block_height}[
        layer.valign
    ]
    x = {"left": 0.0, "center": width / 2, "right": float(width)}[layer.align]
    anchor = _H_ANCHOR[layer.align] + "s"
    positions = tuple((x, top + ascent + index * line_height) for index in range(len(lines)))
    for line, (line_x, baseline) in zip(lines, positions, strict=True):
        left, upper, right, lower = font.getbbox(line, anchor=anchor)
        if line_x + left < 0 or line_x + right > width:
            return None
        if baseline + upper < 0 or baseline + lower > height:
            return None
    return FittedText(size_px, tuple(lines), positions, anchor)


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str] | None:
    """Greedy word wrap; None when a single word is wider than the box."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split():
            trial = f"{current} {word}" if current else word
            if font.getlength(trial) <= width:
                current = trial
            elif current and font.getlength(word) <= width:
                lines.append(current)
                current = word
            else:
                return None
        lines.append(current)
    return lines


def is_emoji(char: str) -> bool:
    """Pictographic emoji, flags, skin tones and emoji-style selectors.

    Some fonts (DejaVu among them) carry black outline faces for a few emoji,
    but a customer who typed one expects the colour picture, so they are
    refused whatever the font has. Text symbols such as ♥ or ★ stay allowed.
    """
    return 0x1F000 <= ord(char) <= 0x1FAFF or char in _EMOJI_MARKS


def _apply_case(text: str, case: str) -> str:
    if case == "upper":
        return text.upper()
    if case == "lower":
        return text.lower()
    if case == "title":
        return text.title()
    return text
