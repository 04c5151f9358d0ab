"""The shape in which stores and CSV files hand new orders to the core.

Store adapters map their own JSON onto these; the core validates and flags
rather than drops (an order with a problem is imported and marked). The bounds
every value a store sends must respect live here too, with the strict parsers
each adapter uses (quantities, money, dates, text), so a store's odd value is
refused at mapping time with a reason instead of failing a database write.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any


@dataclass(slots=True)
class IncomingLineItem:
    external_id: str
    sku: str
    name: str
    quantity: int
    unit_price: Decimal = Decimal("0.00")
    personalization: dict[str, str] = field(default_factory=dict)
    image_urls: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    refunded_quantity: int = 0
    """How many of `quantity` (as ordered) the store refunded: the rest is produced."""


@dataclass(slots=True)
class IncomingOrder:
    store: str
    external_id: str
    number: str
    placed_at: datetime
    store_status: str = "processing"
    customer_name: str = ""
    customer_email: str = ""
    customer_phone: str = ""
    shipping_address: dict[str, Any] = field(default_factory=dict)
    currency: str = "USD"
    total: Decimal = Decimal("0.00")
    shipping_total: Decimal = Decimal("0.00")
    note: str = ""
    items: list[IncomingLineItem] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    shipping_method_id: str = ""
    """The store's shipping method id (WooCommerce `method_id`, `:instance_id` appended)."""
    shipping_method: str = ""
    """The shipping method as the customer chose it (WooCommerce `method_title`, the CSV
    `shipping` column): mapped to a speed by the store's shipping table."""
    needs_design: bool = False
    """True for outside orders (marketplace, phone) that arrive without a design."""
    modified_at: datetime | None = None
    """When the store last changed the order: a delivery older than one already
    applied (webhook retries arrive out of order) is ignored."""
    receive_held: bool = False
    """Receive it (held by its problems) even though its store status is outside the
    store's fulfil_statuses: the shop fulfilled part of it itself, the rest is to make."""
    refunds_unread: str = ""
    """Why the store's refunds of this order could not be read (blank: read, or none):
    what is left to make is unknown, so a person checks before it is sent."""


# --- Bounds: every store adapter parses what a store sends with these, and
# `within_bounds` is the last guard before anything is stored. ---

MAX_QUANTITY = 1_000_000
"""Above this a line quantity is not one a shop means (the column holds 2**31 - 1)."""
MAX_MONEY = Decimal("9999999999.99")
"""The largest amount a Numeric(12, 2) column holds."""
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)
"""A store's clock may run ahead a little; a date further ahead is not believed."""
CENT = Decimal("0.01")
MAX_ADDRESS_CHARS = 255
"""The longest address field a shop sends (Shopify and WooCommerce keep 255): a longer
one is kept as sent and the order held, never cut and never sent to a provider."""
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DIGITS = re.compile(r"[0-9]{1,40}")
_AMOUNT = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,10})?")


class Unreadable(ValueError):
    """A value a store sent cannot be used as it is; the message says why, naming the
    field and at most a short excerpt of the value."""


def shown(value: Any) -> str:
    """A short, printable excerpt of a value a store sent, for a problem's wording."""
    text = value if isinstance(value, str) else repr(value)
    return repr(text[:24] + ("…" if len(text) > 24 else ""))


def parse_quantity(value: Any, name: str = "quantity") -> int:
    """A whole number from 1 to MAX_QUANTITY, written in ASCII digits (or a JSON integer)."""
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        number = None
    if number is None or number < 1:
        raise Unreadable(f"{name} {shown(value)} is not a whole number of at least 1")
    if number > MAX_QUANTITY:
        raise Unreadable(f"{name} {shown(value)} is more than {MAX_QUANTITY:,}")
    return number


def parse_money(value: Any, name: str, *, negative: bool = False) -> Decimal:
    """An amount with cents that a Numeric(12, 2) column holds; blank is 0.00.
    Non-finite numbers (NaN, Infinity, 1e999) and exponents are refused."""
    if value is None or value == "":
        return Decimal("0.00")
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise Unreadable(f"{name} {shown(value)} is not an amount")
    if isinstance(value, float) and not math.isfinite(value):
        raise Unreadable(f"{name} {shown(value)} is not an amount")
    text = format(value, "f") if isinstance(value, float | Decimal) else str(value).strip()
    if not _AMOUNT.fullmatch(text):
        raise Unreadable(f"{name} {shown(value)} is not an amount")
    amount = Decimal(text).quantize(CENT)
    if amount < 0 and not negative:
        raise Unreadable(f"{name} {shown(value)} is negative")
    if abs(amount) > MAX_MONEY:
        raise Unreadable(f"{name} {shown(value)} is more than podops can store")
    return amount


def believable(moment: datetime | None, now: datetime) -> datetime | None:
    """A store's date if it lies between 2000 and a day from now, else None."""
    if moment is None or moment.tzinfo is None:
        return None
    return moment if EARLIEST <= moment <= now + FUTURE_SLACK else None


def plain(text: str) -> str:
    """Text without control characters (NUL included; tabs and line ends kept)."""
    return _CONTROL.sub("", text) if _CONTROL.search(text) else text


