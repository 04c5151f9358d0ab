"""A packing slip as a small, valid PDF, written by hand (no PDF library needed).

Text-only A4/Letter-agnostic pages (612x792 pt, US Letter) in Helvetica: the
ship-to address and one row per line item. Characters outside Latin-1 are
replaced, since the standard Helvetica font has no glyphs for them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

PAGE_WIDTH, PAGE_HEIGHT = 612, 792
MARGIN = 54
LINE_HEIGHT = 14
LINES_PER_PAGE = (PAGE_HEIGHT - 2 * MARGIN) // LINE_HEIGHT


@dataclass(frozen=True, slots=True)
class SlipLine:
    reference: str
    sku: str
    name: str
    quantity: int
    personalization: dict[str, str] = field(default_factory=dict)


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
    if slip.note:
        rows += [("", 10), (f"Note: {slip.note}", 10)]
    return [(text[:110], size) for text, size in rows]


def render_pdf(slip: PackingSlip) -> bytes:
    rows = slip_text(slip)
    pages = [rows[i : i + LINES_PER_PAGE] for i in range(0, len(rows), LINES_PER_PAGE)] or [[]]
    font_id = 3
    objects: list[bytes] = [b"", b""]  # catalog and page tree, filled in below
    objects.append(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    page_ids = []
    for page in pages:
        stream = _content(page)
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        content_id = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Contents %d 0 R "
            b"/Resources << /Font << /F1 %d 0 R >> >> >>"
            % (PAGE_WIDTH, PAGE_HEIGHT, content_id, font_id)
        )
        page_ids.append(len(objects))
    kids = b" ".join(b"%d 0 R" % page_id for page_id in page_ids)
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(page_ids))
    return _assemble(objects)


def _content(rows: list[tuple[str, int]]) -> bytes:
    parts = [b"BT", b"%d %d Td" % (MARGIN, PAGE_HEIGHT - MARGIN), b"%d TL" % LINE_HEIGHT]
    for text, size in rows:
        parts.append(b"/F1 %d Tf (%s) Tj T*" % (size, _escape(text)))
    parts.append(b"ET")
    return b"\n".join(parts)


def _escape(text: str) -> bytes:
    raw = text.encode("cp1252", errors="replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _assemble(objects: list[bytes]) -> bytes:
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref_at,
    )
    return bytes(out)


def write_pdf(path: Path, slip: PackingSlip) -> Path:
    """Write atomically (aside, then rename), so a reader never sees half a slip."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(render_pdf(slip))
    temporary.replace(path)
    return path
