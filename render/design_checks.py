"""The templates as the judge of what a line may carry: staff edits and customer fields.

`TemplateChecks` answers the core's `DesignChecks` port: which fields a
product's template prints, and whether a photo link a person typed would print,
checked by the very fetch and decode a render uses (address rules, size, time,
a decodable image at the size its box needs). `refuse_unprinted` stops a render
whose line carries a field the customer filled and the template does not print
(a name on a mug with no name layer), unless the template lists it in `ignore`:
such a field used to vanish from the print without a word.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from podops.errors import RenderRefused
from podops.ports.render import TemplateFields
from render.images import FetchPolicy, decode_image, fetch_image
from render.templates import ArtworkLayer, ImageLayer, ProductTemplate, TextLayer


class TemplateChecks:
    """The `DesignChecks` port over the renderer's loaded templates and fetch rules."""

    def __init__(
        self, templates: Callable[[str], ProductTemplate], fetch_policy: FetchPolicy
    ) -> None:
        self.templates = templates
        self.fetch_policy = fetch_policy

    def template_fields(self, product_key: str) -> TemplateFields:
        return fields_of(self.templates(product_key))

    def check_photo(self, product_key: str, field: str, url: str) -> None:
        template = self.templates(product_key)
        layer = next(
            (x for x in template.all_layers if isinstance(x, ImageLayer) and x.field == field), None
        )
        if layer is None:
            raise RenderRefused(f"this {template.product_noun} prints no photo named {field!r}")
        data = fetch_image(url.strip(), self.fetch_policy)
        _, _, width, height = layer.box.pixels(template.dpi)
        decode_image(data, self.fetch_policy.max_pixels, (width, height))


def fields_of(template: ProductTemplate) -> TemplateFields:
    return TemplateFields(
        product_key=template.key,
        noun=template.product_noun,
        texts=tuple(x.field for x in template.all_layers if isinstance(x, TextLayer)),
        images=tuple(x.field for x in template.all_layers if isinstance(x, ImageLayer)),
        ignored=tuple(template.ignore),
    )


def refuse_unprinted(
    template: ProductTemplate, personalization: Mapping[str, str], image_urls: Mapping[str, str]
) -> None:
    """RenderRefused when the customer filled a field this template does not print."""
    reason = unprinted_reason(template, personalization, image_urls)
    if reason:
        raise RenderRefused(reason)


def unprinted_reason(
    template: ProductTemplate, personalization: Mapping[str, str], image_urls: Mapping[str, str]
) -> str:
    """`the customer wrote a name; this mug prints no name (...)`, or "" when all prints."""
    printed = {x.field for x in template.all_layers if not isinstance(x, ArtworkLayer)}
    skipped = printed | set(template.ignore)
    texts = [n for n, v in personalization.items() if str(v).strip() and n not in skipped]
    images = [n for n, v in image_urls.items() if str(v).strip() and n not in skipped]
    if not texts and not images:
        return ""
    filled = []
    if texts:
        filled.append("wrote " + _joined([_a(name) for name in texts], "and"))
    if images:
        filled.append("sent " + _joined([_a(name) for name in images], "and"))
    names = [*texts, *images]
    noun = template.product_noun
    them = "them" if len(names) > 1 else "it"
    return (
        f"the customer {' and '.join(filled)}; this {noun} prints no "
        f"{_joined(names, 'or')} (clear {_joined(names, 'and')} to print the {noun} "
        f"without {them}, or list {them} in the template's ignore)"
    )


def _a(name: str) -> str:
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def _joined(words: list[str], last: str) -> str:
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {last} {words[-1]}"
