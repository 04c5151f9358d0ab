"""Shopify orders -> IncomingOrder, from either shape Shopify sends.

Polling reads the GraphQL Admin API (`customAttributes{key value}`,
`currentQuantity`, gid ids); webhooks carry the REST shape
(`line_items[].properties[{name, value}]`, `current_quantity`, numeric ids).
`rest_from_graphql` turns a GraphQL order into the REST shape, and one mapper
(`map_order`) reads that, so one order gives the same IncomingOrder whichever
way it came (tests/intake/test_shopify_mapping.py).

Rules (docs/intake.md, "Shopify"):
- the order's external id is Shopify's numeric id; its number is `name`
  without the leading `#` (`#1001` -> `1001`; staff may type either);
- a line's `current_quantity` is what is left after refunds and removals: the
  rest counts as refunded, so a refunded unit is never produced and a line with
  nothing left is not made at all (the core's refund rules);
- line-item properties are personalization, matched by the same key rules
  and tables as WooCommerce's meta data (`woocommerce_mapping.apply_meta`);
- the store status is `cancelled` once `cancelled_at` is set, `refunded` or
  `voided` for such payments, `fulfilled` / `partially_fulfilled` once items were
  fulfilled in Shopify (outside `fulfil_statuses`: an order the shop shipped itself
  is never sent to a provider), else the financial status in lower case (`paid`,
  `partially_refunded`...);
- the shipping line's code and title are the shipping method, for speeds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from podops.incoming import IncomingLineItem, IncomingOrder, Unreadable, parse_quantity
from podops.settings import StoreConfig
from providers.woocommerce_mapping import (
    CENT,
    apply_meta,
    mapping_for,
    matcher_for,
    money,
    parse_gmt,
)

ADDRESS_FIELDS = {
    "first_name": "first_name",
    "last_name": "last_name",
    "company": "company",
    "address_1": "address1",
    "address_2": "address2",
    "city": "city",
    "state": "province_code",
    "postcode": "zip",
    "country": "country_code",
}
"""podops' address field -> Shopify's REST field."""
GRAPHQL_ADDRESS = {
    "first_name": "firstName",
    "last_name": "lastName",
    "company": "company",
    "address1": "address1",
    "address2": "address2",
    "city": "city",
    "province_code": "provinceCode",
    "zip": "zip",
    "country_code": "countryCodeV2",
    "phone": "phone",
}
"""Shopify REST address field -> its GraphQL `MailingAddress` field."""
CANCELLED = "cancelled"
FULFILLED, PARTIALLY_FULFILLED = "fulfilled", "partially_fulfilled"
FULFILLMENT_STATUS = {"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial"}
"""GraphQL `displayFulfillmentStatus` -> the REST `fulfillment_status` webhooks carry."""
PARTLY_SHIPPED_BY_SHOP = (
    "the shop fulfilled some of its items itself in Shopify: check which are left to make"
)
_NOT_MADE = frozenset({"refunded", "voided"})


def legacy_id(gid: Any) -> str:
    """`gid://shopify/Order/123` -> `123` (a plain id is returned as it is)."""
    text = str(gid or "")
    return text.rsplit("/", 1)[-1]


def order_gid(external_id: str) -> str:
    return f"gid://shopify/Order/{external_id}"


def staff_number(name: Any, fallback: str) -> str:
    text = str(name or "").strip()
    text = text[1:] if text.startswith("#") and len(text) > 1 else text
    return text or fallback


def _amount(money_bag: Any) -> Any:
    shop = money_bag.get("shopMoney") if isinstance(money_bag, dict) else None
    return shop.get("amount") if isinstance(shop, dict) else None


def rest_from_graphql(node: dict[str, Any]) -> dict[str, Any]:
    """A GraphQL `Order` (as podops queries it) in the REST shape webhooks use."""
    address = node.get("shippingAddress")
    shipping_line = node.get("shippingLine")
    lines = node.get("lineItems")
    line_nodes = lines.get("nodes") if isinstance(lines, dict) else None
    return {
        "id": legacy_id(node.get("id")),
        "name": node.get("name"),
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
        "cancelled_at": node.get("cancelledAt"),
        "cancel_reason": str(node.get("cancelReason") or "").lower() or None,
        "financial_status": str(node.get("displayFinancialStatus") or "").lower() or None,
        "fulfillment_status": FULFILLMENT_STATUS.get(str(node.get("displayFulfillmentStatus"))),
        "email": node.get("email"),
        "phone": node.get("phone"),
        "note": node.get("note"),
        "currency": node.get("currencyCode"),
        "total_price": _amount(node.get("totalPriceSet")),
        "total_shipping_price_set": {
            "shop_money": {"amount": _amount(node.get("totalShippingPriceSet"))}
        },
        "shipping_address": (
            {rest: address.get(gql) for rest, gql in GRAPHQL_ADDRESS.items()}
            if isinstance(address, dict)
            else None
        ),
        "shipping_lines": (
            [{"title": shipping_line.get("title"), "code": shipping_line.get("code")}]
            if isinstance(shipping_line, dict)
            else []
        ),
        "line_items": [_rest_line(item) for item in line_nodes or [] if isinstance(item, dict)],
    }


def _rest_line(item: dict[str, Any]) -> dict[str, Any]:
    attributes = item.get("customAttributes")
    return {
        "id": legacy_id(item.get("id")),
        "sku": item.get("sku"),
        "name": item.get("name"),
        "quantity": item.get("quantity"),
        "current_quantity": item.get("currentQuantity"),
        "price": _amount(item.get("originalUnitPriceSet")),
        "properties": [
            {"name": a.get("key"), "value": a.get("value")}
            for a in attributes or []
            if isinstance(a, dict)
        ],
    }


def store_status(data: dict[str, Any]) -> str:
    """`cancelled`; else a refunded or voided payment; else `fulfilled` or
    `partially_fulfilled` once the shop fulfilled items itself (by hand, another app;
    or podops' own parcels, after submission); else the financial status."""
    if data.get("cancelled_at"):
        return CANCELLED
    financial = str(data.get("financial_status") or "").lower()
    if financial in _NOT_MADE:
        return financial
    fulfilled = str(data.get("fulfillment_status") or "").lower()
    if fulfilled == "fulfilled":
        return FULFILLED
    if fulfilled == "partial":
        return PARTIALLY_FULFILLED
    return financial


def map_order(data: dict[str, Any], store: str, config: StoreConfig) -> IncomingOrder:
    """One Shopify order in the REST shape as the core's IncomingOrder (problems flagged)."""
    external_id = str(data["id"])
    shipping = _address(data.get("shipping_address"))
    problems: list[str] = []
    placed_at = parse_gmt(data.get("created_at"))
    if placed_at is None:
        problems.append("the store sent no creation date; using the time it arrived")
        placed_at = datetime.now(UTC)
    raw_lines = data.get("shipping_lines")
    first_line = raw_lines[0] if isinstance(raw_lines, list) and raw_lines else {}
    first_line = first_line if isinstance(first_line, dict) else {}
    shipping_set = data.get("total_shipping_price_set")
    shop_money = shipping_set.get("shop_money") if isinstance(shipping_set, dict) else None
    name = " ".join(p for p in (shipping.get("first_name"), shipping.get("last_name")) if p)
    status = store_status(data)
    if status == PARTIALLY_FULFILLED:
        problems.append(PARTLY_SHIPPED_BY_SHOP)
    return IncomingOrder(
        store=store,
        external_id=external_id,
        number=staff_number(data.get("name"), external_id),
        placed_at=placed_at,
        modified_at=parse_gmt(data.get("updated_at")),
        store_status=status,
        receive_held=status == PARTIALLY_FULFILLED,
        customer_name=name,
        customer_email=str(data.get("email") or ""),
        customer_phone=str(shipping.get("phone") or data.get("phone") or ""),
        shipping_address=shipping,
        currency=str(data.get("currency") or "USD").upper(),
        total=money(data.get("total_price"), "total", problems),
        shipping_total=money(
            shop_money.get("amount") if isinstance(shop_money, dict) else "0.00",
            "shipping total",
            problems,
        ),
        note=str(data.get("note") or ""),
        items=[_line(item, config) for item in data.get("line_items") or []],
        problems=problems,
        shipping_method_id=str(first_line.get("code") or "")[:200],
        shipping_method=str(first_line.get("title") or "")[:200],
    )


def map_order_safely(data: dict[str, Any], store: str, config: StoreConfig) -> IncomingOrder:
    """map_order, or a stub flagged for staff for a body too odd to read: never dropped."""
    try:
        return map_order(data, store, config)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        external_id = str(data["id"])
        return IncomingOrder(
            store=store,
            external_id=external_id,
            number=staff_number(data.get("name"), external_id),
            placed_at=datetime.now(UTC),
            modified_at=parse_gmt(data.get("updated_at")),
            store_status=store_status(data),
            problems=[f"podops could not read this order from the store ({type(exc).__name__})"],
        )


def _address(raw: Any) -> dict[str, str]:
    if not isinstance(raw, dict):
        return {}
    address = {ours: str(raw.get(theirs) or "").strip() for ours, theirs in ADDRESS_FIELDS.items()}
    if raw.get("phone"):
        address["phone"] = str(raw["phone"]).strip()
    return address if any(address.values()) else {}


def _line(item: dict[str, Any], config: StoreConfig) -> IncomingLineItem:
    sku = str(item.get("sku") or "").strip()
    problems: list[str] = []
    try:
        quantity = parse_quantity(item.get("quantity"))
    except Unreadable as exc:
        quantity = 0
        problems.append(str(exc))
    line = IncomingLineItem(
        external_id=legacy_id(item.get("id")),
        sku=sku,
        name=str(item.get("name") or "")[:300],
        quantity=quantity,
        unit_price=money(item.get("price"), "price", problems).quantize(CENT),
        problems=problems,
        refunded_quantity=_removed(item, quantity, problems),
    )
    matcher = matcher_for(mapping_for(sku, config))
    filled: dict[str, str] = {}
    for prop in item.get("properties") or []:
        if isinstance(prop, dict):
            meta = {"key": prop.get("name"), "value": prop.get("value")}
            apply_meta(line, meta, matcher, filled)
    return line


def _removed(item: dict[str, Any], quantity: int, problems: list[str]) -> int:
    """Units refunded or removed: ordered minus `current_quantity` (missing: none)."""
    current = item.get("current_quantity")
    if current is None:
        return 0
    if current == 0 and not isinstance(current, bool):
        return quantity
    try:
        left = parse_quantity(current, "current quantity")
    except Unreadable as exc:
        problems.append(str(exc))
        return 0
    return max(0, quantity - min(left, quantity))


def check_view(data: dict[str, Any]) -> dict[str, Any]:
    """A REST-shaped Shopify order as `podops stores check` reads orders (WooCommerce's
    shape): each line's sku and personalization keys, and the shipping method."""
    raw_lines = data.get("shipping_lines")
    shipping = [
        {"method_id": line.get("code") or "", "method_title": line.get("title") or ""}
        for line in raw_lines or []
        if isinstance(line, dict)
    ]
    items = []
    for item in data.get("line_items") or []:
        if not isinstance(item, dict):
            continue
        keys = [
            {"key": str(p.get("name") or ""), "display_key": str(p.get("name") or "")}
            for p in item.get("properties") or []
            if isinstance(p, dict)
        ]
        items.append({"sku": item.get("sku"), "meta_data": keys})
    return {"line_items": items, "shipping_lines": shipping}
