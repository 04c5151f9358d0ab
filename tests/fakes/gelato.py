"""A fake Gelato on 127.0.0.1: Order API v4 and the product API (api-notes-providers.md, C).

`X-API-KEY` on every call (401 otherwise). `POST /v4/orders` answers 200 with the
full order (`id` a UUID, `fulfillmentStatus` `created`, or `draft` for
`orderType: "draft"`); a repeated `orderReferenceId` is ACCEPTED, as nothing in
Gelato's documentation says it is refused, so a double submission shows as two
orders (`created` counts them per reference). `POST /v4/orders:search` filters by
`orderReferenceIds` and answers `{"orders": [summary...]}`; `GET /v4/orders/{id}`
gives the order with its items' `fulfillments` (tracking) and `shipment.packages`;
`POST /v4/orders/{id}:cancel` answers 200, or 409 once an item is printed or
shipped. `GET /v3/products/{productUid}` answers the catalog product or 404.
Orders carry `currency` and `financialStatus` but no price, as the documented
answer does. Errors are `{"code", "message"}` objects (the exact words are assumed:
docs/fulfillment.md). Over `limit_per_min` requests in a minute: 429 without
Retry-After (Gelato documents none, only "use exponential backoff").

Faults per test: a 5xx before creating, a 5xx after creating, "create then sleep
past the client's timeout", a fixed latency. `ship()` moves an order on and
returns the `order_status_updated` webhook body Gelato would POST; `deliver()`
posts a body as Gelato does (JSON, up to 3 tries).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter, deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.fakes.customcat import FakeHttpServer, Reply

API_KEY = "gelato-key-test"
TEE = "apparel_product_gca_t-shirt_gsc_crewneck_gcu_unisex_gqa_classic_gsi_m_gco_black_gpr_4-0"
MUG = "mug_product_msz_11-oz_mmat_ceramic-white_cl_4-0"
POSTER = "posters_pf_a3_pt_200-gsm-poster-paper_cl_4-0_ver"
CANCELLABLE = ("created", "uploading", "passed", "draft", "pending_approval", "in_production")
REQUIRED_ADDRESS = ("firstName", "lastName", "addressLine1", "city", "postCode", "country", "email")


def error(status: int, code: str, message: str) -> Reply:
    return status, {"code": code, "message": message}, {}


@dataclass
class Fault:
    status: int = 0
    """Answer this 5xx instead of the order."""
    after_create: bool = False
    """Create the order first, then answer `status`."""
    sleep_after_accept_s: float = 0.0
    """Create the order, then sleep past the client's timeout and drop the line."""


