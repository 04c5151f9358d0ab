"""A fake CustomCat API on 127.0.0.1, following the public notes (api-notes.md, section B).

`POST /api/v1/order/{YOUR_ORDER_ID}` with `api_key` in the body creates an
order (`{ORDER_ID, CUSTOMCAT_ORDER_ID, MSG}`); a repeated id is rejected;
`GET /api/v1/order/status/{id}?api_key=` reports ORDER_STATUS, SHIPMENTS and
LINE_ITEMS; `DELETE /api/v1/order/{id}` cancels while awaiting production.
A refusal carries its reason in the `X-FAIL-MESSAGE` response header with an
empty body, as the public clients expect (they read that header, and mock the
refusal as a bare status with it; docs/fulfillment.md says what is assumed).
`shipping_phone` is required (public clients refuse to send an order without
one); `shipping_address2` is not.

Faults per test: queued HTTP errors (500, 429 + Retry-After), an answer of an
unexpected shape, "accept then sleep past the client timeout", a fixed latency
(or one on order creation only, or on some references),
unknown or out-of-stock catalog SKUs and rejected addresses. `reject_duplicates=False` turns
off the duplicate check, so a double submission shows up as two orders.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

API_KEY = "cc-write-key-test"

Reply = tuple[int, Any, dict[str, str]]
FAIL_HEADER = "X-FAIL-MESSAGE"


def refuse(status: int, reason: str, headers: dict[str, str] | None = None) -> Reply:
    """CustomCat's refusal: the status, the reason in X-FAIL-MESSAGE, no body."""
    return status, None, {**(headers or {}), FAIL_HEADER: reason}


Route = tuple[str, re.Pattern[str], Callable[..., Reply]]


