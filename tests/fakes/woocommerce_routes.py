"""The fake WooCommerce shop's state and routes: order list, one order, notes, refunds,
trackings. The list's `status` is WooCommerce's (default `any`, which leaves out
`trash`; unknown statuses are a 400); refunds are listed in the order with their
totals, their lines only in `GET /orders/<id>/refunds`.

What the public REST API docs say each answers (see the shared api-notes.md,
section A); the server, authentication and faults are in `woocommerce.py`.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlencode

from tests.fakes.woocommerce_orders import gmt, refund_line

STATUSES = {
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "trash",
}
ORDERBY = {"date", "id", "include", "title", "slug"}


@dataclass
class Fault:
    status: int = 500
    retry_after: int | None = None
    delay_s: float = 0.0
    method: str | None = None


@dataclass
class Firewall:
    """A web application firewall in front of the shop: its answer, not WooCommerce's."""

    status: int = 403
    headers: dict[str, str] | None = None
    body: bytes = (
        b"<!DOCTYPE html><html><head><title>Attention Required! | Cloudflare</title></head>"
        b"<body><h1>Sorry, you have been blocked</h1><p>You are unable to access "
        b"shop.example.com</p></body></html>"
    )


class ShopState:
    """Everything the fake shop holds, shared with the request handler threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.orders: dict[int, dict[str, Any]] = {}
        self.cache: dict[int, bytes] = {}
        self.notes: dict[int, list[dict[str, Any]]] = {}
        self.trackings: dict[int, list[dict[str, Any]]] = {}
        self.refunds: dict[int, list[dict[str, Any]]] = {}
        self.broken_refunds: set[int] = set()
        """Orders whose refunds a plugin error keeps the shop from listing (500, every time)."""
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str]] = []
        self.down = False
        self.tracking_extension = True
        self.busy_s = 0.0
        self.hurry = threading.Event()
        """Set: delayed answers leave at once (a test has seen what it waited for)."""
        self.strip_authorization = False
        """A host that drops the Authorization header before PHP (CGI/FastCGI, proxies)."""
        self.firewall: Firewall | None = None
        self.redirect_to: str | None = None
        """Answer every request with 301 to this site address (same path and query)."""
        self.keys_received = 0
        """Requests that carried the consumer key (a header or the query)."""
        self.pages: list[int] = []
        self.trash_pages: list[int] = []
        """The page number of every order list answered (in order)."""
        self.served: list[int] = []
        """The id of every order an order list answered with (repeats included)."""

    def put(self, order: dict[str, Any]) -> None:
        with self.lock:
            self.orders[int(order["id"])] = order
            self.cache.pop(int(order["id"]), None)

    def touch(self, order_id: int, **changes: Any) -> None:
        """Change an order the way the shop admin would (its modification time moves)."""
        with self.lock:
            order = self.orders[order_id]
            order.update(changes)
            order["date_modified_gmt"] = order["date_modified"] = gmt(datetime.now(UTC))
            self.cache.pop(order_id, None)

    def refund(self, order_id: int, lines: dict[int, int], reason: str = "") -> None:
        """Refund `lines` (line id -> quantity) the way the admin does: the refund is
        listed in the order's `refunds` with its (negative) total; its lines only in
        `GET /orders/<id>/refunds`; an order refunded in full becomes `refunded`."""
        with self.lock:
            order = self.orders[order_id]
            items = {int(item["id"]): item for item in order["line_items"]}
            refund_id = 9000 + sum(len(r) for r in self.refunds.values())
            refund_lines = [
                refund_line(refund_id * 100 + n, items[i], q)
                for n, (i, q) in enumerate(lines.items(), start=1)
            ]
            amount = -sum(Decimal(line["total"]) for line in refund_lines)
            now = gmt(datetime.now(UTC))
            self.refunds.setdefault(order_id, []).insert(0, {
                "id": refund_id, "date_created": now, "date_created_gmt": now,
                "amount": f"{amount:.2f}", "reason": reason, "refunded_by": 1,
                "refunded_payment": False, "meta_data": [], "line_items": refund_lines,
            })  # fmt: skip
            order["refunds"] = [
                {"id": r["id"], "reason": r["reason"], "total": f"-{r['amount']}"}
                for r in self.refunds[order_id]
            ]
            refunded = sum(Decimal(r["amount"]) for r in self.refunds[order_id])
            full = refunded >= Decimal(order["total"])
        self.touch(order_id, **({"status": "refunded"} if full else {}))

    def trash(self, order_id: int) -> None:
        """Move an order to the trash the way the admin does (no webhook is sent here)."""
        self.touch(order_id, status="trash")

    def encoded(self, order_id: int) -> bytes:
        cached = self.cache.get(order_id)
        if cached is None:
            cached = self.cache[order_id] = json.dumps(self.orders[order_id]).encode()
        return cached

    def count(self, method: str, fragment: str) -> int:
        return sum(1 for m, p in self.requests if m == method and fragment in p)


def error_body(code: str, message: str, status: int, **data: Any) -> tuple[int, Any]:
    return status, {"code": code, "message": message, "data": {"status": status, **data}}


Answer = tuple[int, Any, dict[str, str]]


def route(
    state: ShopState,
    method: str,
    path: str,
    query: dict[str, str],
    body: bytes,
    handler: BaseHTTPRequestHandler,
) -> Answer:
    parts = [p for p in path.split("/") if p]
    try:
        data = json.loads(body) if body else {}
    except ValueError:
        return (*error_body("rest_invalid_json", "Invalid JSON body passed.", 400), {})
    if parts[:3] == ["wp-json", "wc", "v3"] and parts[3:4] == ["orders"]:
        rest = parts[4:]
        if not rest and method == "GET":
            return list_orders(state, query, path, handler)
        if rest and rest[0].isdigit():
            return order_resource(state, method, int(rest[0]), rest[1:], query, data)
    if parts[:3] == ["wp-json", "wc-shipment-tracking", "v3"] and state.tracking_extension:
        rest = parts[3:]
        if len(rest) == 3 and rest[0] == "orders" and rest[2] == "shipment-trackings":
            return trackings(state, method, int(rest[1]), data)
    return (
        *error_body(
            "rest_no_route", "No route was found matching the URL and request method.", 404
        ),
        {},
    )


def list_orders(
    state: ShopState, query: dict[str, str], path: str, handler: BaseHTTPRequestHandler
) -> Answer:
    per_page, page = int(query.get("per_page", 10)), int(query.get("page", 1))
    if not 1 <= per_page <= 100:
        return (
            *error_body(
                "rest_invalid_param",
                "Invalid parameter(s): per_page",
                400,
                params={"per_page": "per_page must be between 1 (inclusive) and 100 (inclusive)"},
            ),
            {},
        )
    if query.get("orderby", "date") not in ORDERBY:
        return (
            *error_body(
                "rest_invalid_param",
                "Invalid parameter(s): orderby",
                400,
                params={"orderby": "orderby is not one of date, id, include, title, and slug."},
            ),
            {},
        )
    statuses = listed_statuses(query)
    if not statuses <= STATUSES:
        return (*error_body("rest_invalid_param", "Invalid parameter(s): status", 400), {})
    with state.lock:
        chosen = list(state.orders.values())
        if "modified_after" in query:
            field = "date_modified_gmt" if query.get("dates_are_gmt") == "true" else "date_modified"
            chosen = [o for o in chosen if o[field] > query["modified_after"]]
        chosen = [o for o in chosen if o["status"] in statuses]
        key = "id" if query.get("orderby") == "id" else "date_created_gmt"
        chosen.sort(key=lambda o: (o[key], o["id"]), reverse=query.get("order", "desc") == "desc")
        window = chosen[(page - 1) * per_page : page * per_page]
        # The changes listing's pages (a pass's resume is read from these); the
        # trash listing every pass also reads is kept apart.
        (state.trash_pages if statuses == {"trash"} else state.pages).append(page)
        state.served.extend(o["id"] for o in window)
        raw = b"[" + b",".join(state.encoded(o["id"]) for o in window) + b"]"
    total, pages = len(chosen), max(1, -(-len(chosen) // per_page))
    return (
        200,
        raw,
        {
            "X-WP-Total": str(total),
            "X-WP-TotalPages": str(pages),
            "Link": _links(handler, path, query, page, pages),
        },
    )


def listed_statuses(query: dict[str, str]) -> set[str]:
    """What WooCommerce lists for `status` (an array; comma-separated in a query):
    the default `any` is every status but `trash`; `trash` lists only trashed orders."""
    wanted = {s for s in query.get("status", "any").split(",") if s}
    if "any" in wanted:
        return STATUSES - {"trash"}
    return wanted


def _links(
    handler: BaseHTTPRequestHandler, path: str, query: dict[str, str], page: int, pages: int
) -> str:
    host = handler.headers.get("host", "127.0.0.1")
    scheme = "https" if getattr(handler.server, "ssl_context", None) else "http"
    visible = {k: v for k, v in query.items() if k not in ("consumer_key", "consumer_secret")}

    def at(number: int) -> str:
        return f"{scheme}://{host}{path}?{urlencode({**visible, 'page': number})}"

    links = []
    if page > 1:
        links.append(f'<{at(page - 1)}>; rel="prev"')
    if page < pages:
        links.append(f'<{at(page + 1)}>; rel="next"')
    return ", ".join(links)


def order_resource(
    state: ShopState, method: str, order_id: int, rest: list[str], query: dict[str, str], data: Any
) -> Answer:
    if order_id not in state.orders:
        return (*error_body("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404), {})
    if rest == ["refunds"] and method == "GET":
        if order_id in state.broken_refunds:
            return (*error_body("internal_server_error", "There has been a critical error "
                                "on this website.", 500), {})  # fmt: skip
        return 200, state.refunds.get(order_id, []), {}
    if rest == ["notes"]:
        return notes(state, method, order_id, data, query.get("type", "any"))
    if rest or method not in ("GET", "PUT"):
        return (
            *error_body(
                "rest_no_route", "No route was found matching the URL and request method.", 404
            ),
            {},
        )
    if method == "PUT":
        status = data.get("status") if isinstance(data, dict) else None
        if status is not None and status not in STATUSES:
            return (*error_body("rest_invalid_param", "Invalid parameter(s): status", 400), {})
        state.touch(order_id, **({"status": status} if status else {}))
    order = state.orders[order_id]
    if "_fields" in query:
        order = {k: v for k, v in order.items() if k in query["_fields"].split(",")}
    return 200, order, {}


def notes(state: ShopState, method: str, order_id: int, data: Any, kind: str = "any") -> Answer:
    """`type`: any (default), customer (notes the customer sees) or internal (private)."""
    existing = state.notes.setdefault(order_id, [])
    if method == "GET":
        if kind == "customer":
            return 200, [n for n in existing if n["customer_note"]], {}
        if kind == "internal":
            return 200, [n for n in existing if not n["customer_note"]], {}
        return 200, existing, {}
    if not isinstance(data, dict) or not data.get("note"):
        return (*error_body("rest_missing_callback_param", "Missing parameter(s): note", 400), {})
    note = {
        "id": 1000 + len(existing),
        "author": "WooCommerce",
        "date_created": gmt(datetime.now(UTC)),
        "date_created_gmt": gmt(datetime.now(UTC)),
        "note": data["note"],
        "customer_note": bool(data.get("customer_note", False)),
    }
    existing.append(note)
    return 201, note, {}


def trackings(state: ShopState, method: str, order_id: int, data: Any) -> Answer:
    if order_id not in state.orders:
        return (*error_body("woocommerce_rest_order_invalid_id", "Invalid order ID.", 404), {})
    existing = state.trackings.setdefault(order_id, [])
    if method == "GET":
        return 200, existing, {}
    if method != "POST" or not isinstance(data, dict) or not data.get("tracking_number"):
        return (
            *error_body(
                "rest_missing_callback_param", "Missing parameter(s): tracking_number", 400
            ),
            {},
        )
    link = str(data.get("custom_tracking_link", "")).replace("%1$s", data["tracking_number"])
    item = {
        "tracking_id": f"{order_id:08x}{len(existing):024x}",
        "tracking_provider": data.get("tracking_provider")
        or data.get("custom_tracking_provider", ""),
        "tracking_link": link,
        "tracking_number": data["tracking_number"],
        "date_shipped": data.get("date_shipped") or gmt(datetime.now(UTC))[:10],
    }
    existing.append(item)
    base = f"/wp-json/wc-shipment-tracking/v3/orders/{order_id}/shipment-trackings"
    location = f"{base}/{item['tracking_id']}"
    return 201, item, {"Location": location}
