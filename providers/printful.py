"""Printful over HTTP (REST v1, https://api.printful.com, `Authorization: Bearer`).

Our reference travels as the order's `external_id`, which Printful keeps unique
per store (a second order with it is refused `OR-13 EXTERNAL_ID_IN_USE`) and
finds again with `GET /orders/@{external_id}`. Printful takes 32 characters of
`[0-9A-Za-z_-]` there, so the reference goes as its restricted id
(`FulfillmentRef.restricted`: as it is, escaped, or a digest that the same
reference always makes again). Each line's `external_id` is our line reference,
which is how a shipment's items come back to our lines.

Orders are created confirmed (`confirm=true`) or, with `confirm_orders = false`,
as a draft confirmed by a second call. Printful may send a confirmed order back
to `draft` while its costs are calculated; whenever podops reads an order that
is a draft (the tracking poll, a webhook hint, `order_remove_hold`) it confirms
it again, and a refused confirmation becomes a status staff are told about.
Only a `draft` or `failed` order takes changes (`PUT`, else `OR-1`); `DELETE`
cancels before production (`inprocess`). 429 and the 419 rate-limit warning are
"slow down"; every request is paced to the provider's rate limit, because one
call here may take several (a create and its confirm, a catalog check).
v1 webhooks are unsigned: a delivery counts only on the URL carrying
`webhook_secret`, and only as a hint that makes podops re-read the order.
Every order answer carries `costs`; its `total` (in its `currency`) is the charge
kept for the margin (docs/reports.md).
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx

from podops.errors import OrderLocked, OrderNotFound, ProviderError
from podops.fulfillment.limits import provider_key
from podops.ports.fulfillment import (
    CancelOutcome,
    DuplicateReference,
    ProviderBusy,
    ProviderCapabilities,
    ProviderOrder,
    ProviderShipment,
    ProviderStatus,
    RequestItem,
    SubmitRequest,
    WebhookRefused,
)
from podops.refs import FulfillmentRef
from podops.settings import ProviderConfig
from podops.shared_limits import Limits, LocalLimits, Pace, Rate
from providers import charges
from providers.fulfillment_http import (
    api_key,
    cancel_outcome,
    json_object,
    message_of,
    out_of_stock,
    paced_call,
    refusal,
    require_public_urls,
)
from providers.http import retry_after_seconds

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.printful.com"
DEFAULT_SHIPPING = "STANDARD"
EDITABLE = frozenset({"draft", "failed"})
"""The only statuses whose order Printful lets the API change (OR-1 otherwise)."""
STATUSES = {
    "draft": ProviderStatus.ACCEPTED,
    "pending": ProviderStatus.ACCEPTED,
    "inprocess": ProviderStatus.IN_PRODUCTION,
    "partial": ProviderStatus.IN_PRODUCTION,
    "fulfilled": ProviderStatus.SHIPPED,
    "canceled": ProviderStatus.CANCELLED,
    "failed": ProviderStatus.UNRECOGNIZED,
    "onhold": ProviderStatus.UNRECOGNIZED,
}
"""`failed` and `onhold` need a person at Printful: staff are told (once). `archived`
is read from the order's shipments (`_status`)."""
PLACEMENTS = {"front": "default"}
"""Our placement names -> Printful's `files[].type`: its main print area is `default`
(a shirt's front; the only one a poster has); `back`, `left`... are the same words."""
RATE_WARNING = 419
RATE_WARNING_WAIT_S = 60.0
"""Printful's 429 text asks for 60 s; used when a 419/429 carries no Retry-After."""
DUPLICATE = re.compile(r"OR-13|EXTERNAL_ID_IN_USE", re.IGNORECASE)
LOCKED = re.compile(r"OR-1\b|ORDER_NO_LONGER_EDITABLE", re.IGNORECASE)
VARIANT_ID = re.compile(r"[0-9]{1,12}")
ORDER_TOPICS = frozenset(
    {
        "package_shipped",
        "package_returned",
        "order_created",
        "order_updated",
        "order_failed",
        "order_canceled",
        "order_put_hold",
        "order_put_hold_approval",
        "order_remove_hold",
    }
)
"""Webhook types about one order; the others (products, stock) name none of ours."""