def within_bounds(order: IncomingOrder, now: datetime) -> IncomingOrder:
    """The last guard before storing, whatever adapter built the order: every value
    fits its column, or is replaced and the order flagged with the reason."""
    if _clean(order, now):
        return order
    problems: list[str] = []
    fixed = replace(order, problems=problems, items=[])
    for name in _ORDER_TEXT:
        _plain_field(fixed, name, problems, "")
    fixed.shipping_address = _plain_dict(order.shipping_address, "address", problems)
    problems.extend(
        f"{str(name).replace('_', ' ')} is {len(value):,} characters (at most "
        f"{MAX_ADDRESS_CHARS}): check the address with the customer"
        for name, value in fixed.shipping_address.items()
        if isinstance(value, str) and len(value) > MAX_ADDRESS_CHARS
    )
    for name in ("total", "shipping_total"):
        _bounded_money(fixed, name, problems, "")
    if believable(order.placed_at, now) is None:
        problems.append("the store's creation date is not believable; the arrival time is used")
        fixed.placed_at = now
    fixed.modified_at = believable(order.modified_at, now)
    for position, item in enumerate(order.items, start=1):
        fixed.items.append(_bounded_line(item, f"line {position}: ", problems))
    if not problems:
        return order
    fixed.problems = [*order.problems, *problems]
    return fixed


def _clean(order: IncomingOrder, now: datetime) -> bool:
    """The common case, checked without building anything (intake is the hot path)."""
    texts = [getattr(order, name) for name in _ORDER_TEXT]
    amounts = [order.total, order.shipping_total]
    for item in order.items:
        texts.extend((item.external_id, item.sku, item.name))
        texts.extend(item.personalization.values())
        texts.extend(item.image_urls.values())
        amounts.append(item.unit_price)
        if type(item.quantity) is not int or not 0 <= item.refunded_quantity <= item.quantity:
            return False
        if item.quantity > MAX_QUANTITY:
            return False
    texts.extend(order.shipping_address.values())
    if any(len(str(value)) > MAX_ADDRESS_CHARS for value in order.shipping_address.values()):
        return False
    return (
        all(isinstance(text, str) for text in texts)
        and not _CONTROL.search("".join(texts))
        and all(_fits(amount) for amount in amounts)
        and believable(order.placed_at, now) is not None
        and (order.modified_at is None or believable(order.modified_at, now) is not None)
    )


def _fits(amount: Any) -> bool:
    return (
        isinstance(amount, Decimal)
        and amount.is_finite()
        and abs(amount) <= MAX_MONEY
        and amount == amount.quantize(CENT)
    )


_ORDER_TEXT = ("external_id", "number", "store_status", "customer_name", "customer_email",
               "customer_phone", "currency", "note", "shipping_method_id",
               "shipping_method")  # fmt: skip
_LINE_TEXT = ("external_id", "sku", "name")


def _bounded_line(item: IncomingLineItem, prefix: str, problems: list[str]) -> IncomingLineItem:
    line_problems: list[str] = []
    fixed = replace(item, problems=list(item.problems))
    for name in _LINE_TEXT:
        _plain_field(fixed, name, line_problems, "")
    fixed.personalization = _plain_dict(item.personalization, "personalization", line_problems)
    fixed.image_urls = _plain_dict(item.image_urls, "image link", line_problems)
    _bounded_money(fixed, "unit_price", line_problems, "")
    if (
        isinstance(item.quantity, bool)
        or not isinstance(item.quantity, int)
        or not (0 <= item.quantity <= MAX_QUANTITY)
    ):
        line_problems.append(f"quantity {shown(item.quantity)} is not from 0 to {MAX_QUANTITY:,}")
        fixed.quantity = 0
    if not 0 <= item.refunded_quantity <= max(fixed.quantity, 0):
        line_problems.append(f"refunded quantity {shown(item.refunded_quantity)} is not believable")
        fixed.refunded_quantity = 0
    if not line_problems:
        return item
    fixed.problems.extend(line_problems)
    problems.extend(prefix + p for p in line_problems)
    return fixed


def _plain_field(target: Any, name: str, problems: list[str], prefix: str) -> None:
    value = getattr(target, name)
    text = value if isinstance(value, str) else str(value)
    cleaned = plain(text)
    if cleaned != value:
        setattr(target, name, cleaned)
    if cleaned != text:
        problems.append(f"{prefix}{name.replace('_', ' ')} had control characters; removed")


def _plain_dict(values: dict[str, Any], what: str, problems: list[str]) -> dict[str, Any]:
    cleaned = {
        plain(str(key)): plain(value) if isinstance(value, str) else value
        for key, value in values.items()
    }
    if cleaned != values:
        problems.append(f"{what} had control characters; removed")
    return cleaned


def _bounded_money(target: Any, name: str, problems: list[str], prefix: str) -> None:
    value = getattr(target, name)
    try:
        setattr(target, name, parse_money(value, name.replace("_", " "), negative=True))
    except Unreadable as exc:
        setattr(target, name, Decimal("0.00"))
        problems.append(f"{prefix}{exc}; 0.00 is kept")
