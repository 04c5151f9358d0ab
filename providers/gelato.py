"""Gelato over HTTP (Order API v4 at https://order.gelatoapis.com, `X-API-KEY`).

Our reference is the order's `orderReferenceId` and each line's reference its
item's `itemReferenceId`. Gelato does not say it refuses a repeated
`orderReferenceId` (we assume it accepts one), so the lookup before any retry
(`POST /v4/orders:search` with `orderReferenceIds`) is the only guard against a
double: there is no "duplicate" answer to read. Should a search find several
orders, the oldest is ours (logged). Cancel is `POST /v4/orders/{id}:cancel`,
refused (409) once an item is printed. The API documents no change of a placed
order's files or address (its PATCH only turns a draft into an order), so those
are OrderLocked with where to change them. Webhooks are unsigned: a delivery is
taken only on the secret URL token and read as a hint (`webhook_references`).
Product codes are checked against Gelato's product API
(`GET https://product.gelatoapis.com/v3/products/{productUid}`). The documented order
answer carries a `currency` but no price, so no charge is reported (`cost` None: the
report shows the margin as unknown; docs/reports.md).
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from podops.errors import OrderLocked, ProviderError
from podops.ports.fulfillment import (
    CancelOutcome,
    ProviderCapabilities,
    ProviderOrder,
    ProviderShipment,
    ProviderStatus,
    RequestItem,
    SubmitRequest,
    WebhookRefused,
)
from podops.settings import ProviderConfig
from providers.fulfillment_http import (
    api_key,
    call,
    cancel_outcome,
    email_for,
    json_object,
    message_of,
    out_of_stock,
    refusal,
    require_public_urls,
)

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://order.gelatoapis.com"
PRODUCT_BASE_URL = "https://product.gelatoapis.com"
SINGLE_FILE_TYPE = "default"
"""Gelato's file type for a product's one print area (and for the front of a shirt
whose back is printed too, as in Gelato's own create example: default + back)."""
STATUSES = {
    "created": ProviderStatus.ACCEPTED,
    "uploading": ProviderStatus.ACCEPTED,
    "passed": ProviderStatus.ACCEPTED,
    "draft": ProviderStatus.ACCEPTED,
    "pending_personalization": ProviderStatus.ACCEPTED,
    "digitizing": ProviderStatus.ACCEPTED,
    "in_production": ProviderStatus.IN_PRODUCTION,
    "printed": ProviderStatus.IN_PRODUCTION,
    "shipped": ProviderStatus.SHIPPED,
    "in_transit": ProviderStatus.SHIPPED,
    "delivered": ProviderStatus.SHIPPED,
    "canceled": ProviderStatus.CANCELLED,
    "cancelled": ProviderStatus.CANCELLED,
}
"""Gelato's `fulfillmentStatus` words. `failed`, `pending_approval`, `on_hold`,
`not_connected`, `returned` and any new word are left out on purpose: they need a
person at Gelato, so podops keeps the order as it is and tells staff once."""
WEBHOOK_EVENTS = frozenset(
    {"order_status_updated", "order_item_status_updated", "order_item_tracking_code_updated"}
)
"""Events that name an order whose status or tracking changed (older deliveries say
`"object": "orderStatus"` instead of an `event`)."""
MAX_REFERENCE = 200


class GelatoProvider:
    capabilities = ProviderCapabilities(
        can_cancel=True,
        accepts_design_changes=False,
        accepts_address_changes=False,
        address_required=frozenset({"postcode"}),
    )

    def __init__(self, name: str, client: httpx.Client, config: ProviderConfig) -> None:
        self.name = name
        self.who = f"Gelato ({name})"
        self.client = client
        self.config = config
        key = api_key(name, config, "an API key from Gelato's dashboard (Developer > API Keys)")
        self._auth = {"X-API-KEY": key}
        # A configured base URL (a proxy, the tests' fake) serves the product API too.
        self._products = (config.base_url or PRODUCT_BASE_URL).rstrip("/")

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return call(self.client, self.who, method, path, headers=self._auth, **kwargs)

    def submit(self, request: SubmitRequest) -> ProviderOrder:
        require_public_urls(self.who, request)
        response = self._call("POST", "/v4/orders", json=self._payload(request))
        if not response.is_success:
            raise out_of_stock(self.who, response, request)
        return self._parse(json_object(self.who, response))

    def _payload(self, request: SubmitRequest) -> dict[str, Any]:
        address = request.address
        first, last = _names(request, address)
        shipping: dict[str, Any] = {
            "firstName": first,
            "lastName": last,
            "companyName": address.get("company", ""),
            "addressLine1": address.get("address_1", ""),
            "addressLine2": address.get("address_2", ""),
            "city": address.get("city", ""),
            "state": address.get("state", ""),
            "postCode": address.get("postcode", ""),
            "country": address.get("country", ""),
            "email": email_for(self.who, self.name, request, self.config),
        }
        if request.phone.strip():
            shipping["phone"] = request.phone.strip()
        payload: dict[str, Any] = {
            "orderType": "draft" if self.config.test_mode else "order",
            "orderReferenceId": request.reference,
            "customerReferenceId": request.email.strip().lower() or request.reference,
            "currency": self.config.currency,
            "items": [_item(item) for item in request.items],
            "shippingAddress": shipping,
        }
        method = request.shipping_method or self.config.shipping_method
        if method:  # omitted: Gelato picks the cheapest method
            payload["shipmentMethodUid"] = method
        return payload

    def find_by_reference(self, reference: str) -> ProviderOrder | None:
        response = self._call("POST", "/v4/orders:search", json={"orderReferenceIds": [reference]})
        if not response.is_success:
            raise refusal(self.who, response)
        found = json_object(self.who, response).get("orders")
        if not isinstance(found, list):
            raise ProviderError(f"{self.who} searched orders without 'orders'", retryable=False)
        ours = [
            o
            for o in found
            if isinstance(o, dict) and o.get("orderReferenceId") == reference and o.get("id")
        ]
        if not ours:
            return None
        ours.sort(key=_created)
        if len(ours) > 1:
            log.warning(
                "%s holds %d orders for %s (%s); taking the oldest, %s",
                self.who,
                len(ours),
                reference,
                ", ".join(str(o["id"]) for o in ours),
                ours[0]["id"],
            )
        return self.get_status(str(ours[0]["id"]), reference=reference)

    def get_status(self, provider_order_id: str, *, reference: str) -> ProviderOrder:
        response = self._call("GET", f"/v4/orders/{quote(provider_order_id, safe='')}")
        if not response.is_success:
            raise refusal(self.who, response)
        return self._parse(json_object(self.who, response))

    def _parse(self, body: dict[str, Any]) -> ProviderOrder:
        order_id, raw = body.get("id"), body.get("fulfillmentStatus")
        if not order_id or not isinstance(raw, str):
            raise ProviderError(
                f"{self.who} answered with an order lacking id or fulfillmentStatus",
                retryable=False,
            )
        items = [i for i in body.get("items") or [] if isinstance(i, dict)]
        status = STATUSES.get(raw.lower(), ProviderStatus.UNRECOGNIZED) if raw else None
        return ProviderOrder(
            str(order_id),
            str(body.get("orderReferenceId") or ""),
            status or ProviderStatus.ACCEPTED,
            raw,
            _item_parcels(items) or _package_parcels(body.get("shipment"), items),
            print_files=_print_files(items),
        )

    def cancel(self, provider_order_id: str, *, reference: str) -> CancelOutcome:
        response = self._call("POST", f"/v4/orders/{quote(provider_order_id, safe='')}:cancel")
        return cancel_outcome(self.who, response)

    def update_design(self, provider_order_id: str, request: SubmitRequest) -> ProviderOrder:
        raise OrderLocked(
            f"{self.who} takes no new print files for a placed order; cancel it while it is "
            f"not printed (Gelato order {provider_order_id}) and submit again"
        )

    def update_address(self, provider_order_id: str, request: SubmitRequest) -> ProviderOrder:
        raise OrderLocked(
            f"order {request.order_number} is already at Gelato: change the address there "
            f"(order {provider_order_id} in the Gelato dashboard, before it is printed; "
            "Gelato's API has no address change)"
        )

    def webhook_references(self, token: str, headers: Mapping[str, str], body: bytes) -> list[str]:
        """Gelato signs nothing: the URL token is the proof. Status and tracking events
        name our reference (`orderReferenceId`); anything else is ignored."""
        secret = self.config.webhook_secret
        expected = secret.get_secret_value() if secret is not None else ""
        if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
            raise WebhookRefused(f"{self.who} webhook with a wrong or missing URL token")
        try:
            event = json.loads(body)
        except ValueError:
            log.warning("%s sent a webhook that is not JSON; ignored", self.who)
            return []
        if not isinstance(event, dict):
            return []
        if event.get("event") not in WEBHOOK_EVENTS and event.get("object") != "orderStatus":
            return []
        reference = event.get("orderReferenceId")
        if not isinstance(reference, str) or not 0 < len(reference) <= MAX_REFERENCE:
            log.warning("%s webhook %s names no order reference", self.who, event.get("id"))
            return []
        return [reference]

    def unknown_codes(self, codes: Collection[str]) -> dict[str, str]:
        """Each code Gelato's product API does not know (404), with its words; an
        outage raises (nothing can be said about the codes)."""
        unknown: dict[str, str] = {}
        for code in dict.fromkeys(codes):
            if not code.strip():
                unknown[code] = "an empty productUid"
                continue
            url = f"{self._products}/v3/products/{quote(code, safe='')}"
            response = self._call("GET", url)
            if response.status_code == 404:
                unknown[code] = f"Gelato has no product {code!r}: {message_of(response)}"
            elif not response.is_success:
                raise refusal(self.who, response)
        return unknown


def _item(item: RequestItem) -> dict[str, Any]:
    files = item.files
    return {
        "itemReferenceId": item.line_reference,
        "productUid": item.provider_sku,
        "files": [{"type": _file_type(f.placement, len(files)), "url": f.url} for f in files],
        "quantity": item.quantity,
    }


def _file_type(placement: str, count: int) -> str:
    """Our placement as Gelato's file type: the front (or a line's only file) is
    `default`; other placements keep their names (`back`, `sleeve-left`...)."""
    if count == 1 or placement == "front":
        return SINGLE_FILE_TYPE
    return placement


def _names(request: SubmitRequest, address: dict[str, str]) -> tuple[str, str]:
    first, last = address.get("first_name", ""), address.get("last_name", "")
    if first or last:
        return first, last
    head, _, tail = request.customer_name.strip().partition(" ")
    return head, tail


def _created(order: dict[str, Any]) -> float:
    """When Gelato created a found order (unreadable: last), to take the oldest."""
    try:
        return datetime.fromisoformat(str(order.get("createdAt"))).timestamp()
    except ValueError:
        return float("inf")


def _item_parcels(items: list[dict[str, Any]]) -> tuple[ProviderShipment, ...]:
    """Parcels from each item's `fulfillments` (tracking code, method name): a line
    split over n parcels is counted evenly over them (Gelato does not say how)."""
    parcels: dict[tuple[str, str], dict[str, int]] = {}
    for item in items:
        codes = [
            f
            for f in item.get("fulfillments") or []
            if isinstance(f, dict) and isinstance(f.get("trackingCode"), str) and f["trackingCode"]
        ]
        quantity = _quantity(item)
        for index, fulfillment in enumerate(codes):
            share = quantity // len(codes) + (1 if index < quantity % len(codes) else 0)
            key = (str(fulfillment.get("shipmentMethodName") or ""), fulfillment["trackingCode"])
            if share:
                lines = parcels.setdefault(key, {})
                ref = str(item.get("itemReferenceId") or "")
                lines[ref] = lines.get(ref, 0) + share
    return tuple(ProviderShipment(c, n, lines=lines) for (c, n), lines in parcels.items())


def _package_parcels(shipment: Any, items: list[dict[str, Any]]) -> tuple[ProviderShipment, ...]:
    """Parcels from `shipment.packages[{trackingCode, orderItemIds}]`, when the items
    carry no fulfillments."""
    if not isinstance(shipment, dict):
        return ()
    method = str(shipment.get("shipmentMethodName") or "")
    by_id = {str(i.get("id")): i for i in items}
    parcels = []
    for package in shipment.get("packages") or []:
        if not isinstance(package, dict) or not package.get("trackingCode"):
            continue
        held = [by_id[str(i)] for i in package.get("orderItemIds") or [] if str(i) in by_id]
        lines = {str(i.get("itemReferenceId") or ""): _quantity(i) for i in held}
        parcels.append(ProviderShipment(method, str(package["trackingCode"]), lines=lines or None))
    return tuple(parcels)


def _quantity(item: dict[str, Any]) -> int:
    value = item.get("quantity")
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 1


def _print_files(items: list[dict[str, Any]]) -> dict[str, str]:
    """Each line's front (`default`) file as Gelato holds it, to compare with ours."""
    found = {}
    for item in items:
        files = [f for f in item.get("files") or [] if isinstance(f, dict) and f.get("url")]
        front = next((f for f in files if f.get("type") == SINGLE_FILE_TYPE), None)
        chosen = front or (files[0] if files else None)
        if chosen is not None and item.get("itemReferenceId"):
            found[str(item["itemReferenceId"])] = str(chosen["url"])
    return found
