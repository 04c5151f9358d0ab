"""WooCommerce order JSON (REST API v3, also the webhook body) -> IncomingOrder.

Rules a shop can rely on (see docs/intake.md):
- money fields are strings in the API and become Decimal; dates are GMT;
- the shipping address is never replaced by the billing address: a blank
  shipping address is imported and flagged so staff decide (a gift ordered by
  someone else must not go to the payer);
- personalization comes from line-item `meta_data`, mapped by meta key or
  display key through the store's `personalization` table (a matching
  `product_personalization` SKU pattern replaces it for that line), as
  plugins write the keys (`Engraving ($5.00)`, `pa_engraving`, `Engraving:`:
  the rules are `podops.meta_keys`); a key that names two fields, or two keys
  that fill one field differently, are problems on the line, never a guess;
  a value that is not short plain text is not used and the line says why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import UTC, datetime
from decimal import Decimal
from fnmatch import fnmatchcase
from functools import lru_cache
from typing import Any

from podops.incoming import (
    IncomingLineItem,
    IncomingOrder,
    Unreadable,
    believable,
    parse_money,
    parse_quantity,
)
from podops.meta_keys import KeyMatch, KeyMatcher
from podops.settings import PersonalizationMapping, StoreConfig
from providers.woocommerce_shipping import shipping_line

MAX_META_CHARS = 500
ADDRESS_FIELDS = (
    "first_name",
    "last_name",
    "company",
    "address_1",
    "address_2",
    "city",
    "state",
    "postcode",
    "country",
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CENT = Decimal("0.01")


def parse_gmt(value: Any) -> datetime | None:
    """A WooCommerce `*_gmt` date (no offset) as an aware UTC datetime; None when it is
    missing, unreadable or not believable (before 2000, or more than a day ahead)."""
    if not value or not isinstance(value, str) or len(value) > 40:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    try:
        moment = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except OverflowError:
        return None
    return believable(moment, datetime.now(UTC))


def money(value: Any, name: str = "amount", problems: list[str] | None = None) -> Decimal:
    """A money field (the core's strict parser); an unreadable one is 0.00 and, when
    `problems` is given, the reason is added to them."""
    try:
        return parse_money(value, name)
    except Unreadable as exc:
        if problems is not None:
            problems.append(f"{exc}; 0.00 is kept")
        return Decimal("0.00")


def map_order(
    data: dict[str, Any],
    store: str,
    config: StoreConfig,
    refunded: dict[str, int] | None = None,
) -> IncomingOrder:
    """One WooCommerce order as the core's IncomingOrder (problems flagged, never dropped).

    `refunded`: line id -> quantity refunded, read from the order's refunds
    (`refunded_quantities`); the order body itself keeps each line's ordered quantity."""
    shipping = _address(data.get("shipping"))
    raw_billing = data.get("billing")
    billing: dict[str, Any] = raw_billing if isinstance(raw_billing, dict) else {}
    problems: list[str] = []
    placed_at = parse_gmt(data.get("date_created_gmt")) or parse_gmt(data.get("date_created"))
    if placed_at is None:
        problems.append("the store sent no creation date; using the time it arrived")
        placed_at = datetime.now(UTC)
    method_id, method_title = shipping_line(data, problems)
    name = _join(shipping.get("first_name"), shipping.get("last_name")) or _join(
        billing.get("first_name"), billing.get("last_name")
    )
    return IncomingOrder(
        store=store,
        external_id=str(data["id"]),
        number=str(data.get("number") or data["id"]),
        placed_at=placed_at,
        modified_at=modified_at(data),
        store_status=str(data.get("status") or ""),
        customer_name=name,
        customer_email=str(billing.get("email") or ""),
        customer_phone=str(shipping.get("phone") or billing.get("phone") or ""),
        shipping_address=shipping,
        currency=str(data.get("currency") or "USD").upper(),
        total=money(data.get("total"), "total", problems),
        shipping_total=money(data.get("shipping_total"), "shipping total", problems),
        note=str(data.get("customer_note") or ""),
        items=[_line(item, config, refunded or {}) for item in data.get("line_items") or []],
        problems=problems,
        shipping_method_id=method_id,
        shipping_method=method_title,
    )


def map_order_safely(
    data: dict[str, Any],
    store: str,
    config: StoreConfig,
    refunded: dict[str, int] | None = None,
) -> IncomingOrder:
    """map_order, or (for a body too odd to read) a stub order flagged for staff: never dropped."""
    try:
        return map_order(data, store, config, refunded)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return IncomingOrder(
            store=store,
            external_id=str(data["id"]),
            number=str(data.get("number") or data["id"]),
            placed_at=datetime.now(UTC),
            modified_at=modified_at(data),
            store_status=str(data.get("status") or ""),
            problems=[f"podops could not read this order from the store ({type(exc).__name__})"],
        )


def modified_at(data: dict[str, Any]) -> datetime | None:
    return parse_gmt(data.get("date_modified_gmt")) or parse_gmt(data.get("date_modified"))


def _address(raw: Any) -> dict[str, str]:
    if not isinstance(raw, dict):
        return {}
    address = {key: str(raw.get(key) or "").strip() for key in ADDRESS_FIELDS}
    if raw.get("phone"):
        address["phone"] = str(raw["phone"]).strip()
    return address if any(address.values()) else {}


def _join(*parts: Any) -> str:
    return " ".join(str(p).strip() for p in parts if p and str(p).strip())


def has_refunds(data: dict[str, Any]) -> bool:
    """Whether the order body lists refunds (`refunds: [{id, reason, total}]`): then which
    lines they cover is read from `GET /orders/<id>/refunds`."""
    refunds = data.get("refunds")
    return isinstance(refunds, list) and len(refunds) > 0


def refunded_quantities(refunds: Any) -> dict[str, int]:
    """Line id -> quantity refunded, from a `GET /orders/<id>/refunds` answer: each
    refund's `line_items` carry a negative `quantity` and the refunded line's id in
    the `_refunded_item_id` meta. Unreadable entries are skipped."""
    found: dict[str, int] = {}
    for refund in refunds if isinstance(refunds, list) else []:
        items = refund.get("line_items") if isinstance(refund, dict) else None
        for item in items if isinstance(items, list) else []:
            line_id, quantity = _refunded_line(item)
            if line_id:
                found[line_id] = found.get(line_id, 0) + quantity
    return found


def _refunded_line(item: Any) -> tuple[str, int]:
    if not isinstance(item, dict) or isinstance(item.get("quantity"), bool):
        return "", 0
    raw_metas = item.get("meta_data")
    metas: list[Any] = raw_metas if isinstance(raw_metas, list) else []
    line_id = next(
        (str(m.get("value")) for m in metas
         if isinstance(m, dict) and m.get("key") == "_refunded_item_id"),
        "",
    )  # fmt: skip
    raw = item.get("quantity")  # negative in a refund: -2, "-2", -2.0
    if isinstance(raw, str):
        raw = raw.strip().removeprefix("-")
    elif isinstance(raw, int | float):
        raw = abs(raw)
    try:
        quantity = parse_quantity(raw)
    except Unreadable:
        return "", 0
    return line_id, quantity


def _line(item: dict[str, Any], config: StoreConfig, refunded: dict[str, int]) -> IncomingLineItem:
    sku = str(item.get("sku") or "").strip()
    problems: list[str] = []
    try:
        quantity = parse_quantity(item.get("quantity"))
    except Unreadable as exc:
        quantity = 0
        problems.append(str(exc))
    line = IncomingLineItem(
        external_id=str(item.get("id") or ""),
        sku=sku,
        name=str(item.get("name") or "")[:300],
        quantity=quantity,
        unit_price=_unit_price(item, quantity, problems),
        problems=problems,
        refunded_quantity=min(refunded.get(str(item.get("id") or ""), 0), quantity),
    )
    matcher = matcher_for(mapping_for(sku, config))
    filled: dict[str, str] = {}
    for meta in item.get("meta_data") or []:
        if isinstance(meta, dict):
            apply_meta(line, meta, matcher, filled)
    return line


def _unit_price(item: dict[str, Any], quantity: int, problems: list[str]) -> Decimal:
    subtotal = item.get("subtotal")
    if subtotal not in (None, "") and quantity > 0:
        return (money(subtotal, "subtotal", problems) / quantity).quantize(CENT)
    return money(item.get("price"), "price", problems)


def mapping_for(sku: str, config: StoreConfig) -> PersonalizationMapping:
    """The store's meta mapping, or the first `product_personalization` pattern matching the SKU."""
    return _table_for(sku, config)[1]


def matcher_for(mapping: PersonalizationMapping) -> KeyMatcher:
    return _matcher(tuple(mapping.fields.items()), tuple(mapping.images.items()))


@lru_cache(maxsize=64)
def _matcher(
    fields: tuple[tuple[str, str], ...], images: tuple[tuple[str, str], ...]
) -> KeyMatcher:
    return KeyMatcher(dict(fields), dict(images))


def apply_meta(
    line: IncomingLineItem, meta: dict[str, Any], matcher: KeyMatcher, filled: dict[str, str]
) -> None:
    """One meta entry into the line; `filled`: field -> the label that filled it."""
    key = str(meta.get("key") or "")
    display_key = str(meta.get("display_key") or "")
    label = display_key or key
    found = matcher.match(key, display_key)
    if found.ambiguous:
        names = ", ".join(repr(name) for name in found.ambiguous)
        line.problems.append(f"meta {label!r} could be any of {names}: not used")
        return
    if not found.found:
        return
    text = meta_text(meta.get("value"))
    if text is None:
        line.problems.append(f"meta {label!r} is not text")
        return
    if found.image is not None:
        if text and not text.lower().startswith(("https://", "http://")):
            line.problems.append(f"meta {label!r} is not an image link")
        elif text:
            line.image_urls[found.image] = text
    if found.field is None:
        return
    earlier = filled.get(found.field)
    if not found.exact and earlier not in (None, label):
        if line.personalization.get(found.field) != text:
            line.problems.append(
                f"meta {earlier!r} and {label!r} both fill {found.field!r}: check which is meant"
            )
        return
    line.personalization[found.field] = text
    filled[found.field] = label


def meta_text(value: Any) -> str | None:
    """A scalar meta value as trimmed text, or None when it is not plain short text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, int | float | str):
        text = str(value).replace("\r\n", "\n").strip()
    else:
        return None
    if len(text) > MAX_META_CHARS or _CONTROL.search(text):
        return None
    return text


@dataclass(slots=True)
class KeySeen:
    """One meta key as a store's recent orders carry it, and where it goes."""

    key: str
    display_key: str
    mapping: str
    """Which table decides: `personalization`, or `product_personalization."MUG-*"`."""
    found: KeyMatch
    lines: int = 0
    skus: set[str] = dc_field(default_factory=set)


def keys_seen(orders: list[dict[str, Any]], config: StoreConfig) -> list[KeySeen]:
    """Every line-item meta key in these orders (WooCommerce JSON) with its match; mapped
    keys first, then by how often they appear."""
    seen: dict[tuple[str, str, str], KeySeen] = {}
    for order in orders:
        for item in order.get("line_items") or []:
            if not isinstance(item, dict):
                continue
            sku = str(item.get("sku") or "").strip()
            table, mapping = _table_for(sku, config)
            for meta in item.get("meta_data") or []:
                if not isinstance(meta, dict):
                    continue
                key, shown = str(meta.get("key") or ""), str(meta.get("display_key") or "")
                row = seen.get((key, shown, table))
                if row is None:
                    found = matcher_for(mapping).match(key, shown)
                    row = seen[(key, shown, table)] = KeySeen(key, shown, table, found)
                row.lines += 1
                row.skus.add(sku)
    return sorted(seen.values(), key=lambda r: (not r.found.found, -r.lines, r.key))


def _table_for(sku: str, config: StoreConfig) -> tuple[str, PersonalizationMapping]:
    for pattern, mapping in config.product_personalization.items():
        if fnmatchcase(sku.upper(), pattern.upper()):
            return f'product_personalization."{pattern}"', mapping
    return "personalization", config.personalization