class FakeHttpServer:
    """A threaded JSON server with regex routes; subclasses add the routes."""

    def __init__(self) -> None:
        self.routes: list[Route] = []
        self.requests: list[tuple[str, str]] = []
        self.request_times: list[float] = []
        self.latency_s = 0.0
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return

            def _handle(self) -> None:
                fake._dispatch(self)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeHttpServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def route(self, method: str, pattern: str, handler: Callable[..., Reply]) -> None:
        self.routes.append((method, re.compile(f"^{pattern}$"), handler))

    def _dispatch(self, http: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(http.path)
        length = int(http.headers.get("content-length") or 0)
        raw = http.rfile.read(length) if length else b""
        with self.lock:
            self.requests.append((http.command, parts.path))
            self.request_times.append(time.monotonic())
        if self.latency_s:
            time.sleep(self.latency_s)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        body = json.loads(raw) if raw else None
        for method, pattern, handler in self.routes:
            match = pattern.match(parts.path)
            if match and method == http.command:
                args = [unquote(g) for g in match.groups()]
                status, payload, headers = handler(*args, query=query, body=body, http=http)
                break
        else:
            status, payload, headers = 404, {"error": "no route"}, {}
        if status < 0:  # the handler slept past the client's timeout: drop the line
            return
        data = b"" if payload is None else json.dumps(payload).encode()
        try:
            http.send_response(status)
            for key, value in {"content-type": "application/json", **headers}.items():
                http.send_header(key, value)
            http.send_header("content-length", str(len(data)))
            http.end_headers()
            http.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            return


@dataclass
class Fault:
    status: int = 0
    retry_after: str | None = None
    weird: bool = False
    sleep_after_accept_s: float = 0.0
    echo_request: bool = False
    """A 400 whose message quotes the request's fields, key included (as validation
    errors of many APIs do)."""


class FakeCustomCat(FakeHttpServer):
    def __init__(self, *, reject_duplicates: bool = True) -> None:
        super().__init__()
        self.reject_duplicates = reject_duplicates
        self.submit_latency_s = 0.0
        """Extra time creating an order takes (lookups stay fast): a slow provider."""
        self.slow_refs: dict[str, float] = {}
        """Extra time creating these references takes: one slow call among quick ones."""
        self.orders: dict[str, dict[str, Any]] = {}
        self.created: Counter[str] = Counter()
        self.faults: deque[Fault] = deque()
        self.lookup_faults: deque[Fault] = deque()
        """Errors (429 + Retry-After, 5xx) for status lookups, apart from creation's."""
        self.unknown_skus: set[str] = set()
        self.out_of_stock_skus: set[str] = set()
        """Catalog SKUs refused as out of stock (the wording is assumed: CustomCat's page
        does not give it; docs/fulfillment.md)."""
        self.rejected_zips: set[str] = set()
        self._next_id = 700000
        self.route("POST", r"/api/v1/order/([^/]+)", self._create)
        self.route("GET", r"/api/v1/order/status/([^/]+)", self._status)
        self.route("DELETE", r"/api/v1/order/([^/]+)", self._cancel)

    @property
    def base_url(self) -> str:
        return f"{self.url}/api/v1"

    def inject(self, fault: Fault, times: int = 1) -> None:
        self.faults.extend([fault] * times)

    def _create(self, ref: str, *, body: Any, **_: Any) -> Reply:
        if not isinstance(body, dict) or body.get("api_key") != API_KEY:
            return refuse(401, "Invalid API key")
        if self.submit_latency_s or ref in self.slow_refs:
            time.sleep(self.submit_latency_s + self.slow_refs.get(ref, 0.0))
        fault = self.faults.popleft() if self.faults else Fault()
        if fault.echo_request:
            quoted = ", ".join(f"{k}={v}" for k, v in body.items() if isinstance(v, str))
            return 400, {"MSG": f"Invalid shipping_method in request ({quoted})"}, {}
        if fault.status:
            headers = {"retry-after": fault.retry_after} if fault.retry_after else {}
            return refuse(fault.status, "Service unavailable", headers)
        problem = self._validate(body)
        if problem:
            return refuse(400, problem)
        with self.lock:
            if ref in self.orders and self.reject_duplicates:
                return refuse(400, f"Order ID {ref} already exists")
            self._next_id += 1
            self.created[ref] += 1
            self.orders.setdefault(
                ref, {"id": self._next_id, "status": "Pending", "body": body, "shipments": []}
            )
        if fault.sleep_after_accept_s:
            time.sleep(fault.sleep_after_accept_s)
            return -1, None, {}
        if fault.weird:
            return 200, ["Order added successfully"], {}
        order_id = self.orders[ref]["id"]
        message = {
            "ORDER_ID": ref,
            "CUSTOMCAT_ORDER_ID": order_id,
            "MSG": "Order added successfully",
        }
        return 200, message, {}

    def _validate(self, body: dict[str, Any]) -> str:
        for field in ("shipping_email", "shipping_phone", "shipping_address1", "shipping_zip"):
            if not body.get(field):
                return f"{field} is required"
        if body["shipping_zip"] in self.rejected_zips:
            return "Shipping address could not be verified: check the ZIP code"
        for item in body.get("items") or []:
            if item.get("catalog_sku") in self.unknown_skus:
                return f"Invalid catalog_sku {item['catalog_sku']}"
            if item.get("catalog_sku") in self.out_of_stock_skus:
                return f"catalog_sku {item['catalog_sku']} is out of stock"
            if not str(item.get("design_url", "")).startswith(("http://", "https://")):
                return "design_url must be a direct download link"
            back = item.get("design_url_back")
            if back is not None and not str(back).startswith(("http://", "https://")):
                return "design_url_back must be a direct download link"
        return ""

    def _status(self, ref: str, *, query: dict[str, str], **_: Any) -> Reply:
        if query.get("api_key") != API_KEY:
            return refuse(401, "Invalid API key")
        if self.lookup_faults:
            fault = self.lookup_faults.popleft()
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            return refuse(fault.status, "Too many requests", headers)
        order = self.orders.get(ref)
        if order is None:
            return refuse(404, "Order not found")
        items = order["body"]["items"]
        return (
            200,
            {
                "ORDER_ID": ref,
                "CUSTOMCAT_ORDER_ID": order["id"],
                "ORDER_STATUS": order["status"],
                "ORDER_TOTAL": order.get("total", "21.50"),
                "ORDER_DATE": "March, 27 2018 12:14:45",
                "SHIPMENTS": order["shipments"],
                "LINE_ITEMS": [
                    {"STATUS": order["status"], "PRODUCT_NAME": i["catalog_sku"]} for i in items
                ],
            },
            {},
        )

    def _cancel(self, ref: str, *, query: dict[str, str], **_: Any) -> Reply:
        if query.get("api_key") != API_KEY:
            return refuse(401, "Invalid API key")
        order = self.orders.get(ref)
        if order is None:
            return refuse(404, "Order not found")
        if order["status"] not in ("Pending", "Verified"):
            return refuse(400, f"Order is {order['status']} and can no longer be cancelled")
        order["status"] = "Cancelled"
        return 200, {"MSG": "Order cancelled"}, {}

    def set_status(self, ref: str, status: str) -> None:
        self.orders[ref]["status"] = status

    def ship(self, ref: str, tracking: str, vendor: str = "USPS", items: int = 1) -> None:
        order = self.orders[ref]
        order["shipments"].append(
            {"TRACKING_ID": tracking, "METHOD": "Economy", "VENDOR": vendor, "NUMBER_ITEMS": items}
        )
        order["status"] = "Shipped"

    def duplicates(self) -> int:
        return sum(count - 1 for count in self.created.values() if count > 1)
