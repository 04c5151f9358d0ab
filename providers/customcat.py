"""CustomCat over HTTP (https://customcat-beta.mylocker.net/api/v1/).

Our reference is CustomCat's `{YOUR_ORDER_ID}` path segment, so an order can
always be found again by it (`GET /order/status/{ref}`), and CustomCat rejects
a second order with the same id. The API key travels on every request (body
or query) over TLS. Status words seen: Pending, Verified (accepted), In
Production, Shipped; Cancelled assumed. Cancellation is allowed while the order
awaits production; a submitted order's design cannot change, nor its address
through the API (the public API documents no address change; CustomCat's help
centre says the dashboard takes one until shipment, so staff are sent there). A
line's front print file is its item's `design_url`, a back one its
`design_url_back`; a line with any other placement is refused before sending. A
refusal's reason travels in the `X-FAIL-MESSAGE` response header (read by
`message_of`); one saying a variant is out of stock becomes `VariantUnavailable`
(`out_of_stock`, an assumption: see docs/fulfillment.md).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
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
    email_for,
    is_duplicate,
    json_object,
    message_of,
    out_of_stock,
    refusal,
    require_public_urls,
)

DEFAULT_BASE_URL = "https://customcat-beta.mylocker.net/api/v1"
DEFAULT_SHIPPING = "Economy"
NO_PHONE = "0000000000"
"""Sent when the customer gave no phone (optional at WooCommerce's block checkout):
public CustomCat clients treat `shipping_phone` as required, so a blank one would
be refused; CustomCat's own page does not say (docs/fulfillment.md)."""
DESIGN_FIELDS = {"front": "design_url", "back": "design_url_back"}
"""Each placement CustomCat takes, and its field on an order item (a back print costs
$5 more, CustomCat's page says)."""
STATUSES = {
    "pending": ProviderStatus.ACCEPTED,
    "verified": ProviderStatus.ACCEPTED,
    "awaiting production": ProviderStatus.ACCEPTED,
    "in production": ProviderStatus.IN_PRODUCTION,
    "partially shipped": ProviderStatus.IN_PRODUCTION,
    "shipped": ProviderStatus.SHIPPED,
    "cancelled": ProviderStatus.CANCELLED,
    "canceled": ProviderStatus.CANCELLED,
}


class CustomCatProvider:
    capabilities = ProviderCapabilities(
        can_cancel=True,
        accepts_design_changes=False,
        accepts_address_changes=False,
        address_required=frozenset({"postcode"}),
    )

    def __init__(self, name: str, client: httpx.Client, config: ProviderConfig) -> None:
        self.name = name
        self.who = f"CustomCat ({name})"
        self.client = client
        self.config = config
        self._key = api_key(name, config, "CustomCat's Write key")

    def submit(self, request: SubmitRequest) -> ProviderOrder:
        require_public_urls(self.who, request)
        path = f"/order/{quote(request.reference, safe='')}"
        response = call(self.client, self.who, "POST", path, json=self._payload(request))
        if not response.is_success:
            message = message_of(response)
            if response.status_code < 500 and is_duplicate(message):
                raise DuplicateReference(f"{self.who} already has order {request.reference}")
            raise out_of_stock(self.who, response, request)
        body = json_object(self.who, response)
        order_id = body.get("CUSTOMCAT_ORDER_ID")
        if not isinstance(order_id, (str, int)) or isinstance(order_id, bool) or not order_id:
            raise ProviderError(
                f"{self.who} answered without CUSTOMCAT_ORDER_ID ({message_of(response)})",
                retryable=False,
            )
        return ProviderOrder(str(order_id), request.reference, ProviderStatus.ACCEPTED, "Pending")

    def _payload(self, request: SubmitRequest) -> dict[str, Any]:
        address = request.address
        first, last = _names(request, address)
        payload: dict[str, Any] = {
            "api_key": self._key,
            "shipping_first_name": first,
            "shipping_last_name": last,
            "shipping_address1": address.get("address_1", ""),
            "shipping_address2": address.get("address_2", ""),
            "shipping_city": address.get("city", ""),
            "shipping_state": address.get("state", ""),
            "shipping_zip": address.get("postcode", ""),
            "shipping_country": address.get("country", ""),
            "shipping_email": email_for(self.who, self.name, request, self.config),
            "shipping_phone": request.phone.strip() or NO_PHONE,
            "shipping_method": request.shipping_method
            or self.config.shipping_method
            or DEFAULT_SHIPPING,
            "items": [
                {"catalog_sku": item.provider_sku, **self._designs(item), "quantity": item.quantity}
                for item in request.items
            ],
        }
        if self.config.test_mode:
            payload["sandbox"] = "1"
        return payload

    def _designs(self, item: RequestItem) -> dict[str, str]:
        """`design_url` (the front) and `design_url_back`: the two print areas
        CustomCat's order items take; any other placement is refused before sending."""
        fields = {}
        for placed in item.files:
            field = DESIGN_FIELDS.get(placed.placement)
            if field is None:
                raise ProviderError(
                    f"{self.who} prints only a front and a back (design_url, design_url_back); "
                    f"line {item.line_reference} has a {placed.placement!r} print file. Route "
                    "this product to a provider that prints it, or change its template",
                    retryable=False,
                )
            fields[field] = placed.url
        if "design_url" not in fields:
            raise ProviderError(
                f"{self.who} needs a front design (design_url); line {item.line_reference} "
                f"has only {', '.join(repr(f.placement) for f in item.files)}",
                retryable=False,
            )
        return fields

    def find_by_reference(self, reference: str) -> ProviderOrder | None:
        response = self._status(reference)
        if response.status_code == 404:
            return None
        if not response.is_success:
            message = message_of(response)
            if "not found" in message.lower() or "no order" in message.lower():
                return None
            raise refusal(self.who, response)
        return self._parse(json_object(self.who, response), reference)

    def get_status(self, provider_order_id: str, *, reference: str) -> ProviderOrder:
        response = self._status(reference)
        if not response.is_success:
            raise refusal(self.who, response)
        return self._parse(json_object(self.who, response), reference)

    def _status(self, reference: str) -> httpx.Response:
        path = f"/order/status/{quote(reference, safe='')}"
        params = {"api_key": self._key}
        if self.config.test_mode:
            params["sandbox"] = "1"
        return call(self.client, self.who, "GET", path, params=params)

    def _parse(self, body: dict[str, Any], reference: str) -> ProviderOrder:
        order_id = body.get("CUSTOMCAT_ORDER_ID")
        raw = body.get("ORDER_STATUS")
        if order_id in (None, "") or not isinstance(raw, str):
            raise ProviderError(
                f"{self.who} status for {reference} lacks CUSTOMCAT_ORDER_ID or ORDER_STATUS",
                retryable=False,
            )
        parcels = []
        for entry in body.get("SHIPMENTS") or []:
            if isinstance(entry, dict) and entry.get("TRACKING_ID"):
                count = str(entry.get("NUMBER_ITEMS") or "")
                parcels.append(
                    ProviderShipment(
                        # VENDOR is the carrier; METHOD ("Economy") is a service level,
                        # so a blank VENDOR leaves the carrier to the number's shape.
                        carrier=str(entry.get("VENDOR") or ""),
                        tracking_number=str(entry["TRACKING_ID"]),
                        quantity=int(count) if count.isdigit() else None,
                    )
                )
        word = raw.strip().lower()
        status = ProviderStatus.ACCEPTED  # no status word yet: just created
        if word:
            status = STATUSES.get(word, ProviderStatus.UNRECOGNIZED)
        cost = _money(body.get("ORDER_TOTAL"))
        return ProviderOrder(
            str(order_id),
            reference,
            status,
            raw,
            tuple(parcels),
            cost=cost,
            cost_currency=CHARGE_CURRENCY if cost is not None else None,
        )

    def cancel(self, provider_order_id: str, *, reference: str) -> CancelOutcome:
        path = f"/order/{quote(reference, safe='')}"
        response = call(self.client, self.who, "DELETE", path, params={"api_key": self._key})
        return cancel_outcome(self.who, response)

    def update_design(self, provider_order_id: str, request: SubmitRequest) -> ProviderOrder:
        raise OrderLocked(
            f"{self.who} does not accept design changes after submission; cancel while it is "
            "awaiting production and submit again"
        )

    def update_address(self, provider_order_id: str, request: SubmitRequest) -> ProviderOrder:
        raise OrderLocked(
            f"order {request.order_number} is already at CustomCat: change the address there "
            f"(its order {provider_order_id} in the CustomCat dashboard, until it ships; "
            "CustomCat's API has no address change)"
        )


def _names(request: SubmitRequest, address: dict[str, str]) -> tuple[str, str]:
    first, last = address.get("first_name", ""), address.get("last_name", "")
    if first or last:
        return first, last
    head, _, tail = request.customer_name.strip().partition(" ")
    return head, tail


CHARGE_CURRENCY = "USD"
"""CustomCat bills US dollars; its status answer's ORDER_TOTAL carries no currency
(api-notes: [S], an assumption written in docs/reports.md)."""


def _money(value: object) -> Decimal | None:
    """ORDER_TOTAL as a charge ("21.50", 21.5); anything else is no charge reported."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and amount >= 0 else None
