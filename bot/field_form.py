"""Which fields the edit form shows for each line: the ones its template prints.

A line's form shows its template's text fields, then its photo fields (the
link), then any field the customer filled that the template does not print
(so staff can empty it: the line then prints without it). A line without a
usable template shows what it carries; saving is then refused with the reason.
The same values are what a submitted form is compared with, so only the
fields a person changed are saved.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from bot.modal_blocks import MAX_INPUT
from podops import services
from podops.errors import PodopsError

if TYPE_CHECKING:
    from podops.fulfillment.field_checks import FieldChecks
    from podops.ports.context import Everything


def form_values(runtime: Everything, reference: str) -> dict[int, dict[str, str]]:
    """Line position -> the fields its form shows, with their current values."""
    with runtime.db.reading() as session:
        order = services.get_order(session, reference)
        lines = [
            (item.position, item.product_key, dict(item.personalization), dict(item.image_urls))
            for item in order.items
        ]
    return {
        position: line_values(runtime.field_checks, product, texts, images)
        for position, product, texts, images in lines
    }


def line_values(
    checks: FieldChecks, product_key: str, texts: Mapping[str, Any], images: Mapping[str, Any]
) -> dict[str, str]:
    try:
        fields = checks.template_fields(product_key) if product_key else None
    except PodopsError:
        fields = None
    if fields is None:
        return {str(k): str(v) for k, v in texts.items()}
    values = {name: str(texts.get(name, "")) for name in fields.texts}
    for name in fields.images:
        link = str(images.get(name, ""))
        if len(link) <= MAX_INPUT:  # a longer link would not fit the input: not shown
            values[name] = link
    for name, value in {**images, **texts}.items():
        if name not in values and name not in fields.names and str(value).strip():
            values[str(name)] = str(value)
    return values
