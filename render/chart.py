"""The daily summary's chart: orders per day as a PNG bar chart, drawn with Pillow.

Pure (same input, same bytes), so Slack, the console and `podops summary` show
the same picture."""

from __future__ import annotations

import io
from datetime import date

from PIL import Image, ImageDraw, ImageFont

CHART_SIZE = (760, 320)
MARGIN = 40
BAR_COLOR = (46, 125, 200)
TEXT_COLOR = (40, 40, 40)


def render_chart(per_day: list[tuple[date, int]]) -> bytes:
    """Orders per day as a PNG bar chart (pure: same input, same bytes)."""
    width, height = CHART_SIZE
    image = Image.new("RGB", CHART_SIZE, "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    draw.text((MARGIN, 10), "Orders per day", fill=TEXT_COLOR, font=font)
    top = max([count for _, count in per_day] + [1])
    plot_h = height - 2 * MARGIN - 10
    slot = (width - 2 * MARGIN) / max(len(per_day), 1)
    base_y = height - MARGIN
    draw.line([(MARGIN, base_y), (width - MARGIN, base_y)], fill=TEXT_COLOR)
    for index, (day, count) in enumerate(per_day):
        left = MARGIN + index * slot + slot * 0.15
        right = MARGIN + (index + 1) * slot - slot * 0.15
        bar_top = base_y - plot_h * count / top
        if count:
            draw.rectangle([left, bar_top, right, base_y - 1], fill=BAR_COLOR)
        draw.text((left, bar_top - 14), str(count), fill=TEXT_COLOR, font=font)
        draw.text((left, base_y + 6), day.strftime("%d/%m"), fill=TEXT_COLOR, font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
