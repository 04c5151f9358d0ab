"""A fake Printful API (REST v1) on 127.0.0.1, following api-notes-providers.md section A.

`Authorization: Bearer <token>` (and, for an account-level token, `X-PF-Store-Id`);
every answer is the v1 envelope `{"code": .., "result": ..}`, an error adds
`"error": {"reason", "message"}`. `POST /orders?confirm=` creates (a draft, or
`pending` when confirmed) and refuses a repeated `external_id` (OR-13, as Printful
does; `reject_duplicates=False` takes it, so a double submission shows as two
orders); `GET /orders/{id|@external_id}`; `PUT /orders/{id}` only while `draft` or
`failed` (OR-1 otherwise); `POST /orders/{id}/confirm`; `DELETE /orders/{id}`
cancels before `inprocess`; `GET /products/variant/{id}` reads the catalog.
Over `per_minute` requests in 60 s answers 429 with `retry-after` and Printful's
observed text.

Every order carries `costs` (COSTS; all "0.00" while being calculated). Tests drive
the rest: `set_status`, `send_back_to_draft` (costs being calculated: confirming is
refused until `remove_hold`), `ship` (a shipment with its items),
queued faults (refusals before creating, a 5xx or a dropped answer after
creating), a fixed `latency_s`; `ship`, `remove_hold` and `delivery` return the
unsigned webhook body Printful would POST. Wordings Printful's docs do not give
are marked [U] (docs/fulfillment.md).
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.fakes.customcat import FakeHttpServer, Reply

TOKEN = "printful-private-token-test"
STORE_ID = "7001"
EXTERNAL_ID = re.compile(r"[0-9A-Za-z_-]{1,32}")
TEE_TYPES = frozenset({"default", "front", "back", "sleeve_left", "sleeve_right"})
CATALOG: dict[int, dict[str, Any]] = {
    4011: {"product_id": 71, "name": "Bella + Canvas 3001 (White / S)", "types": TEE_TYPES},
    4012: {"product_id": 71, "name": "Bella + Canvas 3001 (White / M)", "types": TEE_TYPES},
    4013: {"product_id": 71, "name": "Bella + Canvas 3001 (White / L)", "types": TEE_TYPES},
    1320: {"product_id": 1, "name": "Enhanced Matte Paper Poster (18x24)", "types": {"default"}},
    1403: {"product_id": 19, "name": "White Glossy Mug (11oz)", "types": {"default"}},
}
CANCELLABLE = ("draft", "pending", "failed", "onhold")
EDITABLE = ("draft", "failed")
COSTS = {
    "currency": "USD",
    "subtotal": "13.25",
    "discount": "0.00",
    "shipping": "4.69",
    "digitization": "0.00",
    "additional_fee": "0.00",
    "fulfillment_fee": "0.00",
    "tax": "0.00",
    "vat": "0.00",
    "total": "17.94",
}
"""An order's `costs` as v1 answers carry them (amounts as strings); `total` is what
Printful charges. While costs are calculated every amount is "0.00" (`send_back_to_draft`)."""
CALCULATING = {key: ("USD" if key == "currency" else "0.00") for key in COSTS}
TOO_MANY = "You've recently sent too many requests. Please try again after 60 seconds."
NOT_EDITABLE = (
    "The order is no longer editable. To be editable via API must have one of the "
    "following statuses: DRAFT, FAILED"
)


def error(code: int, message: str, reason: str = "BadRequest", **headers: str) -> Reply:
    """Printful's v1 error envelope."""
    body = {"code": code, "result": message, "error": {"reason": reason, "message": message}}
    return code, body, dict(headers)


def ok(result: Any) -> Reply:
    return 200, {"code": 200, "result": result}, {}


@dataclass
class Fault:
    """One thing going wrong on the next order creation."""

    status: int = 0
    """Refuse with this status before creating anything (500, 503, 429, 419)."""
    retry_after: str | None = None
    after_create: bool = False
    """Create the order, then answer `status` (a 5xx that hides a success)."""
    sleep_after_accept_s: float = 0.0
    """Create the order, then sleep and drop the connection (a timeout)."""