class FakeGelato(FakeHttpServer):
    def __init__(self, *, limit_per_min: int | None = None) -> None:
        super().__init__()
        self.limit_per_min = limit_per_min
        self._window: deque[float] = deque()
        self.orders: dict[str, dict[str, Any]] = {}
        self.created: Counter[str] = Counter()
        self.faults: deque[Fault] = deque()
        self.products: dict[str, dict[str, Any]] = {
            uid: _product(uid) for uid in (TEE, MUG, POSTER)
        }
        self.deliveries: list[tuple[str, int]] = []
        self._clock = datetime(2026, 1, 14, 10, 0, tzinfo=UTC)
        self._rate_lock = threading.Lock()
        self.route("POST", r"/v4/orders", self._create)
        self.route("POST", r"/v4/orders:search", self._search)
        self.route("GET", r"/v4/orders/([^/:]+)", self._get)
        self.route("POST", r"/v4/orders/([^/:]+):cancel", self._cancel)
        self.route("GET", r"/v3/products/([^/]+)", self._product)

    def inject(self, fault: Fault, times: int = 1) -> None:
        self.faults.extend([fault] * times)

    def duplicates(self) -> int:
        return sum(count - 1 for count in self.created.values() if count > 1)

    def _dispatch(self, http: Any) -> None:
        """Key and rate limit first, as a gateway would, then the routes."""
        if http.headers.get("x-api-key") != API_KEY:
            self._answer(http, 401, {"code": "unauthenticated", "message": "Invalid API key"})
            return
        if self._over_limit():
            self._answer(http, 429, {"code": "too_many_requests", "message": "Too many requests"})
            return
        super()._dispatch(http)

    def _over_limit(self) -> bool:
        if self.limit_per_min is None:
            return False
        now = time.monotonic()
        with self._rate_lock:
            while self._window and now - self._window[0] >= 60:
                self._window.popleft()
            if len(self._window) >= self.limit_per_min:
                return True
            self._window.append(now)
            return False

    def _answer(self, http: Any, status: int, payload: dict[str, Any]) -> None:
        length = int(http.headers.get("content-length") or 0)
        if length:
            http.rfile.read(length)
        with self.lock:
            self.requests.append((http.command, http.path))
        data = json.dumps(payload).encode()
        http.send_response(status)
        http.send_header("content-type", "application/json")
        http.send_header("content-length", str(len(data)))
        http.end_headers()
        http.wfile.write(data)

    def _create(self, *, body: Any, **_: Any) -> Reply:
        fault = self.faults.popleft() if self.faults else Fault()
        if fault.status and not fault.after_create:
            return error(fault.status, "internal", "Internal server error")
        if not isinstance(body, dict):
            return error(400, "invalid_argument", "Invalid request body.")
        problem = self._validate(body)
        if problem:
            return error(400, "invalid_argument", problem)
        order = self._store(body)
        if fault.sleep_after_accept_s:
            time.sleep(fault.sleep_after_accept_s)
            return -1, None, {}
        if fault.status:
            return error(fault.status, "internal", "Internal server error")
        return 200, order, {}

    def _validate(self, body: dict[str, Any]) -> str:
        for field in ("orderReferenceId", "customerReferenceId", "currency", "shippingAddress"):
            if not body.get(field):
                return f"{field} is required"
        address = body["shippingAddress"]
        for field in REQUIRED_ADDRESS:
            if not isinstance(address, dict) or not address.get(field):
                return f"shippingAddress.{field} is required"
        items = body.get("items")
        if not isinstance(items, list) or not items:
            return "items must not be empty"
        for item in items:
            uid = item.get("productUid")
            if uid not in self.products:
                return f"Product with productUid '{uid}' is not found"
            if not item.get("itemReferenceId") or not isinstance(item.get("quantity"), int):
                return "items[].itemReferenceId and quantity are required"
            for file in item.get("files") or [{}]:
                if not str(file.get("url", "")).startswith(("http://", "https://")):
                    return "items[].files[].url must be a public URL"
                if not file.get("type"):
                    return "items[].files[].type is required"
        return ""

    def _store(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self._clock += timedelta(seconds=1)
            stamp = self._clock.isoformat()
            order_id = str(uuid.uuid4())
            draft = body.get("orderType") == "draft"
            order = {
                "id": order_id,
                "orderType": "draft" if draft else "order",
                "orderReferenceId": body["orderReferenceId"],
                "customerReferenceId": body["customerReferenceId"],
                "fulfillmentStatus": "draft" if draft else "created",
                "financialStatus": "draft" if draft else "pending",
                "currency": body["currency"],
                "channel": "api",
                "storeId": None,
                "createdAt": stamp,
                "updatedAt": stamp,
                "orderedAt": stamp,
                "shipmentMethodUid": body.get("shipmentMethodUid", "normal"),
                "items": [
                    {
                        "id": str(uuid.uuid4()),
                        "itemReferenceId": item["itemReferenceId"],
                        "productUid": item["productUid"],
                        "files": item.get("files", []),
                        "quantity": item["quantity"],
                        "fulfillmentStatus": "draft" if draft else "created",
                    }
                    for item in body["items"]
                ],
                "shippingAddress": body["shippingAddress"],
                "shipment": None,
            }
            self.orders[order_id] = order
            self.created[body["orderReferenceId"]] += 1
            return order

    def _search(self, *, body: Any, **_: Any) -> Reply:
        wanted = (body or {}).get("orderReferenceIds") if isinstance(body, dict) else None
        found = [
            {
                key: o[key]
                for key in (
                    "id",
                    "orderReferenceId",
                    "fulfillmentStatus",
                    "financialStatus",
                    "channel",
                    "orderType",
                    "currency",
                    "createdAt",
                    "updatedAt",
                    "orderedAt",
                )
            }
            | {"itemsCount": len(o["items"]), "country": o["shippingAddress"].get("country")}
            for o in self.orders.values()
            if not wanted or o["orderReferenceId"] in wanted
        ]
        return 200, {"orders": found}, {}

    def _get(self, order_id: str, **_: Any) -> Reply:
        order = self.orders.get(order_id)
        if order is None:
            return error(404, "not_found", f"Order {order_id} not found")
        return 200, order, {}

    def _cancel(self, order_id: str, **_: Any) -> Reply:
        order = self.orders.get(order_id)
        if order is None:
            return error(404, "not_found", f"Order {order_id} not found")
        if order["fulfillmentStatus"] not in CANCELLABLE:
            return error(
                409,
                "failed_precondition",
                f"Order cannot be canceled: it is {order['fulfillmentStatus']}",
            )
        self.set_status(order_id, "canceled")
        return 200, None, {}

    def _product(self, uid: str, **_: Any) -> Reply:
        product = self.products.get(uid)
        if product is None:
            return error(404, "not_found", f"Product with productUid '{uid}' is not found")
        return 200, product, {}

    # Moving orders on, as Gelato's production would.

    def order_for(self, reference: str) -> dict[str, Any]:
        """The oldest order Gelato holds for our reference."""
        return next(o for o in self.orders.values() if o["orderReferenceId"] == reference)

    def set_status(self, order_id: str, status: str) -> None:
        order = self.orders[order_id]
        order["fulfillmentStatus"] = status
        for item in order["items"]:
            item["fulfillmentStatus"] = status

    def ship(
        self,
        reference: str,
        tracking_code: str,
        method: str = "UPS Standard",
        item_refs: list[str] | None = None,
    ) -> bytes:
        """Ship the named items (all by default) in one package; the webhook body."""
        order = self.order_for(reference)
        shipped = [
            i for i in order["items"] if item_refs is None or i["itemReferenceId"] in item_refs
        ]
        for item in shipped:
            item["fulfillmentStatus"] = "shipped"
            item.setdefault("fulfillments", []).append(
                {
                    "trackingCode": tracking_code,
                    "trackingUrl": f"https://tracking.example/{tracking_code}",
                    "shipmentMethodName": method,
                    "shipmentMethodUid": method.lower().replace(" ", "_"),
                    "fulfillmentCountry": "US",
                    "fulfillmentStateProvince": "NY",
                    "fulfillmentFacilityId": "940fec84-54bc-44fc-a8a3-7d6f02cf8f14",
                }
            )
        all_shipped = all(i["fulfillmentStatus"] == "shipped" for i in order["items"])
        order["fulfillmentStatus"] = "shipped" if all_shipped else "printed"
        return self.status_event(order)

    def status_event(self, order: dict[str, Any]) -> bytes:
        """The `order_status_updated` body Gelato posts (docs/webhooks)."""
        event = {
            "id": f"os_{uuid.uuid4().hex[:13]}",
            "event": "order_status_updated",
            "orderId": order["id"],
            "storeId": order["storeId"],
            "orderReferenceId": order["orderReferenceId"],
            "fulfillmentStatus": order["fulfillmentStatus"],
            "items": [
                {
                    "itemReferenceId": i["itemReferenceId"],
                    "fulfillmentStatus": i["fulfillmentStatus"],
                    "fulfillments": i.get("fulfillments", []),
                }
                for i in order["items"]
            ],
        }
        return json.dumps(event).encode()

    def deliver(self, url: str, body: bytes, tries: int = 3, pause_s: float = 5.0) -> int:
        """POST a webhook body as Gelato does: up to `tries` times until a 2xx."""
        status = 0
        for attempt in range(tries):
            request = urllib.request.Request(
                url, data=body, method="POST", headers={"Content-Type": "application/json"}
            )
            try:
                with urllib.request.urlopen(request, timeout=5) as answer:
                    status = answer.status
            except urllib.error.HTTPError as refused:
                status = refused.code
            self.deliveries.append((url, status))
            if 200 <= status < 300:
                break
            if attempt + 1 < tries:
                time.sleep(pause_s)
        return status


def _product(uid: str) -> dict[str, Any]:
    return {
        "productUid": uid,
        "attributes": {"ProductStatus": "activated"},
        "weight": {"value": 200, "measureUnit": "grams"},
        "supportedCountries": ["US", "GB", "DE"],
        "notSupportedCountries": [],
        "isStockable": False,
        "isPrintable": True,
        "validPageCounts": [],
    }