class PrintfulProvider:
    capabilities = ProviderCapabilities(
        can_cancel=True,
        accepts_design_changes=True,
        accepts_address_changes=True,
        address_required=frozenset({"postcode"}),
    )

    paces_each_request = True
    """Submit and confirm are two requests: each takes its own turn (`_call`)."""

    def __init__(
        self,
        name: str,
        client: httpx.Client,
        config: ProviderConfig,
        *,
        limits: Limits | None = None,
    ) -> None:
        self.name = name
        self.who = f"Printful ({name})"
        self.client = client
        self.config = config
        token = api_key(name, config, "a private token from developers.printful.com/tokens")
        self._headers = {"Authorization": f"Bearer {token}"}
        if config.store_id:
            self._headers["X-PF-Store-Id"] = config.store_id
        self._pace = Pace(
            limits or LocalLimits(), provider_key(name), Rate(config.rate_limit_per_s)
        )

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request, paced; 429 (in `call`) and the 419 warning become ProviderBusy
        and pause Printful for every podops process."""
        response = paced_call(
            self._pace, self.client, self.who, method, path, headers=self._headers, **kwargs
        )
        if response.status_code == RATE_WARNING:
            wait = retry_after_seconds(response) or RATE_WARNING_WAIT_S
            self._pace.pause(wait)
            raise ProviderBusy(
                f"{self.who} warns we are being rate limited (419)", retry_after_s=wait
            )
        return response

    # -- submission -------------------------------------------------------------------

    def submit(self, request: SubmitRequest) -> ProviderOrder:
        require_public_urls(self.who, request)
        payload = self._payload(request)
        confirm = "true" if self.config.confirm_orders else "false"
        response = self._call("POST", "/orders", params={"confirm": confirm}, json=payload)
        if not response.is_success:
            if response.status_code < 500 and DUPLICATE.search(response.text):
                raise DuplicateReference(f"{self.who} already has order {request.reference}")
            raise out_of_stock(self.who, response, request)
        created = self._parse(json_object(self.who, response, "result"), request.reference)
        if created.raw_status != "draft" or self.config.confirm_orders:
            return created
        try:
            return self._confirm(created)
        except ProviderError as exc:  # the draft exists: the next poll confirms it
            log.warning("%s: draft %s left unconfirmed: %s", self.who, created.reference, exc)
            return created

    def _payload(self, request: SubmitRequest) -> dict[str, Any]:
        address = request.address
        name = " ".join(p for p in (address.get("first_name"), address.get("last_name")) if p)
        recipient = {
            "name": name or request.customer_name,
            "company": address.get("company", ""),
            "address1": address.get("address_1", ""),
            "address2": address.get("address_2", ""),
            "city": address.get("city", ""),
            "state_code": address.get("state", ""),
            "country_code": address.get("country", ""),
            "zip": address.get("postcode", ""),
            "phone": request.phone.strip(),
            "email": request.email,
        }
        return {
            "external_id": _external_id(request.reference),
            "shipping": request.shipping_method or self.config.shipping_method or DEFAULT_SHIPPING,
            "recipient": {k: v for k, v in recipient.items() if v},
            "items": [_item(item) for item in request.items],
        }

    def _confirm(self, order: ProviderOrder) -> ProviderOrder:
        """Confirm a draft (it charges); a refusal becomes a status staff hear of."""
        response = self._call("POST", f"/orders/{order.provider_order_id}/confirm")
        if response.is_success:
            return self._parse(json_object(self.who, response, "result"), order.reference)
        if response.status_code in (401, 403):
            raise refusal(self.who, response)
        words = message_of(response)
        log.warning("%s refused to confirm %s: %s", self.who, order.reference, words)
        raw = f"draft, not confirmed: {words}"[:64]
        return replace(order, status=ProviderStatus.UNRECOGNIZED, raw_status=raw)

    # -- reading ----------------------------------------------------------------------

    def find_by_reference(self, reference: str) -> ProviderOrder | None:
        """Our order at Printful, as it is: a draft comes back `unfinished` and is
        confirmed only by the submission worker (`finish_placement`), never by a
        lookup made to cancel it."""
        response = self._call("GET", f"/orders/@{_external_id(reference)}")
        if response.status_code == 404:
            return None
        if not response.is_success:
            raise refusal(self.who, response)
        order = self._parse(json_object(self.who, response, "result"), reference)
        return replace(order, unfinished=True) if order.raw_status == "draft" else order

    def finish_placement(self, found: ProviderOrder, request: SubmitRequest) -> ProviderOrder:
        """Confirm a draft the lookup found (created, its confirmation lost)."""
        return self._confirm(found)

    def get_status(self, provider_order_id: str, *, reference: str) -> ProviderOrder:
        """The order; a draft (sent back while its costs were calculated, or left
        unconfirmed by a failed second call) is confirmed again first."""
        order = self._fetch(provider_order_id, reference)
        return self._confirm(order) if order.raw_status == "draft" else order

    def _fetch(self, provider_order_id: str, reference: str) -> ProviderOrder:
        response = self._call("GET", f"/orders/{_order_id(provider_order_id)}")
        if not response.is_success:
            raise refusal(self.who, response)
        return self._parse(json_object(self.who, response, "result"), reference)

    def _parse(self, body: dict[str, Any], reference: str) -> ProviderOrder:
        order_id, raw = body.get("id"), body.get("status")
        if isinstance(order_id, bool) or not isinstance(order_id, (int, str)) or not order_id:
            raise ProviderError(f"{self.who} answered with an order without id", retryable=False)
        if not isinstance(raw, str):
            raise ProviderError(f"{self.who} order {order_id} has no status", retryable=False)
        lines: dict[str, str] = {}
        files: dict[str, str] = {}
        for item in body.get("items") or []:
            if isinstance(item, dict) and isinstance(item.get("external_id"), str):
                lines[str(item.get("id"))] = item["external_id"]
                url = _main_file(item.get("files"))
                if url:
                    files[item["external_id"]] = url
        shipments = tuple(
            parcel
            for entry in body.get("shipments") or []
            if isinstance(entry, dict) and (parcel := _shipment(entry, lines)) is not None
        )
        status = _status(raw.strip().lower(), shipments)
        # `costs.total` in `costs.currency`: products, printing, shipping, fees and tax,
        # less discounts; absent or zero while Printful calculates them (None, never 0).
        costs = body.get("costs")
        costs = costs if isinstance(costs, dict) else {}
        cost, code = charges.charge(self.who, "costs", costs.get("total"), costs.get("currency"))
        return ProviderOrder(
            str(order_id),
            reference,
            status,
            raw,
            shipments,
            print_files=files,
            cost=cost,
            cost_currency=code,
        )

    # -- changes ----------------------------------------------------------------------

    def cancel(self, provider_order_id: str, *, reference: str) -> CancelOutcome:
        response = self._call("DELETE", f"/orders/{_order_id(provider_order_id)}")
        return cancel_outcome(self.who, response)

    def update_design(self, provider_order_id: str, request: SubmitRequest) -> ProviderOrder:
        return self._replace(provider_order_id, request, "the new design")

    def update_address(self, provider_order_id: str, request: SubmitRequest) -> ProviderOrder:
        return self._replace(provider_order_id, request, "the new address")

    def _replace(self, provider_order_id: str, request: SubmitRequest, what: str) -> ProviderOrder:
        """The full order again (`PUT` drops items left out), only while it is a draft
        or failed; then confirmed again, as every order podops places is."""
        current = self._fetch(provider_order_id, request.reference)
        if current.raw_status not in EDITABLE:
            raise OrderLocked(
                f"order {request.order_number} is {current.raw_status} at Printful: it no "
                f"longer takes {what} (Printful order {provider_order_id}; its API changes "
                "only draft or failed orders; cancel before production and submit again)"
            )
        path = f"/orders/{_order_id(provider_order_id)}"
        response = self._call("PUT", path, json=self._payload(request))
        if not response.is_success:
            if LOCKED.search(response.text):
                raise OrderLocked(f"{self.who} refused {what}: {message_of(response)}")
            raise refusal(self.who, response)
        updated = self._parse(json_object(self.who, response, "result"), request.reference)
        return self._confirm(updated) if updated.raw_status in EDITABLE else updated

    # -- webhooks and catalog ----------------------------------------------------------

    def webhook_references(self, token: str, headers: Mapping[str, str], body: bytes) -> list[str]:
        """Our reference of the order a v1 delivery names ([] for other topics, for
        another store's delivery, and for orders podops did not place)."""
        secret = self.config.webhook_secret
        if secret is None or not secret.get_secret_value():
            raise WebhookRefused(
                f"{self.who} has no webhook secret; set "
                f"PODOPS_PROVIDERS__{self.name.upper()}__WEBHOOK_SECRET"
            )
        if not hmac.compare_digest(token.encode(), secret.get_secret_value().encode()):
            raise WebhookRefused(f"{self.who}: the webhook URL token is wrong")
        try:
            delivery = json.loads(body)
        except ValueError as exc:
            raise WebhookRefused(f"{self.who}: the delivery is not JSON") from exc
        if not isinstance(delivery, dict) or not isinstance(delivery.get("type"), str):
            raise WebhookRefused(f"{self.who}: the delivery has no type")
        if delivery["type"] not in ORDER_TOPICS:
            return []
        store = delivery.get("store")
        if self.config.store_id and store is not None and str(store) != self.config.store_id:
            log.info("%s: a delivery for store %s, not ours; ignored", self.who, store)
            return []
        data = delivery.get("data")
        order = data.get("order") if isinstance(data, dict) else None
        external = order.get("external_id") if isinstance(order, dict) else None
        found = FulfillmentRef.parse_restricted(external) if isinstance(external, str) else None
        if found is None:
            log.info("%s: %s names no order podops can read back", self.who, delivery["type"])
            return []
        return [found.provider]

    def unknown_codes(self, codes: Collection[str]) -> dict[str, str]:
        """Each code checked against Printful's catalog (`GET /products/variant/{id}`)."""
        unknown: dict[str, str] = {}
        for code in dict.fromkeys(codes):
            if not VARIANT_ID.fullmatch(code.strip()):
                unknown[code] = "not a Printful catalog variant id (a whole number)"
                continue
            response = self._call("GET", f"/products/variant/{code.strip()}")
            if response.is_success:
                continue
            if response.status_code in (401, 403) or response.status_code >= 500:
                raise refusal(self.who, response)
            unknown[code] = message_of(response)
        return unknown


def _external_id(reference: str) -> str:
    try:
        return FulfillmentRef.parse_provider(reference).restricted()
    except (OrderNotFound, ValueError) as exc:
        raise ProviderError(f"{reference!r} is not a podops reference", retryable=False) from exc


def _order_id(provider_order_id: str) -> str:
    """Printful's numeric order id, never an `@external_id` or a path by mistake."""
    if not provider_order_id.isdigit():
        raise ProviderError(f"{provider_order_id!r} is not a Printful order id", retryable=False)
    return provider_order_id


def _item(item: RequestItem) -> dict[str, Any]:
    code = item.provider_sku.strip()
    if not VARIANT_ID.fullmatch(code):
        raise ProviderError(
            f"line {item.line_reference}: Printful needs a catalog variant id (a whole "
            f"number) as the product code, not {item.provider_sku!r}; fix the routing rule "
            "or the Products row",
            retryable=False,
        )
    return {
        "external_id": item.line_reference,
        "variant_id": int(code),
        "quantity": item.quantity,
        "name": item.name,
        "sku": item.sku,
        "files": [
            {"type": PLACEMENTS.get(placed.placement, placed.placement), "url": placed.url}
            for placed in item.files
        ],
    }


def _main_file(files: Any) -> str:
    """The URL of an item's main print file (`default`, or `front`), if it has one."""
    for entry in files if isinstance(files, list) else []:
        if isinstance(entry, dict) and entry.get("type", "default") in ("default", "front"):
            url = entry.get("url")
            if isinstance(url, str) and url:
                return url
    return ""


def _shipment(entry: dict[str, Any], lines: dict[str, str]) -> ProviderShipment | None:
    number = entry.get("tracking_number")
    if not isinstance(number, (str, int)) or isinstance(number, bool) or not str(number).strip():
        return None
    units: dict[str, int] = {}
    count = 0
    for item in entry.get("items") or []:
        if not isinstance(item, dict):
            continue
        quantity = item.get("quantity")
        quantity = quantity if isinstance(quantity, int) and quantity > 0 else 1
        count += quantity
        line = lines.get(str(item.get("item_id")))
        if line is not None:
            units[line] = units.get(line, 0) + quantity
    shipped = entry.get("shipped_at")
    return ProviderShipment(
        carrier=str(entry.get("carrier") or ""),
        tracking_number=str(number).strip(),
        lines=units if units and sum(units.values()) == count else None,
        quantity=count or None,
        shipped_at=datetime.fromtimestamp(shipped, UTC) if isinstance(shipped, int) else None,
    )


def _status(word: str, shipments: tuple[ProviderShipment, ...]) -> ProviderStatus:
    if word == "archived":  # put away by someone at Printful: shipped, or for staff to see
        return ProviderStatus.SHIPPED if shipments else ProviderStatus.UNRECOGNIZED
    if not word:
        return ProviderStatus.ACCEPTED
    return STATUSES.get(word, ProviderStatus.UNRECOGNIZED)
