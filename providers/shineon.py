"""ShineOn over HTTP (https://api.shineon.com, `Authorization: Bearer <token>`).

Our reference is the order's `source_id`, found again with
`GET /v1/orders?source_ids=`. ShineOn POSTs shipments, unsigned, to the
`shipment_notification_url` we give it (a per-order tokened URL; the body is
only a hint, the order is re-fetched). While an order is `on_hold` or
`awaiting_payment` it still takes a full-payload PUT, so re-rendered print
files (or a new shipping address) can replace the submitted ones; cancel
answers 202. A line has one print file (`print_url`): one with several placements is refused
before sending. A refusal saying a variant is out of stock becomes
`VariantUnavailable` (an assumption: see docs/fulfillment.md).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from podops.errors import OrderLocked, ProviderError
from podops.ports.fulfillment import (
    CancelOutcome,
    DuplicateReference,
    ProviderCapabilities,
    ProviderOrder,
    ProviderShipment,
    ProviderStatus,
    RequestItem,
    SubmitRequest,
)
from podops.settings import ProviderConfig
from providers.fulfillment_http import (
    api_key,
    call,
    cancel_outcome,
    is_duplicate,
    json_object,
    message_of,
    out_of_stock,
    refusal,
    require_public_urls,
)

DEFAULT_BASE_URL = "https://api.shineon.com"
CHANGEABLE = frozenset({"on_hold", "awaiting_payment"})
STATUSES = {
    "on_hold": ProviderStatus.ACCEPTED,
    "awaiting_payment": ProviderStatus.ACCEPTED,
    "in_production": ProviderStatus.IN_PRODUCTION,
    "shipped": ProviderStatus.SHIPPED,
    "cancelled": ProviderStatus.CANCELLED,
}


class ShineOnProvider:
    capabilities = ProviderCapabilities(
        can_cancel=True,
        accepts_design_changes=True,
        pushes_tracking=True,
        accepts_address_changes=True,
        address_required=frozenset({"postcode"}),
    )

    def __init__(self, name: str, client: httpx.Client, config: ProviderConfig) -> None:
        self.name = name
        self.who = f"ShineOn ({name})"
        self.client = client
        self.config = config
        token = api_key(name, config, "the token from app.shineon.com/settings/api")
        self._auth = {"Authorization": f"Bearer {token}"}

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return call(self.client, self.who, method, path, headers=self._auth, **kwargs)

    def submit(self, request: SubmitRequest) -> ProviderOrder:
        require_public_urls(self.who, request)
        response = self._call("POST", "/v1/orders", json={"order": self._payload(request)})
        if not response.is_success:
            if response.status_code in (409, 422) and is_duplicate(message_of(response)):
                raise DuplicateReference(f"{self.who} already has order {request.reference}")
            raise out_of_stock(self.who, response, request)
        return self._parse(json_object(self.who, response, "order"))

    def _payload(self, request: SubmitRequest) -> dict[str, Any]:
        address = request.address
        country = address.get("country", "")
        name = " ".join(
            part for part in (address.get("first_name", ""), address.get("last_name", "")) if part
        )
        method = request.shipping_method or self.config.shipping_method
        return {
            "source_id": request.reference,
            "shipment_notification_url": request.callback_url,
            "shipping_method": method or ("standard-us" if country == "US" else "international"),
            "email": request.email,
            "note": request.note,
            "test": self.config.test_mode,
            "ready": 1,
            "shipping_address": {
                "name": name or request.customer_name,
                "company": address.get("company", ""),
                "address1": address.get("address_1", ""),
                "address2": address.get("address_2", ""),
                "city": address.get("city", ""),
                "zip": address.get("postcode", ""),
                "country_code": country,
                "province": address.get("state", ""),
                "province_code": address.get("state", ""),
            }
            | ({"phone": request.phone.strip()} if request.phone.strip() else {}),
            "line_items": [
                {
                    "store_line_item_id": item.line_reference,
                    "sku": item.provider_sku,
                    "quantity": item.quantity,
                    "properties": {
                        "print_url": _one_print_url(self.who, item),
                        **item.personalization,
                    },
                }
                for item in request.items
            ],
        }

    def find_by_reference(self, reference: str) -> ProviderOrder | None:
        response = self._call("GET", "/v1/orders", params={"source_ids": reference})
        if not response.is_success:
            raise refusal(self.who, response)
        found = json_object(self.who, response).get("orders")
        if not isinstance(found, list):
            raise ProviderError(f"{self.who} listed orders without 'orders'", retryable=False)
        matches = [o for o in found if isinstance(o, dict) and str(o.get("source_id")) == reference]
        return self._parse(matches[0]) if matches else None

    def get_status(self, provider_order_id: str, *, reference: str) -> ProviderOrder:
        response = self._call("GET", f"/v1/orders/{quote(provider_order_id, safe='')}")
        if not response.is_success:
            raise refusal(self.who, response)
        return self._parse(json_object(self.who, response, "order"))

    def _parse(self, body: dict[str, Any]) -> ProviderOrder:
        order_id, raw = body.get("id"), body.get("status")
        if order_id in (None, "") or not isinstance(raw, str):
            raise ProviderError(
                f"{self.who} answered with an order lacking id or status", retryable=False
            )
        parcels: dict[tuple[str, str], dict[str, int]] = {}
        files: dict[str, str] = {}
        for line in body.get("line_items") or []:
            properties = line.get("properties") if isinstance(line, dict) else None
            if isinstance(properties, dict) and isinstance(properties.get("print_url"), str):
                files[str(line.get("store_line_item_id", ""))] = properties["print_url"]
            if isinstance(line, dict) and line.get("tracking_number"):
                key = (str(line.get("tracking_company") or ""), str(line["tracking_number"]))
                units = parcels.setdefault(key, {})
                ref = str(line.get("store_line_item_id", ""))
                units[ref] = units.get(ref, 0) + int(line.get("quantity") or 1)
        shipments = tuple(
            ProviderShipment(carrier, number, lines=units)
            for (carrier, number), units in parcels.items()
        )
        status = STATUSES.get(raw, ProviderStatus.UNRECOGNIZED) if raw else ProviderStatus.ACCEPTED
        reference = str(body.get("source_id") or "")
        return ProviderOrder(str(order_id), reference, status, raw, shipments, print_files=files)

    def cancel(self, provider_order_id: str, *, reference: str) -> CancelOutcome:
        response = self._call("POST", f"/v1/orders/{quote(provider_order_id, safe='')}/cancel")
        return cancel_outcome(self.who, response)

    def update_design(self, provider_order_id: str, request: SubmitRequest) -> ProviderOrder:
        current = self.get_status(provider_order_id, reference=request.reference)
        if current.raw_status not in CHANGEABLE:
            raise OrderLocked(
                f"{self.who} order {provider_order_id} is {current.raw_status}; "
                "its print files can no longer change"
            )
        return self._replace(provider_order_id, request, "the new design")

    def update_address(self, provider_order_id: str, request: SubmitRequest) -> ProviderOrder:
        """The same full-payload PUT, with the new address (only while the order waits)."""
        current = self.get_status(provider_order_id, reference=request.reference)
        if current.raw_status not in CHANGEABLE:
            raise OrderLocked(
                f"order {request.order_number} is already {current.raw_status.replace('_', ' ')} "
                f"at ShineOn: change the address there (order {provider_order_id}; ShineOn's "
                "API takes changes only while an order is on hold or awaiting payment)"
            )
        return self._replace(provider_order_id, request, "the new address")

    def _replace(self, provider_order_id: str, request: SubmitRequest, what: str) -> ProviderOrder:
        path = f"/v1/orders/{quote(provider_order_id, safe='')}"
        response = self._call("PUT", path, json={"order": self._payload(request)})
        if response.status_code in (409, 422):
            raise OrderLocked(f"{self.who} refused {what}: {message_of(response)}")
        if not response.is_success:
            raise refusal(self.who, response)
        return self._parse(json_object(self.who, response, "order"))


def _one_print_url(who: str, item: RequestItem) -> str:
    """ShineOn takes one print file per line (`properties.print_url`); a line whose
    template has several placements is refused before sending, never half sent."""
    if len(item.files) > 1:
        names = ", ".join(f.placement for f in item.files)
        raise ProviderError(
            f"{who} takes one print file per line (print_url); line {item.line_reference} "
            f"has {len(item.files)} ({names}). Route this product to a provider that prints "
            "several placements, or give it a one-placement template",
            retryable=False,
        )
    return item.files[0].url
