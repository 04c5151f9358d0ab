"""A packing slip as a PDF, written with fpdf2 in DejaVu Sans.

Text-only US Letter pages: the ship-to address and one row per line item. The
DejaVu font shipped with the renderer is embedded (subset), so Greek, Cyrillic,
Polish and other non-Latin names print as the customer wrote them; a character
DejaVu lacks (an emoji) is left out, and fpdf2 names it in the log.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fpdf import FPDF

PAGE_WIDTH, PAGE_HEIGHT = 612, 792
MARGIN = 54
LINE_HEIGHT = 14
MAX_CHARS = 110
FIXED_DATE = datetime(2000, 1, 1, tzinfo=UTC)  # the same slip is the same bytes
FONTS = resources.files("render").joinpath("fonts")


@dataclass(frozen=True, slots=True)
class SlipLine:
    reference: str
    sku: str
    name: str
    quantity: int
    personalization: dict[str, str] = field(default_factory=dict)
    placements: tuple[str, ...] = ()
    """The line's print files by placement when it has several ("front", "back")."""


@dataclass(frozen=True, slots=True)
class PackingSlip:
    order_number: str
    reference: str
    ship_to: Sequence[str]
    lines: Sequence[SlipLine]
    note: str = ""


def slip_text(slip: PackingSlip) -> list[tuple[str, int]]:
    """(text, font size) rows, top to bottom."""
    rows: list[tuple[str, int]] = [(f"Packing slip - order {slip.order_number}", 16), ("", 10)]
    rows.append((f"Reference: {slip.reference}", 10))
    rows += [("", 10), ("Ship to:", 11)]
    rows += [(f"    {line}", 10) for line in slip.ship_to if line]
    rows += [("", 10), ("Items:", 11)]
    for line in slip.lines:
        rows.append((f"  {line.quantity} x  {line.sku}  {line.name}  ({line.reference})", 10))
        rows += [(f"        {k}: {v}", 9) for k, v in line.personalization.items()]
        if line.placements:
            files = ", ".join(line.placements)
            rows.append((f"        print files: {files} (one file each)", 9))
    if slip.note:
        rows += [("", 10), (f"Note: {slip.note}", 10)]
    return [(text[:MAX_CHARS], size) for text, size in rows]


def new_document(*, embed_font: bool = True) -> FPDF:
    """A reproducible (no creation date) document in points, with DejaVu Sans embedded
    (or only the PDF core fonts, for text that Latin-1 holds: much faster to write)."""
    from fpdf import FPDF  # imported here: the core loads this module without PDF code

    pdf = FPDF(unit="pt", format=(PAGE_WIDTH, PAGE_HEIGHT))
    pdf.set_creation_date(FIXED_DATE)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(auto=True, margin=MARGIN)
    if not embed_font:
        return pdf
    with resources.as_file(FONTS.joinpath("DejaVuSans.ttf")) as font:
        pdf.add_font("DejaVu", "", str(font))
    return pdf


def add_slip(pdf: FPDF, slip: PackingSlip, family: str = "DejaVu") -> None:
    """The slip's page(s), US Letter, at the end of `pdf`."""
    pdf.add_page(format=(PAGE_WIDTH, PAGE_HEIGHT))
    for text, size in slip_text(slip):
        pdf.set_font(family, size=size)
        pdf.cell(w=0, h=LINE_HEIGHT, text=text, new_x="LMARGIN", new_y="NEXT")


def latin1(slip: PackingSlip) -> bool:
    """Whether every character of the slip prints in a PDF core font (Helvetica)."""
    try:
        "".join(text for text, _size in slip_text(slip)).encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def render_pdf(slip: PackingSlip) -> bytes:
    """The slip as PDF bytes; reproducible (no creation date), pages break as needed."""
    pdf = new_document()
    pdf.set_title(f"Packing slip - order {slip.order_number}")
    add_slip(pdf, slip)
    return bytes(pdf.output())


def write_pdf(path: Path, slip: PackingSlip) -> Path:
    """Write atomically (aside, then rename), so a reader never sees half a slip."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(render_pdf(slip))
    temporary.replace(path)
    return path
