"""A fake ShineOn API on 127.0.0.1 (api-notes.md section B; shineon-sdk types).

`Authorization: Bearer`; `POST /v1/orders` `{"order": {...}}` answers 201
`{"order": {...}}`; a repeated `source_id` is refused 422; `GET /v1/orders`
filters by `source_ids`; `GET|PUT /v1/orders/{id}` (PUT only while on_hold or
awaiting_payment, full payload); `POST /v1/orders/{id}/cancel` answers 202 with
an empty body; `shipping_address.phone` is optional. Errors are
`{"error": "..."}` (400/401/404/422); 429 carries
Retry-After. `ship()` sets tracking on line items and returns the unsigned
notification ShineOn would POST to the order's `shipment_notification_url`.
"""

from __future__ import annotations

from collections import Counter, deque
from typing import Any

from tests.fakes.customcat import FakeHttpServer, Fault, Reply

TOKEN = "shineon-token-test"
CHANGEABLE = ("on_hold", "awaiting_payment")


class FakeShineOn(FakeHttpServer):
    def __init__(self, *, reject_duplicates: bool = True) -> None:
        super().__init__()
        self.reject_duplicates = reject_duplicates
        """False: a repeated source_id is taken, so a double submission shows as two."""
        self.orders: dict[int, dict[str, Any]] = {}
        self.created: Counter[str] = Counter()
        self.faults: deque[Fault] = deque()
        self.unknown_skus: set[str] = set()
        self.out_of_stock_skus: set[str] = set()
        """SKUs refused as out of stock (422; the wording is assumed, docs/fulfillment.md)."""
        self.down = False
        """True: reading and changing orders answer 503 (an outage), until set back."""
        self._next_id = 5000
        self.route("POST", r"/v1/orders", self._create)
        self.route("GET", r"/v1/orders", self._list)
        self.route("GET", r"/v1/orders/(\d+)", self._get)
        self.route("PUT", r"/v1/orders/(\d+)", self._update)
        self.route("POST", r"/v1/orders/(\d+)/cancel", self._cancel)

    def _authorized(self, http: Any) -> bool:
        return bool(http.headers.get("authorization") == f"Bearer {TOKEN}")

    def _create(self, *, body: Any, http: Any, **_: Any) -> Reply:
        if not self._authorized(http):
            return 401, {"error": "Unauthenticated."}, {}
        fault = self.faults.popleft() if self.faults else Fault()
        if fault.status:
            headers = {"retry-after": fault.retry_after} if fault.retry_after else {}
            return fault.status, {"error": "Too many requests"}, headers
        order = (body or {}).get("order")
        if not isinstance(order, dict):
            return 400, {"error": "The order field is required."}, {}
        problem = self._validate(order)
        if problem:
            return 422, {"error": problem}, {}
        with self.lock:
            taken = any(o["source_id"] == order["source_id"] for o in self.orders.values())
            if taken and self.reject_duplicates:
                return 422, {"error": "The source id has already been taken."}, {}
            self._next_id += 1
            self.created[order["source_id"]] += 1
            stored = self._stored(self._next_id, order)
            self.orders[self._next_id] = stored
        if fault.weird:
            return 201, {"data": "ok"}, {}
        return 201, {"order": stored}, {}

    def _validate(self, order: dict[str, Any]) -> str:
        if not order.get("source_id") or not order.get("line_items"):
            return "source_id and line_items are required"
        address = order.get("shipping_address") or {}
        if not address.get("country_code") or not address.get("address1"):
            return "The shipping address is incomplete."
        for line in order["line_items"]:
            if line.get("sku") in self.unknown_skus:
                return f"The selected sku {line['sku']} is invalid."
            if line.get("sku") in self.out_of_stock_skus:
                return f"The selected sku {line['sku']} is out of stock."
        return ""

    def _stored(self, order_id: int, order: dict[str, Any]) -> dict[str, Any]:
        lines = [
            {"id": order_id * 10 + n, **line, "tracking_company": None, "tracking_number": None}
            for n, line in enumerate(order["line_items"])
        ]
        status = "on_hold" if order.get("ready") == 0 else "awaiting_payment"
        return {
            "id": order_id,
            "source_id": order["source_id"],
            "store_order_id": order_id,
            "status": status,
            "on_hold_reason": None,
            "shipment_notification_url": order.get("shipment_notification_url"),
            "shipping_method": order.get("shipping_method"),
            "email": order.get("email"),
            "note": order.get("note"),
            "test": bool(order.get("test")),
            "line_items": lines,
            "shipping_address": order["shipping_address"],
            "created_at": "2026-11-21T15:00:00Z",
            "updated_at": "2026-11-21T15:00:00Z",
        }

    def _list(self, *, query: dict[str, str], http: Any, **_: Any) -> Reply:
        if not self._authorized(http):
            return 401, {"error": "Unauthenticated."}, {}
        wanted = set(filter(None, query.get("source_ids", "").split(",")))
        found = [o for o in self.orders.values() if not wanted or o["source_id"] in wanted]
        return 200, {"orders": found}, {}

    def _get(self, order_id: str, *, http: Any, **_: Any) -> Reply:
        if not self._authorized(http):
            return 401, {"error": "Unauthenticated."}, {}
        if self.down:
            return 503, {"error": "Service Unavailable"}, {}
        order = self.orders.get(int(order_id))
        if order is None:
            return 404, {"error": "Order not found."}, {}
        return 200, {"order": order}, {}

    def _update(self, order_id: str, *, body: Any, http: Any, **_: Any) -> Reply:
        if self.down:
            return 503, {"error": "Service Unavailable"}, {}
        order = self.orders.get(int(order_id))
        if not self._authorized(http) or order is None:
            return 404, {"error": "Order not found."}, {}
        if order["status"] not in CHANGEABLE:
            return 422, {"error": f"Order is {order['status']} and can no longer be updated"}, {}
        new = self._stored(order["id"], body["order"])
        new["status"] = order["status"]
        self.orders[order["id"]] = new
        return 200, {"order": new}, {}

    def _cancel(self, order_id: str, *, http: Any, **_: Any) -> Reply:
        order = self.orders.get(int(order_id))
        if not self._authorized(http) or order is None:
            return 404, {"error": "Order not found."}, {}
        if order["status"] not in CHANGEABLE:
            return 422, {"error": "Order is in production and can't be cancelled"}, {}
        order.update(
            status="cancelled",
            cancelled_at="2026-11-22T10:00:00Z",
            cancel_reason="canceled_by_seller",
        )
        return 202, None, {}

    def duplicates(self) -> int:
        return sum(count - 1 for count in self.created.values() if count > 1)

    def by_source(self, source_id: str) -> dict[str, Any]:
        return next(o for o in self.orders.values() if o["source_id"] == source_id)

    def ship(self, source_id: str, company: str, number: str) -> dict[str, Any]:
        """Ship every line; return the notification body ShineOn would POST."""
        order = self.by_source(source_id)
        for line in order["line_items"]:
            line.update(tracking_company=company, tracking_number=number)
        order["status"] = "shipped"
        return {
            "order": {
                "id": order["id"],
                "source_id": source_id,
                "store_order_id": order["store_order_id"],
                "line_items": order["line_items"],
            }
        }
