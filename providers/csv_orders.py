"""Outside orders (Amazon, Etsy, phone) from a CSV file, and the "csv" store.

Columns (header row, any order, case and spaces ignored; see docs/intake.md):
order_number, placed_at, customer_name, email, phone, address1, address2,
city, state, postcode, country, sku, product_name, quantity, unit_price,
currency, personalization (`field=value; field=value`), shipping (the method
the customer chose, mapped to a speed by the store's shipping table), plus optional
`p:<field>` columns (one personalization field each, they win over the
`personalization` column) and `img:<field>` columns (customer image links).
Rows with the same order_number are one order's lines. UTF-8 (with or without
BOM) or Windows-1252, comma / semicolon / tab delimited, any line ends.

Quantities and prices are parsed with the core's strict, bounded parsers
(`podops.incoming`), shared with every store adapter. A row that cannot be an
order line at all (no SKU, no usable quantity, no order number, a record the
csv module cannot read) is reported with its reason, and its order is not imported (a
partial order would be worse than none); every other order still is. A field
that is wrong but not fatal (unreadable placed_at, personalization that is not
short plain text, an image that is not a link, a bad price) does not drop the
order: it is imported flagged, the problem saying why, so staff see it and
decide. Orders where a line has no personalization arrive as needs_design.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from decimal import Decimal

from podops.incoming import (
    IncomingLineItem,
    IncomingOrder,
    Unreadable,
    parse_money,
    parse_quantity,
    shown,
)
from podops.ports.store import OrderPage, PushResult, TrackingPush

COLUMNS = (
    "order_number", "placed_at", "customer_name", "email", "phone", "address1", "address2",
    "city", "state", "postcode", "country", "sku", "product_name", "quantity", "unit_price",
    "currency", "personalization", "shipping",
)  # fmt: skip
REQUIRED = ("order_number", "sku", "quantity")
ALIASES = {
    "order": "order_number", "order_no": "order_number", "order_id": "order_number",
    "date": "placed_at", "order_date": "placed_at", "name": "customer_name",
    "customer": "customer_name", "e_mail": "email", "address_1": "address1",
    "address_2": "address2", "zip": "postcode", "postal_code": "postcode", "province": "state",
    "product": "product_name", "qty": "quantity", "price": "unit_price",
    "shipping_method": "shipping", "ship_method": "shipping", "shipping_service": "shipping",
}  # fmt: skip
FIELD_PREFIX, IMAGE_PREFIX = "p:", "img:"
MAX_TEXT = 500
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DELIMITERS = (",", ";", "\t")


class RowError(ValueError):
    """This row cannot become an order line; the message says why."""


@dataclass(slots=True)
class ParsedFile:
    orders: list[IncomingOrder] = field(default_factory=list)
    rows: dict[str, list[int]] = field(default_factory=dict)
    """Order number -> the file's row numbers (the header is row 1)."""
    errors: dict[int, tuple[str, str]] = field(default_factory=dict)
    """Row number -> (order number or "", reason) for rows that made no order."""
    warnings: list[str] = field(default_factory=list)


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def sniff_delimiter(header_line: str) -> str:
    """The delimiter used most in the header (the column names contain none)."""
    return max(_DELIMITERS, key=header_line.count)


def column_name(raw: str) -> str:
    name = raw.strip().lower()
    for prefix in (FIELD_PREFIX, IMAGE_PREFIX):
        if name.startswith(prefix):
            return prefix + re.sub(r"[\s-]+", "_", name[len(prefix) :].strip())
    name = re.sub(r"[\s-]+", "_", name)
    return ALIASES.get(name, name)


def parse_file(data: bytes, *, tz: tzinfo, now: datetime, store: str) -> ParsedFile:
    """Read every row; group into orders; keep going past bad rows."""
    text = decode(data)
    lines = text.splitlines()
    result = ParsedFile()
    if not lines or not lines[0].strip():
        result.errors[1] = ("", "the file is empty (expected a header row)")
        return result
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(lines[0]))
    header = [column_name(c) for c in next(reader)]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        result.errors[1] = ("", f"missing column(s): {', '.join(missing)}")
        return result
    unknown = [c for c in header if c and c not in COLUMNS and not c.startswith(("p:", "img:"))]
    if unknown:
        result.warnings.append(f"ignored unknown column(s): {', '.join(unknown)}")
    grouped: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for number, cells in _records(reader, result):
        row = {name: cell.strip() for name, cell in zip(header, cells, strict=False) if name}
        if not any(row.values()):
            continue
        key = row.get("order_number", "").lstrip("#").strip()
        if not key:
            result.errors[number] = ("", "order_number is blank")
            continue
        grouped.setdefault(key, []).append((number, row))
    for key, rows in grouped.items():
        _build_order(result, store, key, rows, tz=tz, now=now)
    return result


