"""A faithful fake WooCommerce shop on 127.0.0.1 (REST API v3 + Shipment Tracking).

Follows the public docs (see the shared api-notes.md, section A): order list
with `per_page` 1..100 (else 400 rest_invalid_param), `orderby` limited to
date|id|include|title|slug, `modified_after` + `dates_are_gmt`, the
X-WP-Total / X-WP-TotalPages / Link headers, the `{"code","message","data"}`
error shape, PUT status, order notes and shipment trackings (routes and state:
`woocommerce_routes.py`). Faults (429 with Retry-After, 5xx, slow answers, a
shop that is down, a firewall in front, a redirect) are injected per test.

Authentication as WooCommerce's `class-wc-rest-authentication.php` does it:
- over https (the default: a certificate from the test CA, `shop.ca_bundle`), the
  `consumer_key`/`consumer_secret` query parameters first, else HTTP Basic; a
  wrong secret for a known key is 401 "Consumer secret is invalid."; no key, or
  an unknown one, leaves the request unauthenticated: 401
  `woocommerce_rest_cannot_view` (what a host that strips the Authorization
  header gets: `state.strip_authorization`);
- over plain http (`FakeWooCommerce(tls=False)`) only OAuth 1.0a is read: keys in
  the query or a Basic header are ignored, so the answer is that same 401. The
  fake does not verify OAuth signatures (podops never signs): a complete set of
  `oauth_*` parameters is refused as an invalid signature.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.tls import TLSServer, test_ca
from tests.fakes.woocommerce_orders import sample_order
from tests.fakes.woocommerce_routes import Fault, Firewall, ShopState, error_body, route

CONSUMER_KEY = "ck_test_0123456789"
CONSUMER_SECRET = "cs_test_abcdef"
OAUTH_PARAMS = (
    "oauth_consumer_key",
    "oauth_timestamp",
    "oauth_nonce",
    "oauth_signature",
    "oauth_signature_method",
)
UNAUTHENTICATED = ("woocommerce_rest_cannot_view", "Sorry, you cannot list resources.", 401)

__all__ = ["CONSUMER_KEY", "CONSUMER_SECRET", "FakeWooCommerce", "Firewall", "running_shop"]


class FakeWooCommerce:
    """Run with `with FakeWooCommerce() as shop:`; `shop.url` is the site address."""

    def __init__(self, *, tls: bool = True) -> None:
        self.state = ShopState()
        self.server = TLSServer(("127.0.0.1", 0), _handler_for(self.state))
        self.server.daemon_threads = True
        self.server.ssl_context = test_ca().server_context() if tls else None
        self.ca_bundle = str(test_ca().bundle)
        """The PEM file a client trusts to reach this shop (the store's `ca_bundle`)."""
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> FakeWooCommerce:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def add(self, *orders: dict[str, Any]) -> None:
        for order in orders:
            self.state.put(order)

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 500,
        retry_after: int | None = None,
        method: str | None = None,
    ) -> None:
        self.state.faults.extend(Fault(status, retry_after, 0.0, method) for _ in range(count))

    def answer_now(self) -> None:
        """Let delayed answers leave at once (the test saw what it waited for)."""
        self.state.hurry.set()

    def delay_next(self, count: int, seconds: float, *, method: str | None = None) -> None:
        """Answer late (the request is still carried out, like a slow real shop)."""
        self.state.faults.extend(Fault(0, None, seconds, method) for _ in range(count))


def _handler_for(state: ShopState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        wbufsize = -1  # headers and body leave in one write (no 40 ms delayed-ACK stall)
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_PUT(self) -> None:
            self._serve("PUT")

        def _serve(self, method: str) -> None:
            started = time.perf_counter()
            url = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            with state.lock:
                state.requests.append((method, url.path))
                if "authorization" in self.headers or "consumer_key" in query:
                    state.keys_received += 1
                fault = self._take_fault(method)
            if fault is not None and fault.delay_s:
                state.hurry.wait(fault.delay_s)
            elif fault is not None:
                self._fail(fault)
                return
            if state.down:
                self._send(*error_body("http_service_unavailable", "Service Unavailable", 503))
                return
            if self._in_front(url.path, url.query):
                return
            auth = self._auth(query)
            if auth is not None:
                self._send(*auth)
                return
            status, payload, headers = route(state, method, url.path, query, body, self)
            self._send(status, payload, headers)
            state.busy_s += time.perf_counter() - started

        def _take_fault(self, method: str) -> Fault | None:
            for index, fault in enumerate(state.faults):
                if fault.method in (None, method):
                    return state.faults.pop(index)
            return None

        def _fail(self, fault: Fault) -> None:
            headers = (
                {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            )
            code = "rate_limited" if fault.status == 429 else "internal_server_error"
            self._send(*error_body(code, "Try again later.", fault.status), headers)

        def _in_front(self, path: str, query: str) -> bool:
            """What answers before WooCommerce does: a firewall, a redirecting host."""
            if state.firewall is not None:
                wall = state.firewall
                self._send(wall.status, wall.body, wall.headers, content_type="text/html")
                return True
            if state.redirect_to is not None:
                target = state.redirect_to.rstrip("/") + path + (f"?{query}" if query else "")
                self._send(*error_body("moved", "Moved Permanently", 301), {"Location": target})
                return True
            return False

        def _auth(self, query: dict[str, str]) -> tuple[int, Any] | None:
            if self.server.ssl_context is None:  # type: ignore[attr-defined]
                return _oauth_only(query)
            key, secret = query.get("consumer_key"), query.get("consumer_secret")
            header = "" if state.strip_authorization else self.headers.get("authorization", "")
            if not (key and secret) and header.startswith("Basic "):
                key, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            if not (key and secret) or key != CONSUMER_KEY:
                return error_body(*UNAUTHENTICATED)
            if secret != CONSUMER_SECRET:
                return error_body(
                    "woocommerce_rest_authentication_error", "Consumer secret is invalid.", 401
                )
            return None

        def _send(
            self,
            status: int,
            payload: Any,
            headers: dict[str, str] | None = None,
            *,
            content_type: str = "application/json",
        ) -> None:
            raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", f"{content_type}; charset=UTF-8")
                self.send_header("Content-Length", str(len(raw)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(raw)
            except (BrokenPipeError, ConnectionResetError):
                return

    return Handler


def _oauth_only(query: dict[str, str]) -> tuple[int, Any]:
    """Plain http: WooCommerce reads only OAuth 1.0a, and the fake verifies none."""
    missing = [name for name in OAUTH_PARAMS if not query.get(name)]
    if len(missing) == len(OAUTH_PARAMS):
        return error_body(*UNAUTHENTICATED)
    if missing:
        return error_body(
            "woocommerce_rest_authentication_missing_parameter",
            f"Missing OAuth parameter(s) {', '.join(missing)}",
            401,
        )
    return error_body(
        "woocommerce_rest_authentication_error",
        "Invalid signature - provided signature does not match.",
        401,
    )


@contextmanager
def running_shop(count: int = 0, *, start: datetime | None = None) -> Iterator[FakeWooCommerce]:
    """A shop with `count` processing orders created a minute apart."""
    start = start or datetime.now(UTC) - timedelta(days=1)
    with FakeWooCommerce() as shop:
        shop.add(
            *(sample_order(1000 + i, created=start + timedelta(seconds=i)) for i in range(count))
        )
        yield shop
