"""A fake Printify API v1 on 127.0.0.1, following the public notes (api-notes-providers.md, B).

Orders: `POST /v1/shops/{shop}/orders.json` creates an order (`{"id": <24 hex>}`)
that waits `on-hold` (a shop set to manual approval); `POST
.../orders/{id}/send_to_production.json` moves it to `sending-to-production`
(the order JSON back); `advance` and `ship` move it on (`in-production`,
`fulfilled` with `shipments[]`). `GET .../orders.json?page=&limit=` lists
newest first in Laravel's paging envelope; `GET .../orders/{id}.json` reads
one; `POST .../orders/{id}/cancel.json` cancels while `on-hold` or
`payment-not-received`. Our `external_id` comes back only as
`metadata.shop_order_id` (Printify does not echo `external_id`), and a repeated
`external_id` is ACCEPTED (Printify documents no refusal), so a double shows
in `created`. The catalog answers
`GET /v1/catalog/blueprints/{b}/print_providers/{p}/variants.json`.

Every request needs `Authorization: Bearer TOKEN` and a User-Agent. Errors use
the shape `{"status": "error", "code", "message", "errors": {"reason", "code"}}`
(assumed [U]: Printify's error body is not published). More than
`per_minute` requests in any 60 s (600, Printify's account limit) are answered
429 with `Retry-After` [U]. Faults per test: queued on create or on
send_to_production (a status such as 500/429, or "create, then 500" / "create,
then sleep past the client timeout"); `latency_s` on every request.
`signed_delivery` builds a webhook delivery with the real `X-Pfy-Signature`.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from collections import Counter, deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tests.fakes.customcat import FakeHttpServer, Reply

TOKEN = "pfy-personal-access-token-test"
LINE_COST = 1050
"""What each unit costs the shop, in cents (Printify's own example's `cost`)."""
SHOP_ID = "4242"
WEBHOOK_SECRET = "pfy-webhook-secret-test"
CATALOG: dict[tuple[int, int], dict[int, tuple[str, ...]]] = {
    (6, 99): {12100: ("front", "back"), 12101: ("front", "back"), 12102: ("front", "back")},
    (68, 1): {33719: ("front",)},
}
"""(blueprint, print provider) -> variant -> print areas (a Gildan tee, an 11oz mug)."""
CANCELLABLE = frozenset({"on-hold", "payment-not-received"})


def error(status: int, code: int, message: str, reason: str = "") -> Reply:
    body: dict[str, Any] = {"status": "error", "code": code, "message": message}
    if reason:
        body["errors"] = {"reason": reason, "code": code}
    return status, body, {}


@dataclass
class Fault:
    status: int = 0
    """Answer this status (nothing created), or with `after_create`, after creating."""
    retry_after: str | None = None
    after_create: bool = False
    sleep_after_create_s: float = 0.0
    """Create the order, then answer nothing until the client gave up."""


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S+00:00")


class FakePrintify(FakeHttpServer):
    def __init__(self, *, per_minute: int = 600) -> None:
        super().__init__()
        self.per_minute = per_minute
        self.orders: dict[str, dict[str, Any]] = {}
        """Printify order id -> order JSON, in creation order."""
        self.created: Counter[str] = Counter()
        """Orders created per external_id: a double submission shows as 2."""
        self.faults: deque[Fault] = deque()
        self.send_faults: deque[Fault] = deque()
        self.refused: list[int] = []
        """The status of every error answer (Printify watches the error rate)."""
        self.catalog = {key: dict(value) for key, value in CATALOG.items()}
        self._window: deque[float] = deque()
        self._ids = itertools.count(0x5A96F649B2439217D0700000)
        shop = rf"/v1/shops/{SHOP_ID}"
        self.route("POST", rf"{shop}/orders\.json", self._create)
        self.route("GET", rf"{shop}/orders\.json", self._list)
        self.route("GET", rf"{shop}/orders/([0-9a-f]{{24}})\.json", self._get)
        self.route("POST", rf"{shop}/orders/([0-9a-f]{{24}})/send_to_production\.json", self._send)
        self.route("POST", rf"{shop}/orders/([0-9a-f]{{24}})/cancel\.json", self._cancel)
        self.route(
            "GET",
            r"/v1/catalog/blueprints/(\d+)/print_providers/(\d+)/variants\.json",
            self._variants,
        )

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    # The gate every request passes: auth, User-Agent, the per-minute limit --------

    def _dispatch(self, http: Any) -> None:
        gate = self._gate(http)
        if gate is None:
            return super()._dispatch(http)
        status, payload, headers = gate
        length = int(http.headers.get("content-length") or 0)
        if length:
            http.rfile.read(length)
        data = json.dumps(payload).encode()
        with self.lock:
            self.requests.append((http.command, http.path.split("?")[0]))
            self.request_times.append(time.monotonic())
            self.refused.append(status)
        http.send_response(status)
        for key, value in {"content-type": "application/json", **headers}.items():
            http.send_header(key, value)
        http.send_header("content-length", str(len(data)))
        http.end_headers()
        http.wfile.write(data)

    def _gate(self, http: Any) -> Reply | None:
        now = time.monotonic()
        with self.lock:
            while self._window and now - self._window[0] >= 60:
                self._window.popleft()
            if len(self._window) >= self.per_minute:
                wait = max(1, int(60 - (now - self._window[0])) + 1)
                status, body, _ = error(429, 429, "Too Many Attempts.")
                return status, body, {"retry-after": str(wait)}
            self._window.append(now)
        if http.headers.get("authorization") != f"Bearer {TOKEN}":
            return error(401, 401, "Unauthenticated.")
        if not http.headers.get("user-agent"):
            return error(400, 400, "Bad Request", "User-Agent header is required")
        return None

    def inject(self, fault: Fault, times: int = 1) -> None:
        self.faults.extend([fault] * times)

    def inject_on_send(self, fault: Fault, times: int = 1) -> None:
        self.send_faults.extend([fault] * times)

    def _refuse(self, reply: Reply) -> Reply:
        with self.lock:
            self.refused.append(reply[0])
        return reply

    # Orders ---------------------------------------------------------------------

    def _create(self, *, body: Any, **_: Any) -> Reply:
        fault = self.faults.popleft() if self.faults else Fault()
        if fault.status and not fault.after_create:
            headers = {"retry-after": fault.retry_after} if fault.retry_after else {}
            return self._refuse(
                (fault.status, {"status": "error", "message": "Server Error"}, headers)
            )
        problem = self._validate(body)
        if problem:
            return self._refuse(error(400, 8150, "Validation failed.", problem))
        order = self._new_order(body)
        if fault.sleep_after_create_s:
            time.sleep(fault.sleep_after_create_s)
            return -1, None, {}
        if fault.after_create:
            return self._refuse(
                (fault.status or 500, {"status": "error", "message": "Server Error"}, {})
            )
        return 200, {"id": order["id"]}, {}

    def _validate(self, body: Any) -> str:
        if not isinstance(body, dict):
            return "The request body must be a JSON object"
        address = body.get("address_to")
        if not isinstance(address, dict):
            return "address_to is required"
        for field in ("first_name", "country", "address1", "city", "zip"):
            if not str(address.get(field) or "").strip():
                return f"address_to.{field} is required"
        if body.get("shipping_method") not in (1, 2, 3, 4):
            return "shipping_method must be one of 1, 2, 3, 4"
        items = body.get("line_items")
        if not isinstance(items, list) or not items:
            return "line_items is required"
        for index, item in enumerate(items):
            problem = self._check_item(index, item)
            if problem:
                return problem
        return ""

    def _check_item(self, index: int, item: Any) -> str:
        where = f"line_items.{index}"
        if not isinstance(item, dict):
            return f"{where} must be an object"
        ids = [item.get(k) for k in ("blueprint_id", "print_provider_id", "variant_id")]
        if not all(isinstance(i, int) for i in ids):
            return f"{where}: blueprint_id, print_provider_id and variant_id are required"
        blueprint, provider, variant = ids
        offered = self.catalog.get((blueprint, provider))
        if offered is None:
            return f"{where}: print provider {provider} is not available for blueprint {blueprint}"
        if variant not in offered:
            return f"{where}: variant {variant} is not available"
        if not isinstance(item.get("quantity"), int) or item["quantity"] < 1:
            return f"{where}.quantity must be at least 1"
        areas = item.get("print_areas")
        if not isinstance(areas, dict) or not areas:
            return f"{where}.print_areas is required"
        for placement, url in areas.items():
            if placement not in offered[variant]:
                return (
                    f"{where}.print_areas: {placement!r} is not a print area of variant {variant}"
                )
            if not str(url).startswith(("http://", "https://")):
                return f"{where}.print_areas.{placement} must be an image URL"
        return ""

    def _new_order(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            order_id = f"{next(self._ids):024x}"
            self.created[str(body.get("external_id", ""))] += 1
            order = {
                "id": order_id,
                "address_to": body["address_to"],
                "line_items": [
                    {
                        "product_id": f"{next(self._ids):024x}",
                        "quantity": item["quantity"],
                        "variant_id": item["variant_id"],
                        "print_provider_id": item["print_provider_id"],
                        "cost": LINE_COST,
                        "shipping_cost": 400,
                        "status": "on-hold",
                        "metadata": {"title": "API product", "sku": f"{next(self._ids) % 10**9}"},
                        "sent_to_production_at": None,
                        "fulfilled_at": None,
                    }
                    for item in body["line_items"]
                ],
                "metadata": {
                    "order_type": "api",
                    "shop_order_id": body.get("external_id"),
                    "shop_order_label": body.get("label"),
                },
                # Cents in the shop's currency: the products' cost, shipping and tax.
                "total_price": sum(LINE_COST * item["quantity"] for item in body["line_items"]),
                "total_shipping": 400,
                "total_tax": 0,
                "status": "on-hold",
                "shipping_method": body["shipping_method"],
                "is_printify_express": bool(body.get("is_printify_express")),
                "is_economy_shipping": bool(body.get("is_economy_shipping")),
                "shipments": [],
                "created_at": _now(),
                "sent_to_production_at": None,
                "fulfilled_at": None,
                "print_areas": [i["print_areas"] for i in body["line_items"]],
            }
            self.orders[order_id] = order
        return order

    def _public(self, order: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in order.items() if k != "print_areas"}

    def _list(self, *, query: dict[str, str], **_: Any) -> Reply:
        try:
            page, limit = int(query.get("page", "1")), int(query.get("limit", "10"))
        except ValueError:
            return self._refuse(
                error(400, 8150, "Validation failed.", "page and limit are numbers")
            )
        if not 1 <= limit <= 10 or page < 1:
            return self._refuse(
                error(400, 8150, "Validation failed.", "limit may not be greater than 10")
            )
        with self.lock:
            newest = [self._public(o) for o in reversed(self.orders.values())]
        last = max(1, -(-len(newest) // limit))
        start = (page - 1) * limit
        return (
            200,
            {
                "current_page": page,
                "data": newest[start : start + limit],
                "last_page": last,
                "per_page": limit,
                "total": len(newest),
            },
            {},
        )

    def _get(self, order_id: str, **_: Any) -> Reply:
        order = self.orders.get(order_id)
        if order is None:
            return self._refuse(error(404, 404, "Not found."))
        return 200, self._public(order), {}

    def _send(self, order_id: str, **_: Any) -> Reply:
        fault = self.send_faults.popleft() if self.send_faults else Fault()
        if fault.status and not fault.after_create:
            headers = {"retry-after": fault.retry_after} if fault.retry_after else {}
            return self._refuse(
                (fault.status, {"status": "error", "message": "Server Error"}, headers)
            )
        order = self.orders.get(order_id)
        if order is None:
            return self._refuse(error(404, 404, "Not found."))
        if order["status"] not in ("on-hold", "pending"):
            return self._refuse(
                error(400, 8502, "Operation failed.", f"Order is {order['status']}, not on hold")
            )
        order["status"] = "sending-to-production"
        order["sent_to_production_at"] = _now()
        if fault.sleep_after_create_s:
            time.sleep(fault.sleep_after_create_s)
            return -1, None, {}
        if fault.after_create:
            return self._refuse(
                (fault.status or 500, {"status": "error", "message": "Server Error"}, {})
            )
        return 200, self._public(order), {}

    def _cancel(self, order_id: str, **_: Any) -> Reply:
        order = self.orders.get(order_id)
        if order is None:
            return self._refuse(error(404, 404, "Not found."))
        if order["status"] not in CANCELLABLE:
            return self._refuse(
                error(
                    400,
                    8503,
                    "Operation failed.",
                    f"Order is {order['status']} and can't be canceled",
                )
            )
        order["status"] = "canceled"
        return 200, self._public(order), {}

    def _variants(self, blueprint: str, provider: str, **_: Any) -> Reply:
        offered = self.catalog.get((int(blueprint), int(provider)))
        if offered is None:
            return self._refuse(error(404, 404, "Not found."))
        variants = [
            {
                "id": variant,
                "title": f"Variant {variant}",
                "options": {},
                "placeholders": [{"position": p, "height": 3995, "width": 3153} for p in areas],
            }
            for variant, areas in offered.items()
        ]
        return 200, {"id": int(provider), "title": "Provider", "variants": variants}, {}

    # Test helpers -------------------------------------------------------------

    def by_reference(self, reference: str) -> list[dict[str, Any]]:
        return [o for o in self.orders.values() if o["metadata"]["shop_order_id"] == reference]

    def advance(self, order_id: str, status: str = "in-production") -> None:
        self.orders[order_id]["status"] = status

    def ship(self, order_id: str, number: str, carrier: str = "usps") -> None:
        order = self.orders[order_id]
        order["shipments"].append(
            {
                "carrier": carrier,
                "number": number,
                "url": f"https://t.example/{number}",
                "delivered_at": None,
            }
        )
        order["status"] = "fulfilled"
        order["fulfilled_at"] = _now()

    def duplicates(self) -> int:
        return sum(count - 1 for count in self.created.values() if count > 1)

    def signed_delivery(
        self,
        topic: str,
        order_id: str,
        *,
        secret: str = WEBHOOK_SECRET,
        data: dict[str, Any] | None = None,
    ) -> tuple[dict[str, str], bytes]:
        """A webhook delivery as Printify sends it: the envelope and `X-Pfy-Signature`."""
        event = {
            "id": f"{next(self._ids):024x}",
            "type": topic,
            "created_at": _now(),
            "resource": {
                "id": order_id,
                "type": "order",
                "data": data
                if data is not None
                else {"shop_id": int(SHOP_ID), "status": "fulfilled"},
            },
        }
        body = json.dumps(event).encode()
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return {"Content-Type": "application/json", "X-Pfy-Signature": f"sha256={digest}"}, body