def _records(reader: Iterator[list[str]], result: ParsedFile) -> Iterator[tuple[int, list[str]]]:
    """The file's records with their row numbers (the header is row 1); a record the
    csv module cannot read (a field over its size limit) is that row's error."""
    number = 1
    while True:
        number += 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            result.errors[number] = ("", f"this row cannot be read as CSV ({exc})")
            continue
        yield number, cells


def _build_order(
    result: ParsedFile,
    store: str,
    key: str,
    rows: list[tuple[int, dict[str, str]]],
    *,
    tz: tzinfo,
    now: datetime,
) -> None:
    result.rows[key] = [number for number, _ in rows]
    items: list[IncomingLineItem] = []
    bad: dict[int, str] = {}
    for index, (number, row) in enumerate(rows, start=1):
        try:
            items.append(_line(key, index, row))
        except (RowError, Unreadable) as exc:
            bad[number] = str(exc)
        except (ValueError, ArithmeticError) as exc:  # never the row's data in a traceback
            bad[number] = f"this row cannot be read ({type(exc).__name__})"
    if bad:
        for number, _ in rows:
            reason = bad.get(number) or f"not imported: row {min(bad)} of this order has an error"
            result.errors[number] = (key, reason)
        return
    first = {name: next((r[name] for _, r in rows if r.get(name)), "") for name in COLUMNS}
    problems: list[str] = []
    methods = sorted({r["shipping"] for _, r in rows if r.get("shipping")})
    if len(methods) > 1:
        problems.append(
            f"rows of this order name different shipping methods ({', '.join(methods)}); "
            "podops uses the first: check the shipping speed"
        )
    try:
        placed_at = parse_when(first["placed_at"], tz=tz, now=now)
    except RowError as exc:
        placed_at = now
        problems.append(f"{exc}; the import time is used")
    result.orders.append(_order(store, key, first, items, placed_at, problems))


def _order(
    store: str,
    key: str,
    first: dict[str, str],
    items: list[IncomingLineItem],
    placed: datetime,
    problems: list[str],
) -> IncomingOrder:
    given, _, family = first["customer_name"].rpartition(" ")
    country = first["country"].upper()
    if country and not re.fullmatch(r"[A-Z]{2}", country):
        problems.append(f"country {first['country']!r} is not a 2-letter code (like US, GB, DE)")
    address = {
        "first_name": given or family, "last_name": family if given else "",
        "address_1": first["address1"], "address_2": first["address2"], "city": first["city"],
        "state": first["state"], "postcode": first["postcode"], "country": country,
    }  # fmt: skip
    return IncomingOrder(
        store=store,
        external_id=key,
        number=key,
        placed_at=placed,
        customer_name=first["customer_name"],
        customer_email=first["email"],
        customer_phone=first["phone"],
        shipping_address=address if any(address.values()) else {},
        currency=(first["currency"] or "USD").upper(),
        total=sum((i.unit_price * i.quantity for i in items), Decimal("0.00")),
        items=items,
        problems=problems,
        needs_design=any(not item.personalization for item in items),
        shipping_method=first["shipping"][:200],
    )


def _line(key: str, index: int, row: dict[str, str]) -> IncomingLineItem:
    sku = row.get("sku", "")
    if not sku:
        raise RowError("sku is blank")
    quantity = parse_quantity(row.get("quantity", ""))
    problems: list[str] = []
    personalization = _personalization(row.get("personalization", ""), problems)
    images: dict[str, str] = {}
    for name, value in row.items():
        if name.startswith(FIELD_PREFIX) and value:
            text = _text(value, name, problems)
            if text is not None:
                personalization[name[len(FIELD_PREFIX) :]] = text
        elif name.startswith(IMAGE_PREFIX) and value:
            if value.lower().startswith(("https://", "http://")):
                images[name[len(IMAGE_PREFIX) :]] = value
            else:
                problems.append(f"{name} {value[:40]!r} is not a web link; it was not used")
    try:
        price = parse_price(row.get("unit_price", ""))
    except RowError as exc:
        price = Decimal("0.00")
        problems.append(f"{exc}; 0.00 is used")
    return IncomingLineItem(
        external_id=f"{key}-{index}",
        sku=sku.upper(),
        name=row.get("product_name", "")[:300],
        quantity=quantity,
        unit_price=price,
        personalization=personalization,
        image_urls=images,
        problems=problems,
    )


