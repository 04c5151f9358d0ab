"""Which store meta key holds which personalization field: the matching rules, in one place.

Shops do not write the key staff typed in the config. WooCommerce Product Add-Ons
(up to 6.x) writes a priced field as `Engraving ($5.00)` (also `Engraving (+$5.00)`,
`Engraving (+5,00 €)`); WooCommerce's own attributes are `pa_colour`; hidden copies
start with `_`; other plugins add a colon (`Engraving:`) or use a slug
(`engraving_text`). A meta key names a configured name when (docs/intake.md):

1. it is the configured name exactly (the key or its display key), as always; else
2. both are equal once *normalized*: Unicode-folded (NFKC, case-folded); a trailing
   price in parentheses removed (a number with a sign or a currency: `($5.00)`,
   `(+$5.00)`, `(+ 5,00 €)`, `(EUR 5)`; `(max 20)` is not a price); the known prefixes
   `_`, `attribute_` and `pa_` removed; every run of spaces and punctuation
   (`_ - : .` ...) made one space, trimmed.

Never a fuzzy match: two names are the same or they are not. When a key names
more than one configured name that lead to different fields, nothing is chosen:
the match is `ambiguous` and the line says so (staff decide, or the config gets
the exact key).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

CURRENCY = r"(?:[$€£¥₹₽₩₺₪₫฿₱₦₴₵₡₸]|[ARC]?\$|US\$|kr|zł|Kč|Ft|lei|[A-Z]{3})"
PRICE = re.compile(
    rf"\s*\(\s*(?P<sign>[+\-])?\s*(?P<pre>{CURRENCY})?\s*\d[\d.,\s']*?\s*(?P<post>{CURRENCY})?\s*\)\s*$"
)
PREFIXES = ("_", "attribute_", "pa_")
_PUNCTUATION = re.compile(r"[\W_]+")


def strip_price(name: str) -> str:
    """The name without a trailing price in parentheses (only a real price)."""
    found = PRICE.search(name)
    if found is None or not (found["sign"] or found["pre"] or found["post"]):
        return name
    return name[: found.start()]


def normalize(name: str) -> str:
    """The form two names are compared in (rule 2 above)."""
    text = unicodedata.normalize("NFKC", strip_price(name.strip())).casefold().strip()
    for prefix in PREFIXES:
        while text.startswith(prefix) and len(text) > len(prefix):
            text = text[len(prefix) :]
    return _PUNCTUATION.sub(" ", text).strip()


@dataclass(frozen=True, slots=True)
class KeyMatch:
    """What one meta key names: a field and/or an image slot, or several (ambiguous)."""

    field: str | None = None
    image: str | None = None
    configured: str = ""
    """The configured name that matched."""
    exact: bool = True
    ambiguous: tuple[str, ...] = ()
    """The configured names that all match (then nothing is chosen)."""

    @property
    def found(self) -> bool:
        return self.field is not None or self.image is not None


NO_MATCH = KeyMatch()


class KeyMatcher:
    """Matches meta keys to one personalization mapping (fields and images)."""

    def __init__(self, fields: Mapping[str, str], images: Mapping[str, str]) -> None:
        self.fields, self.images = dict(fields), dict(images)
        self._by_normal: dict[str, list[str]] = {}
        for name in dict.fromkeys([*self.fields, *self.images]):
            normal = normalize(name)
            if normal:
                self._by_normal.setdefault(normal, []).append(name)

    def _targets(self, name: str) -> tuple[str | None, str | None]:
        return self.fields.get(name), self.images.get(name)

    def match(self, key: str, display_key: str = "") -> KeyMatch:
        for name in (key, display_key):
            if name and (name in self.fields or name in self.images):
                field, image = self._targets(name)
                return KeyMatch(field, image, configured=name)
        names: list[str] = []
        for normal in dict.fromkeys(normalize(n) for n in (key, display_key) if n):
            names.extend(n for n in self._by_normal.get(normal, []) if n not in names)
        if not names:
            return NO_MATCH
        if len({self._targets(name) for name in names}) > 1:
            return KeyMatch(exact=False, ambiguous=tuple(names))
        field, image = self._targets(names[0])
        return KeyMatch(field, image, configured=names[0], exact=False)

    def clashes(self) -> list[tuple[str, ...]]:
        """Configured names that normalize alike but lead to different fields."""
        return [
            tuple(names)
            for names in self._by_normal.values()
            if len({self._targets(name) for name in names}) > 1
        ]