class FakePrintful(FakeHttpServer):
    def __init__(
        self,
        *,
        reject_duplicates: bool = True,
        per_minute: int = 120,
        account_token: bool = False,
    ) -> None:
        super().__init__()
        self.reject_duplicates = reject_duplicates
        self.per_minute = per_minute
        self.account_token = account_token
        """True: an account-level token, so order calls need `X-PF-Store-Id`."""
        self.orders: dict[int, dict[str, Any]] = {}
        self.created: Counter[str] = Counter()
        """Orders created per external_id: above 1 is a duplicate."""
        self.faults: deque[Fault] = deque()
        self.out_of_stock: set[int] = set()
        self.costs_pending: set[int] = set()
        self.served: deque[float] = deque()
        self.served_times: list[float] = []
        self._window_lock = threading.Lock()
        self._next_id = 91_000_000
        self._next_item = 50_000
        self._next_shipment = 3_000
        for method, pattern, handler in [
            ("POST", r"/orders", self._create),
            ("GET", r"/orders/(@[^/]+|\d+)", self._get),
            ("PUT", r"/orders/(@[^/]+|\d+)", self._update),
            ("POST", r"/orders/(@[^/]+|\d+)/confirm", self._confirm),
            ("DELETE", r"/orders/(@[^/]+|\d+)", self._cancel),
            ("GET", r"/products/variant/([^/]+)", self._variant),
        ]:
            self.route(method, pattern, self._guarded(handler))

    # -- the gate every request passes --------------------------------------------------

    def _guarded(self, handler: Callable[..., Reply]) -> Callable[..., Reply]:
        def guarded(*args: str, http: Any, **kwargs: Any) -> Reply:
            wait = self._over_limit()
            if wait is not None:
                return error(429, TOO_MANY, "TooManyRequests", **{"retry-after": str(wait)})
            if http.headers.get("authorization") != f"Bearer {TOKEN}":
                return error(401, "Malformed Authorization header", "Unauthorized")  # [U]
            if self.account_token and http.headers.get("x-pf-store-id") != STORE_ID:
                return error(400, "This API endpoint requires store_id parameter")  # [U]
            return handler(*args, http=http, **kwargs)

        return guarded

    def _over_limit(self) -> int | None:
        """Seconds to wait when the last 60 s already served `per_minute` requests."""
        now = time.monotonic()
        with self._window_lock:
            while self.served and self.served[0] <= now - 60:
                self.served.popleft()
            if len(self.served) >= self.per_minute:
                return max(1, math.ceil(self.served[0] + 60 - now))
            self.served.append(now)
            self.served_times.append(now)
        return None

    def peak_per_minute(self) -> int:
        """The most requests served in any 60 s (what Printful's limit counts)."""
        times, peak, start = sorted(self.served_times), 0, 0
        for end, moment in enumerate(times):
            while times[start] <= moment - 60:
                start += 1
            peak = max(peak, end - start + 1)
        return peak

    # -- orders ---------------------------------------------------------------------------

    def inject(self, fault: Fault, times: int = 1) -> None:
        self.faults.extend([fault] * times)

    def _create(self, *, query: dict[str, str], body: Any, **_: Any) -> Reply:
        fault = self.faults.popleft() if self.faults else Fault()
        if fault.status and not fault.after_create:
            headers = {"retry-after": fault.retry_after} if fault.retry_after else {}
            return error(fault.status, "Service unavailable", "ServerError", **headers)
        if not isinstance(body, dict):
            return error(400, "Invalid request: missing order element")
        problem = self._validate(body)
        if problem:
            return error(400, problem)
        external = body.get("external_id")
        with self.lock:
            if external and self.reject_duplicates and self._by_external(str(external)):
                return error(  # wording from the docs' error table; placement [U]
                    400,
                    "The external_id provided already exists and cannot be used",
                    "EXTERNAL_ID_IN_USE",
                )
            confirmed = query.get("confirm") in ("true", "1")
            order = self._stored(body, "pending" if confirmed else "draft")
            self.created[str(external)] += 1
        if fault.sleep_after_accept_s:
            time.sleep(fault.sleep_after_accept_s)
            return -1, None, {}
        if fault.after_create:
            return error(fault.status or 500, "Internal server error", "ServerError")
        return ok(order)

    def _validate(self, body: dict[str, Any]) -> str:
        external = body.get("external_id")
        if external is not None and not EXTERNAL_ID.fullmatch(str(external)):
            return f"Invalid external_id: {external}"  # [U] wording
        recipient = body.get("recipient")
        if not isinstance(recipient, dict):
            return "Recipient is required"
        for field in ("name", "address1", "city", "country_code"):
            if not recipient.get(field):
                return f"Recipient: {field} is required"
        country = recipient["country_code"]
        if country in ("US", "CA", "AU") and not recipient.get("state_code"):
            return f"Recipient: state_code is required for {country}"
        if country == "US" and not recipient.get("zip"):
            return "Recipient: zip is required"
        items = body.get("items")
        if not isinstance(items, list) or not items:
            return "Invalid order items: items must be a non-empty array"  # OR-5
        for position, item in enumerate(items):
            problem = self._item_problem(position, item)
            if problem:
                return problem
        return ""

    def _item_problem(self, position: int, item: Any) -> str:
        variant = item.get("variant_id") if isinstance(item, dict) else None
        if not isinstance(variant, int) or variant not in CATALOG:
            return f"Item {position}: Variant with ID {variant} not found"  # [U] wording
        if variant in self.out_of_stock:
            return f"Item {position}: variant {variant} is out of stock"  # [U] wording
        files = item.get("files")
        if not isinstance(files, list) or not files:
            return f"Item {position}: this product needs print files"
        types = [f.get("type", "default") for f in files if isinstance(f, dict)]
        if len(set(types)) != len(types):
            return f"Item {position}: multiple files for one placement (DUPLICATED_FILE_TYPE)"
        for placed in files:
            if placed.get("type", "default") not in CATALOG[variant]["types"]:
                return f"Item {position}: file type {placed.get('type')} is not supported"
            if not str(placed.get("url", "")).startswith(("http://", "https://")):
                return f"Item {position}: invalid file URL (FL-2)"
        return ""

    def _stored(self, body: dict[str, Any], status: str) -> dict[str, Any]:
        self._next_id += 1
        order = {
            "id": self._next_id,
            "external_id": body.get("external_id"),
            "store": int(STORE_ID),
            "status": status,
            "shipping": body.get("shipping", "STANDARD"),
            "created": int(time.time()),
            "updated": int(time.time()),
            "recipient": body["recipient"],
            "items": self._items(body["items"]),
            "shipments": [],
            "costs": dict(COSTS),
        }
        self.orders[order["id"]] = order
        return order

    def _items(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        stored = []
        for item in items:
            self._next_item += 1
            variant = CATALOG[item["variant_id"]]
            stored.append(
                {
                    "id": self._next_item,
                    "external_id": item.get("external_id"),
                    "variant_id": item["variant_id"],
                    "quantity": item.get("quantity", 1),
                    "name": item.get("name") or variant["name"],
                    "sku": item.get("sku"),
                    "product": {"variant_id": item["variant_id"], "name": variant["name"]},
                    "files": [
                        {"type": f.get("type", "default"), "url": f["url"], "status": "ok"}
                        for f in item["files"]
                    ],
                }
            )
        return stored

    def _by_external(self, external: str) -> dict[str, Any] | None:
        return next((o for o in self.orders.values() if o["external_id"] == external), None)

    def _find(self, key: str) -> dict[str, Any] | None:
        if key.startswith("@"):
            return self._by_external(key[1:])
        return self.orders.get(int(key))

    def _get(self, key: str, **_: Any) -> Reply:
        order = self._find(key)
        return ok(order) if order else error(404, "Not Found", "NotFound")

    def _update(self, key: str, *, body: Any, **_: Any) -> Reply:
        order = self._find(key)
        if order is None:
            return error(404, "Not Found", "NotFound")
        if order["status"] not in EDITABLE:
            return error(400, NOT_EDITABLE, "ORDER_NO_LONGER_EDITABLE")
        problem = self._validate(body) if isinstance(body, dict) else "Invalid JSON"
        if problem:
            return error(400, problem)
        with self.lock:
            order["recipient"] = body["recipient"]
            order["items"] = self._items(body["items"])
            order["status"] = "draft"  # [U]: a fixed failed order waits for confirmation
            order["updated"] = int(time.time())
        return ok(order)

    def _confirm(self, key: str, **_: Any) -> Reply:
        order = self._find(key)
        if order is None:
            return error(404, "Not Found", "NotFound")
        if order["id"] in self.costs_pending:
            return error(400, "Order costs are still being calculated")  # [U] wording
        if order["status"] != "draft":
            return error(400, f"Only draft orders can be confirmed ({order['status']})")  # [U]
        order["status"] = "pending"
        return ok(order)

    def _cancel(self, key: str, **_: Any) -> Reply:
        order = self._find(key)
        if order is None:
            return error(404, "Not Found", "NotFound")
        if order["status"] not in CANCELLABLE:
            return error(400, f"Order with status {order['status']} cannot be canceled")  # [U]
        order["status"] = "canceled"
        return ok(order)

    def _variant(self, key: str, **_: Any) -> Reply:
        variant = CATALOG.get(int(key)) if key.isdigit() else None
        if variant is None:
            return error(404, "Variant not found", "NotFound")  # [U] wording
        return ok(
            {
                "variant": {"id": int(key), "product_id": variant["product_id"], "in_stock": True},
                "product": {"id": variant["product_id"], "title": variant["name"]},
            }
        )

    # -- what tests drive ---------------------------------------------------------------

    def order(self, external_id: str) -> dict[str, Any]:
        found = self._by_external(external_id)
        assert found is not None, f"Printful has no order {external_id}"
        return found

    def set_status(self, external_id: str, status: str) -> None:
        self.order(external_id)["status"] = status

    def send_back_to_draft(self, external_id: str) -> bytes:
        """Costs could not be calculated: the confirmed order is a draft again, and
        confirming is refused until the hold lifts. Returns `order_put_hold`."""
        order = self.order(external_id)
        order["status"] = "draft"
        order["costs"] = dict(CALCULATING)
        self.costs_pending.add(order["id"])
        return self.delivery("order_put_hold", order, reason="Costs are being calculated")

    def remove_hold(self, external_id: str) -> bytes:
        order = self.order(external_id)
        order["costs"] = dict(COSTS)
        self.costs_pending.discard(order["id"])
        return self.delivery("order_remove_hold", order, reason="Costs calculated")

    def ship(
        self,
        external_id: str,
        tracking: str,
        carrier: str = "USPS",
        lines: dict[str, int] | None = None,
    ) -> bytes:
        """A shipment of `lines` (item external_id -> units; all items when None);
        the order is `partial` or `fulfilled`. Returns the `package_shipped` body."""
        order = self.order(external_id)
        wanted = lines or {i["external_id"]: i["quantity"] for i in order["items"]}
        self._next_shipment += 1
        shipment = {
            "id": self._next_shipment,
            "carrier": carrier,
            "service": f"{carrier} First Class Package",
            "tracking_number": tracking,
            "tracking_url": f"https://www.printful.com/track/{tracking}",
            "created": int(time.time()),
            "ship_date": time.strftime("%Y-%m-%d"),
            "shipped_at": int(time.time()),
            "reshipment": False,
            "items": [
                {"item_id": i["id"], "quantity": wanted[i["external_id"]]}
                for i in order["items"]
                if i["external_id"] in wanted
            ],
        }
        order["shipments"].append(shipment)
        shipped = Counter[str]()
        for parcel in order["shipments"]:
            for entry in parcel["items"]:
                shipped[str(entry["item_id"])] += entry["quantity"]
        done = all(shipped[str(i["id"])] >= i["quantity"] for i in order["items"])
        order["status"] = "fulfilled" if done else "partial"
        return self.delivery("package_shipped", order, shipment=shipment)

    def delivery(self, kind: str, order: dict[str, Any], **data: Any) -> bytes:
        """The body of a v1 webhook delivery (`{type, created, retries, store, data}`)."""
        body = {
            "type": kind,
            "created": int(time.time()),
            "retries": 0,
            "store": int(STORE_ID),
            "data": {**data, "order": order},
        }
        return json.dumps(body).encode()

    def duplicates(self) -> int:
        return sum(count - 1 for count in self.created.values() if count > 1)