def parse_personalization(text: str) -> dict[str, str]:
    """`name=Ana; message=Happy birthday` -> {"name": "Ana", "message": "Happy birthday"}."""
    problems: list[str] = []
    fields = _personalization(text, problems)
    if problems:
        raise RowError(problems[0])
    return fields


def _personalization(text: str, problems: list[str]) -> dict[str, str]:
    """The readable pairs; each unreadable part becomes a problem instead."""
    fields: dict[str, str] = {}
    for part in text.split(";"):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        if not sep or not name.strip():
            problems.append(f"personalization {part.strip()[:40]!r} is not field=value")
            continue
        checked = _text(value.strip(), name.strip(), problems)
        if checked is not None:
            fields[re.sub(r"[\s-]+", "_", name.strip().lower())] = checked
    return fields


def _text(value: str, name: str, problems: list[str]) -> str | None:
    """Short plain text, or None (and the problem) when it is not: never printed as is."""
    if len(value) > MAX_TEXT:
        problems.append(f"{name} is {len(value)} characters (at most {MAX_TEXT}); it was not used")
        return None
    if _CONTROL.search(value):
        problems.append(f"{name} contains control characters; it was not used")
        return None
    return value


_PRICE_AROUND = " \t\u00a0$€£¥ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
"""What may surround a price: spaces, a currency sign or code (`$12.50`, `12.50 USD`)."""
_PRICE_FORMS = (
    (re.compile(r"[1-9][0-9]{0,2}[.,][0-9]{3}"), None, None),
    (re.compile(r"[0-9]+(?:[.,][0-9]{1,2}|\.[0-9]{3,10})?"), "", ","),
    (re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]{1,10})?"), ",", "."),
    (re.compile(r"[0-9]{1,3}(?:\.[0-9]{3})+(?:,[0-9]{1,10})?"), ".", ","),
    (
        re.compile(r"[0-9]{1,3}(?:[ \u00a0\u202f][0-9]{3})+(?:[.,][0-9]{1,10})?"),
        " \u00a0\u202f",
        ",",
    ),
)
"""(form, thousands separators, decimal comma): plain (`19.50`, `19,50`), US
(`1,000.50`), European (`1.000,50`), spaced (`1 000,50`). A lone separator before
three digits (`1,000`, `1.000`) could be either: refused, never guessed."""


def parse_price(text: str) -> Decimal:
    """A unit price as a shop writes it (see _PRICE_FORMS); blank is 0.00. Anything else
    (`NaN`, `1e400`, `0x10`, `1,000`) is refused with the reason, never read as a
    different amount."""
    number = text.strip(_PRICE_AROUND)
    if not text.strip():
        return Decimal("0.00")
    if number.startswith("-") and number[1:2].isdigit():
        raise RowError(f"unit_price {shown(text)} is negative")
    found = next(((t, c) for form, t, c in _PRICE_FORMS if form.fullmatch(number)), None)
    if found is None:
        raise RowError(f"unit_price {shown(text)} is not an amount")
    thousands, comma = found
    if thousands is None or comma is None:
        raise RowError(
            f"unit_price {shown(text)} could be a thousand or a fraction: write it like "
            "1000.00 or 1.00"
        )
    for sign in thousands:
        number = number.replace(sign, "")
    number = number.replace(",", ".") if comma == "," else number
    try:
        return parse_money(number, "unit_price")
    except Unreadable:
        raise RowError(f"unit_price {shown(text)} is more than podops can store") from None


def parse_when(text: str, *, tz: tzinfo, now: datetime) -> datetime:
    """ISO dates (`2026-11-20`, `2026-11-20 15:04`, with or without offset); blank is now."""
    if not text:
        return now
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise RowError(
            f"placed_at {text!r} is not a date like 2026-11-20 or 2026-11-20 15:04"
        ) from None
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment


class CsvStore:
    """The store of outside orders: nothing to fetch, nothing to push back."""

    platform = "csv"

    def __init__(self, key: str) -> None:
        self.key = key

    def fetch_changes(
        self, since: datetime | None, start_page: int = 1, start_token: str | None = None
    ) -> Iterator[OrderPage]:
        return iter(())

    def push_status(self, external_id: str, status: str) -> PushResult:
        return PushResult.NOTHING_TO_PUSH

    def push_tracking(self, external_id: str, tracking: TrackingPush) -> PushResult:
        return PushResult.NOTHING_TO_PUSH

    def close(self) -> None:
        return None
