"""Reading one pasted tracking row: `reference, tracking_company, tracking_number[, sku,
quantity]`, from the Tracking tab or a CSV file.

Pure validation with reasons a person can act on. Spreadsheets mangle such
rows in known ways: a formula instead of a value, a long number turned into
`9.4E+21`, a quantity turned into a date, stray spaces and invisible
characters. Each is refused with what to do, never guessed at silently.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from podops.carriers import find_carrier, guess_carrier, normalize_carrier
from podops.errors import InvalidInput
from podops.refs import LineRef, OrderRef
from podops.tracking.parcels import normalize_number

COLUMNS: tuple[str, ...] = ("reference", "tracking_company", "tracking_number", "sku", "quantity")
_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060"), None)
_DATE = re.compile(
    r"^(\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2})?)?|\d{1,2}[/.]\d{1,2}[/.]\d{2,4})$"
)
_SCIENTIFIC = re.compile(r"^\d+(\.\d+)?E[+-]?\d+$", re.IGNORECASE)
_WHOLE_FLOAT = re.compile(r"^(\d+)\.0+$")
_GENERIC_NUMBER = re.compile(r"[A-Z0-9]{6,40}")


@dataclass(frozen=True, slots=True)
class TrackingInput:
    """A row that passed the checks that need no database."""

    row: int
    reference: str
    carrier: str
    number: str
    sku: str = ""
    quantity: int | None = None
    pasted: str = ""
    """The reference cell as pasted (invisible characters dropped, nothing trimmed):
    a store may number an order ` 17`, `A  12` or `#1001`."""

    def order_references(self) -> list[OrderRef]:
        """Every order the reference may name, in every tier (`reference_tiers`)."""
        readings = [ref for orders, lines in self.reference_tiers() for ref in orders]
        return list(dict.fromkeys(readings))

    def line_references(self) -> list[LineRef]:
        """Every line the reference may name, in every tier (`reference_tiers`)."""
        return [line for orders, lines in self.reference_tiers() for line in lines]

    def reference_tiers(self) -> list[tuple[list[OrderRef], list[LineRef]]]:
        """The orders and lines the reference may name, most likely first, in tiers:
        the cell as pasted (only when cleaning changes it), then cleaned (spaces
        collapsed); the first tier that names an order decides, so a store's ` 17` or
        `A  12` is reachable beside `17` and `A 12`. In each, a leading `#` may be
        dropped (`#1001` is order `1001`), `main:1001` is order `1001` of `main` or the
        order numbered so (`OrderRef.pasted_readings`), and `1001-01` a line."""
        tiers = []
        cleaned = clean_cell(self.pasted) or self.reference
        if self.pasted and self.pasted != cleaned:
            hashless = self.pasted[1:] if self.pasted.startswith("#") else ""
            tiers.append(_tier([self.pasted, hashless]))
        tiers.append(_tier([cleaned, self.reference]))
        return tiers


def _tier(texts: list[str]) -> tuple[list[OrderRef], list[LineRef]]:
    texts = [t for t in dict.fromkeys(texts) if t]
    orders = [ref for text in texts for ref in OrderRef.pasted_readings(text)]
    return list(dict.fromkeys(orders)), [line for text in texts for line in _lines(text)]


def _lines(text: str) -> list[LineRef]:
    try:
        return LineRef.readings(text)
    except InvalidInput:
        return []


def clean_cell(value: object) -> str:
    """Text of a cell with invisible characters and stray whitespace removed."""
    text = "" if value is None else str(value)
    text = text.translate(_INVISIBLE).replace("\u00a0", " ")
    return " ".join(text.split())


def is_blank(cells: Sequence[object]) -> bool:
    return not any(clean_cell(c) for c in cells[: len(COLUMNS)])


def row_digest(cells: Sequence[object]) -> str:
    """A fingerprint of a row's input cells, to tell an edited row from one imported."""
    padded = [clean_cell(c) for c in cells[: len(COLUMNS)]]
    padded += [""] * (len(COLUMNS) - len(padded))
    return hashlib.sha1("\x1f".join(padded).encode()).hexdigest()[:20]


def _refuse_mangled(label: str, text: str) -> None:
    if text.startswith("="):
        raise InvalidInput(f"the {label} is a formula ({text[:40]}); paste the value instead")
    if _SCIENTIFIC.match(text):
        raise InvalidInput(
            f"the {label} was turned into the number {text} by the spreadsheet; format the "
            "column as plain text and paste it again"
        )
    if _DATE.match(text):
        raise InvalidInput(f"the {label} looks like a date ({text}); type it as plain text")


def parse_reference(text: str) -> str:
    reference = clean_cell(text)
    if not reference:
        raise InvalidInput("no reference: give the order number (1234) or line (10001-01)")
    _refuse_mangled("reference", reference)
    whole = _WHOLE_FLOAT.match(reference)
    return whole.group(1) if whole else reference.lstrip("#").strip()


def parse_quantity(text: str) -> int | None:
    value = clean_cell(text)
    if not value:
        return None
    _refuse_mangled("quantity", value)
    whole = _WHOLE_FLOAT.match(value)
    if whole:
        value = whole.group(1)
    if not value.isdigit() or int(value) < 1:
        raise InvalidInput(f"the quantity {value!r} is not a whole number of at least 1")
    return int(value)


def parse_number_and_carrier(number_text: str, company_text: str) -> tuple[str, str]:
    raw = clean_cell(number_text)
    company = clean_cell(company_text)
    if not raw:
        raise InvalidInput("no tracking number")
    _refuse_mangled("tracking number", raw)
    if company.startswith("="):
        raise InvalidInput(f"the tracking company is a formula ({company[:40]}); paste the value")
    number = normalize_number(raw)
    carrier = find_carrier(company) if company else guess_carrier(number)
    if carrier is None and not company:
        raise InvalidInput(
            "name the tracking company (UPS, USPS, FedEx, ...); the number alone does not tell"
        )
    if carrier is not None:
        if not carrier.plausible(number):
            raise InvalidInput(f"{number} does not look like a {carrier.name} tracking number")
        return number, carrier.name
    if not _GENERIC_NUMBER.fullmatch(number):
        raise InvalidInput(f"{number} does not look like a tracking number")
    return number, normalize_carrier(company)


def parse_tracking_row(row: int, cells: Sequence[object]) -> TrackingInput:
    """Validate one row's shape; raise InvalidInput with the reason."""
    padded = [clean_cell(c) for c in cells[: len(COLUMNS)]]
    padded += [""] * (len(COLUMNS) - len(padded))
    reference_text, company, number_text, sku, quantity_text = padded
    reference = parse_reference(reference_text)
    number, carrier = parse_number_and_carrier(number_text, company)
    if sku.startswith("="):
        raise InvalidInput(f"the sku is a formula ({sku[:40]}); paste the value instead")
    pasted = "" if not cells or cells[0] is None else str(cells[0]).translate(_INVISIBLE)
    return TrackingInput(
        row, reference, carrier, number, sku, parse_quantity(quantity_text), pasted=pasted
    )
