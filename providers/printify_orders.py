"""Printify's order vocabulary: the routing code, the order body we send, the
status words and the order JSON we read back (pure: no HTTP).

A routing rule (or a Products row) names a Printify product as
`"<blueprint_id>:<print_provider_id>:<variant_id>"`, three positive integers
(`6:99:12100`: blueprint 6, print provider 99, variant 12100), because
Printify makes an order's products "on the fly" from exactly those three ids
and our print files (`print_areas`). Anything else is refused before a request
is sent, so Printify never sees a request we know it would refuse (it throttles
accounts whose error answers pass 5 %).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from podops.errors import ProviderError
from podops.ports.fulfillment import (
    ProviderOrder,
    ProviderShipment,
    ProviderStatus,
    RequestItem,
    SubmitRequest,
)
from providers import charges

CODE_FORM = (
    "<blueprint_id>:<print_provider_id>:<variant_id> (three positive integers, e.g. 6:99:12100)"
)
_CODE = re.compile(r"^\s*([1-9]\d{0,9}):([1-9]\d{0,9}):([1-9]\d{0,9})\s*$")

SHIPPING_METHODS = {
    "1": 1,
    "standard": 1,
    "2": 2,
    "priority": 2,
    "express": 2,
    "4": 4,
    "economy": 4,
}
"""Printify's `shipping_method` codes (1 standard, 2 priority/express, 4 economy). 3
(Printify Express) is left out: such orders go to Printify's separate express
endpoint, which podops does not use, so naming it is refused before sending."""

UNSENT = frozenset({"on-hold", "pending"})
"""Statuses of an order created but not sent to production (only these can be sent)."""

STATUSES = {
    "pending": ProviderStatus.ACCEPTED,
    "on-hold": ProviderStatus.ACCEPTED,
    "cost-calculation": ProviderStatus.ACCEPTED,
    "sending-to-production": ProviderStatus.ACCEPTED,
    "checking-quality": ProviderStatus.IN_PRODUCTION,
    "quality-approved": ProviderStatus.IN_PRODUCTION,
    "ready-for-production": ProviderStatus.IN_PRODUCTION,
    "in-production": ProviderStatus.IN_PRODUCTION,
    "partially-fulfilled": ProviderStatus.IN_PRODUCTION,
    "fulfilled": ProviderStatus.SHIPPED,
    "canceled": ProviderStatus.CANCELLED,
    "cancelled": ProviderStatus.CANCELLED,
}
"""Printify publishes no closed list of status words (api-notes: [S]). Any other word
(`payment-not-received`, `had-issues`, `quality-declined`...) is UNRECOGNIZED: the
order stays as it is and staff are told once, which is what those words need."""


@dataclass(frozen=True, slots=True)
class ProductCode:
    blueprint_id: int
    print_provider_id: int
    variant_id: int


def parse_code(code: str) -> ProductCode | None:
    """A routing code as Printify's three ids, or None when it has another form."""
    match = _CODE.match(code)
    if match is None:
        return None
    blueprint, provider, variant = (int(group) for group in match.groups())
    return ProductCode(blueprint, provider, variant)


def shipping_code(who: str, method: str) -> int:
    """Printify's `shipping_method` for the provider method of the store's speed."""
    code = SHIPPING_METHODS.get(method.strip().lower() or "standard")
    if code is None:
        raise ProviderError(
            f"{who}: shipping method {method!r} is not one Printify takes here; use "
            "standard (1), priority (2) or economy (4) in the store's shipping table or "
            "the provider's shipping_method",
            retryable=False,
        )
    return code


def order_body(who: str, request: SubmitRequest, default_method: str) -> dict[str, Any]:
    """The create body, or a permanent ProviderError naming what cannot be sent."""
    address = request.address
    first, last = address.get("first_name", ""), address.get("last_name", "")
    if not (first or last):
        first, _, last = request.customer_name.strip().partition(" ")
    missing = [key for key in ("address_1", "city", "country") if not address.get(key, "").strip()]
    if missing:
        raise ProviderError(
            f"{who} needs a shipping address with {', '.join(missing)}; order "
            f"{request.order_number} has none",
            retryable=False,
        )
    method = shipping_code(who, request.shipping_method or default_method)
    return {
        "external_id": request.reference,
        "label": request.order_number,
        "line_items": [line_item(who, item) for item in request.items],
        "shipping_method": method,
        "is_printify_express": False,
        "is_economy_shipping": method == 4,
        "send_shipping_notification": False,
        "address_to": {
            "first_name": first,
            "last_name": last,
            "email": request.email,
            "phone": request.phone.strip(),
            "country": address.get("country", ""),
            "region": address.get("state", ""),
            "address1": address.get("address_1", ""),
            "address2": address.get("address_2", ""),
            "city": address.get("city", ""),
            "zip": address.get("postcode", ""),
            "company": address.get("company", ""),
        },
    }


