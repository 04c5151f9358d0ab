"""Printable label sheets with fpdf2 (the packing slip's library): one order's 4x6
label page followed by its packing slip, or the day's labels one per 4x6 page.
A slip whose text Latin-1 holds is set in Helvetica (a PDF core font: nothing to
embed, which is most of the time a PDF takes); others embed DejaVu Sans.

The label page is the carrier's PNG placed edge to edge on a 4x6 inch page (288 x
432 pt), so it prints at size on a label printer or a sheet of 4x6 labels.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from podops.ports.labels import SlipFacts
from providers.packing_slip import PackingSlip, SlipLine, add_slip, latin1, new_document

if TYPE_CHECKING:
    from fpdf import FPDF

LABEL_PAGE = (288.0, 432.0)


class LabelSheets:
    """`LabelPrinter` over fpdf2."""

    def order_sheet(self, label_png: bytes, slip: SlipFacts) -> bytes:
        packing = _packing_slip(slip)
        plain = latin1(packing)  # DejaVu only for names Latin-1 cannot hold (Greek, Polish...)
        pdf = new_document(embed_font=not plain)
        pdf.set_title(f"Label and packing slip - order {slip.order_number}")
        _label_page(pdf, label_png)
        add_slip(pdf, packing, "Helvetica" if plain else "DejaVu")
        return bytes(pdf.output())

    def batch(self, label_pngs: list[bytes]) -> bytes:
        pdf = new_document(embed_font=False)
        pdf.set_title("Labels")
        for png in label_pngs:
            _label_page(pdf, png)
        return bytes(pdf.output())


def _label_page(pdf: FPDF, png: bytes) -> None:
    pdf.add_page(format=LABEL_PAGE)
    pdf.image(io.BytesIO(png), x=0, y=0, w=LABEL_PAGE[0], h=LABEL_PAGE[1])


def _packing_slip(slip: SlipFacts) -> PackingSlip:
    lines = [
        SlipLine(line.reference, line.sku, line.name, line.quantity, dict(line.personalization))
        for line in slip.lines
    ]
    return PackingSlip(
        slip.order_number, slip.reference, [s for s in slip.ship_to if s], lines, slip.note
    )