def line_item(who: str, item: RequestItem) -> dict[str, Any]:
    """An on-the-fly line: the three ids from routing and each print file by placement."""
    code = parse_code(item.provider_sku)
    if code is None:
        raise ProviderError(
            f"{who}: line {item.line_reference} ({item.sku}) is routed to "
            f"{item.provider_sku!r}, which is not a Printify product code; a routing rule "
            f"for Printify names {CODE_FORM}",
            retryable=False,
        )
    areas: dict[str, str] = {}
    for placed in item.files:
        if placed.placement in areas:
            raise ProviderError(
                f"{who}: line {item.line_reference} has two print files for "
                f"{placed.placement!r}; Printify takes one per print area",
                retryable=False,
            )
        areas[placed.placement] = placed.url
    return {
        "print_provider_id": code.print_provider_id,
        "blueprint_id": code.blueprint_id,
        "variant_id": code.variant_id,
        "print_areas": areas,
        "quantity": item.quantity,
    }


def our_reference(order: Mapping[str, Any]) -> str:
    """Our reference as Printify keeps it: `metadata.shop_order_id` (it does not echo
    `external_id` for API orders, api-notes [S]; read too in case it ever does)."""
    metadata = order.get("metadata")
    if isinstance(metadata, dict) and metadata.get("shop_order_id") not in (None, ""):
        return str(metadata["shop_order_id"])
    external = order.get("external_id")
    return str(external) if external not in (None, "") else ""


def is_unsent(order: Mapping[str, Any]) -> bool:
    """Created at Printify but not yet sent to production (our submit stopped halfway)."""
    return str(order.get("status", "")) in UNSENT and not order.get("sent_to_production_at")


def parse_order(
    who: str, order: Mapping[str, Any], reference: str = "", *, currency: str
) -> ProviderOrder:
    """Printify's order JSON as the core's ProviderOrder, tracking from `shipments[]`,
    the charge from its totals (in `currency`, the shop's: the answer names none)."""
    order_id, raw = order.get("id"), order.get("status")
    if order_id in (None, "") or not isinstance(raw, str):
        raise ProviderError(f"{who} answered with an order lacking id or status", retryable=False)
    parcels = []
    for entry in order.get("shipments") or []:
        if isinstance(entry, dict) and entry.get("number"):
            parcels.append(
                ProviderShipment(
                    carrier=str(entry.get("carrier") or ""),
                    tracking_number=str(entry["number"]),
                    shipped_at=_moment(entry.get("shipped_at")),
                )
            )
    status = STATUSES.get(raw.strip().lower(), ProviderStatus.UNRECOGNIZED)
    if not raw.strip():
        status = ProviderStatus.ACCEPTED
    cost = charge(who, order)
    return ProviderOrder(
        str(order_id),
        our_reference(order) or reference,
        status,
        raw,
        tuple(parcels),
        cost=cost,
        cost_currency=currency if cost is not None else None,
    )


CHARGE_PARTS = ("total_price", "total_shipping", "total_tax")
"""What Printify bills for an order, in cents: its products (`total_price`, the sum of
the line items' `cost`), their shipping and the tax it adds (api-notes B: all three
in cents; that `total_price` leaves shipping and tax out is our reading, [S])."""


def charge(who: str, order: Mapping[str, Any]) -> Decimal | None:
    """The sum of CHARGE_PARTS, or None: a part missing or impossible (a partial sum
    would flatter the margin), the costs still being calculated (`cost-calculation`),
    or a zero product total (nothing priced yet)."""
    if str(order.get("status", "")).strip().lower() == "cost-calculation":
        return None
    parts = [charges.cents(who, part, order.get(part)) for part in CHARGE_PARTS]
    if any(part is None for part in parts) or not parts[0]:
        return None
    total = sum((part for part in parts if part is not None), Decimal(0))
    return charges.bounded(who, " + ".join(CHARGE_PARTS), total)


def _moment(value: Any) -> datetime | None:
    """Printify's `2017-04-18 13:24:28+00:00`, or None."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        return None
