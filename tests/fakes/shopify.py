# ruff: noqa: E501  (Shopify's schema and shop records, one record to a line)
"""A faithful fake Shopify shop on 127.0.0.1: the Admin GraphQL API and webhooks.

Follows Shopify's public documentation (the shared api-notes-providers.md,
section D), never podops' code:
- `POST /admin/api/{version}/graphql.json` with `X-Shopify-Access-Token`
  (401 `{"errors": "[API] Invalid API key or access token ..."}` otherwise; an
  unknown version is 404); the query is parsed, validated and executed by
  graphql-core against `shopify_schema.SDL`, over an in-memory shop (orders,
  line items, fulfillment orders, fulfillments, holds);
- `POST /admin/oauth/access_token` (client-credentials grant) gives tokens
  that expire after `token_lifetime_s`;
- cost: requested cost over 1,000 is MAX_COST_EXCEEDED; a leaky bucket (1,000
  points, `restore_rate` a second, 100 as on Standard plans) must hold the
  requested cost or the answer is `THROTTLED` (HTTP 200, `actualQueryCost`
  null); the actual cost is charged; every answer carries `extensions.cost`;
- connections page by cursor (`first` at most 250, `after`, `pageInfo {hasNextPage
  endCursor}`): an order's fulfillment orders, their line items and their
  fulfillments (`FulfillmentOrder.fulfillments`); `Order.fulfillments(first:)` is a
  plain list that `first` truncates, as in Shopify;
- fulfillment orders are OPEN, IN_PROGRESS, SCHEDULED (`fulfillAt`, prepaid
  subscriptions), ON_HOLD (each hold with `handle`, `heldByApp`, and
  `heldByRequestingApp`: true only for holds the token's app, podops, placed),
  CLOSED, CANCELLED or INCOMPLETE;
- `fulfillmentCreate`, `fulfillmentOrderOpen`, `fulfillmentOrderHold`,
  `fulfillmentOrderReleaseHold` answer `userErrors` with HTTP 200 where Shopify
  would (a quantity over what remains, a fulfillment order that is not OPEN or
  IN_PROGRESS - scheduled, on hold, closed - a SCHEDULED one only opens, a
  release of one not held). The exact wording of these userErrors is ours: Shopify
  documents that they come, not their text;
- `deliver(...)` posts a webhook with Shopify's headers and the REST body shape
  (`line_items[].properties[{name, value}]`, `current_quantity`).
Shop states per test: `add_order(groups=[...])` (lines shared out over several
fulfillment orders), `schedule(fo, when)`, `add_delivery(order, when)` (a prepaid
subscription's later delivery), `hold_by(fo, app)` (another app's hold, or the
merchant's with `app=None`), `fulfil_by_hand`.
Faults per test: `state.lose_answer` (apply a mutation, then drop the connection),
`state.errors_next` (answer the next query with these GraphQL errors).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import httpx
from graphql import OperationDefinitionNode, execute, parse, validate

from tests.fakes.shopify_schema import SCHEMA, SINGLE_QUERY_LIMIT, actual_cost, requested_cost

ACCESS_TOKEN = "shpat_test_0123456789abcdef"
CLIENT_ID = "client-id-test"
CLIENT_SECRET = "shpss_test_secret"
VERSIONS = frozenset({"2025-07", "2025-10", "2026-01"})
_SINCE = re.compile(r"updated_at:>'([^']+)'")
_ID = re.compile(r"\bid:(\d+)")
REQUESTING_APP = "podops"
"""The app the access token belongs to: its holds are `heldByRequestingApp`."""
DONE = ("CLOSED", "CANCELLED")


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ShopState:
    """The shop's orders and its cost bucket; every change under `lock`."""

    def __init__(self, restore_rate: float = 100.0, maximum: float = 1000.0) -> None:
        self.lock = threading.RLock()
        self.orders: dict[int, dict[str, Any]] = {}
        self.maximum, self.restore_rate = maximum, restore_rate
        self.available, self.at = maximum, time.monotonic()
        self.throttled = 0
        self.charged = 0
        """Points charged to the bucket (actual costs) since the shop started."""
        self.queries: list[str] = []
        self.mutations: list[dict[str, Any]] = []
        self.tokens: dict[str, float] = {ACCESS_TOKEN: float("inf")}
        self.grants = 0
        self.token_lifetime_s = 86_399.0
        self.lose_answer: set[str] = set()
        self.errors_next: list[dict[str, Any]] = []
        self.fail_after_queries: int | None = None
        """Answer every query after this many with a GraphQL error (a shop gone wrong)."""
        self._ids = iter(range(5000, 10**9))

    def next_id(self) -> int:
        return next(self._ids)

    # --- the bucket ---
    def _refill(self) -> None:
        now = time.monotonic()
        self.available = min(self.maximum, self.available + (now - self.at) * self.restore_rate)
        self.at = now

    def cost_status(self, requested: int, actual: int | None) -> dict[str, Any]:
        return {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": {
                "maximumAvailable": self.maximum,
                "currentlyAvailable": int(self.available),
                "restoreRate": self.restore_rate,
            },
        }

    # --- orders ---
    def add_order(
        self,
        number: int,
        *,
        lines: list[dict[str, Any]] | None = None,
        updated_at: datetime | None = None,
        financial: str = "PAID",
        address: dict[str, Any] | None = None,
        groups: list[int] | None = None,
    ) -> dict[str, Any]:
        """An order as Shopify keeps it; each line `{sku, quantity, properties: {k: v}}`.
        `groups`: how many lines go in each fulfillment order, in order (default: one
        fulfillment order with every line, as for a shop with one location)."""
        with self.lock:
            order_id = self.next_id()
            moment = updated_at or datetime.now(UTC)
            items = []
            for spec in lines or [{"sku": "TEE-1", "quantity": 1}]:
                quantity = int(spec.get("quantity", 1))
                items.append({
                    "id": self.next_id(), "sku": spec.get("sku", "TEE-1"),
                    "name": spec.get("name", "Tee"), "quantity": quantity,
                    "currentQuantity": int(spec.get("current", quantity)),
                    "properties": dict(spec.get("properties") or {}),
                    "price": str(spec.get("price", "20.00")),
                })  # fmt: skip
            order = {
                "id": order_id, "name": f"#{number}", "createdAt": iso(moment - timedelta(minutes=1)),
                "updatedAt": iso(moment), "cancelledAt": None, "cancelReason": None,
                "financial": financial, "email": f"buyer{number}@example.com", "phone": None,
                "note": "", "currency": "USD", "shippingTitle": "Standard", "shippingCode": "STD",
                "address": address if address is not None else {
                    "firstName": "Ada", "lastName": "Lovelace", "company": None,
                    "address1": "1 Main St", "address2": "", "city": "Springfield",
                    "provinceCode": "IL", "zip": "62701", "countryCodeV2": "US", "phone": "555-0100",
                },
                "items": items, "holds": [], "fulfillments": [],
            }  # fmt: skip
            sizes = groups or [len(items)]
            if sum(sizes) != len(items):
                raise ValueError("groups must share out every line")
            order["fulfillmentOrders"] = []
            start = 0
            for size in sizes:
                fo_lines = [
                    {"id": self.next_id(), "item": i, "remaining": i["currentQuantity"]}
                    for i in items[start : start + size]
                ]
                start += size
                order["fulfillmentOrders"].append({
                    "id": self.next_id(), "status": "OPEN", "lines": fo_lines, "holds": [],
                    "fulfillAt": None,
                })  # fmt: skip
            self.orders[order_id] = order
            return order

    def schedule(self, fo: dict[str, Any], fulfill_at: datetime) -> None:
        """The fulfillment order waits for `fulfill_at` (a prepaid subscription's next
        delivery, a pre-order): SCHEDULED until then."""
        with self.lock:
            fo["status"], fo["fulfillAt"] = "SCHEDULED", iso(fulfill_at)

    def add_delivery(self, order: dict[str, Any], fulfill_at: datetime) -> dict[str, Any]:
        """A later delivery of a prepaid subscription: a SCHEDULED fulfillment order with
        every line of the order again."""
        with self.lock:
            fo = {"id": self.next_id(), "status": "SCHEDULED", "holds": [],
                  "fulfillAt": iso(fulfill_at),
                  "lines": [{"id": self.next_id(), "item": i, "remaining": i["currentQuantity"]}
                            for i in order["items"]]}  # fmt: skip
            order["fulfillmentOrders"].append(fo)
            return fo

    def hold_by(
        self,
        fo: dict[str, Any],
        app: str | None,
        reason: str = "HIGH_RISK_OF_FRAUD",
        notes: str | None = None,
        handle: str = "",
    ) -> dict[str, Any]:
        """A hold placed by another app (`app`: its title) or by the merchant in
        Shopify's admin (`app=None`)."""
        with self.lock:
            hold = {"id": self.next_id(), "reason": reason, "reasonNotes": notes,
                    "handle": handle, "app": app}  # fmt: skip
            fo["holds"].append(hold)
            fo["status"] = "ON_HOLD"
            return hold

    def touch(self, order: dict[str, Any]) -> None:
        previous = datetime.fromisoformat(order["updatedAt"])
        order["updatedAt"] = iso(max(datetime.now(UTC), previous + timedelta(seconds=1)))

    def fulfil_by_hand(
        self, order: dict[str, Any], tracking: str = "1Z999AA10123456784", *, first: int = 0
    ) -> None:
        """The merchant fulfils every open unit in Shopify's admin (no app involved), or
        the units of the `first` lines only."""
        with self.lock:
            lines, fos = [], []
            for fo in order["fulfillmentOrders"]:
                for line in fo["lines"][: first or None]:
                    if line["remaining"] > 0:
                        lines.append((line["item"]["id"], line["remaining"]))
                        line["remaining"] = 0
                        fos.append(fo["id"])
                left = any(line["remaining"] > 0 for line in fo["lines"])
                fo["status"] = "IN_PROGRESS" if left else "CLOSED"
            order["fulfillments"].append({
                "id": self.next_id(), "notify": True, "lines": lines, "fos": sorted(set(fos)),
                "tracking": [{"company": "UPS", "number": tracking, "url": None}],
            })  # fmt: skip
            self.touch(order)

    def cancel(self, order: dict[str, Any]) -> None:
        with self.lock:
            order["cancelledAt"] = iso(datetime.now(UTC))
            order["cancelReason"] = "CUSTOMER"
            self.touch(order)

    def refund_line(self, order: dict[str, Any], index: int, units: int) -> None:
        with self.lock:
            item = order["items"][index]
            item["currentQuantity"] = max(0, item["currentQuantity"] - units)
            for fo in order["fulfillmentOrders"]:
                for line in fo["lines"]:
                    if line["item"] is item:
                        line["remaining"] = min(line["remaining"], item["currentQuantity"])
            order["financial"] = "PARTIALLY_REFUNDED"
            self.touch(order)


def fulfillment_status(order: dict[str, Any]) -> str:
    """`displayFulfillmentStatus`: by the fulfillments made and the units left."""
    left = any(line["remaining"] > 0 for fo in order["fulfillmentOrders"] for line in fo["lines"])
    if not order["fulfillments"]:
        return "UNFULFILLED"
    return "PARTIALLY_FULFILLED" if left else "FULFILLED"


def _gid(kind: str, number: int) -> str:
    return f"gid://shopify/{kind}/{number}"


def _num(gid: Any) -> int:
    try:
        return int(str(gid).rsplit("/", 1)[-1])
    except ValueError:
        return -1


def _money(amount: str) -> dict[str, Any]:
    return {"shopMoney": {"amount": amount, "currencyCode": "USD"}}


def _connection(items: list[Any], first: int | None, after: str | None, key: Any) -> dict[str, Any]:
    if first is None or not 0 <= first <= 250:
        raise ValueError("first must be between 0 and 250")
    start = 0
    if after:
        mark = json.loads(base64.b64decode(after))
        start = next((i for i, item in enumerate(items) if key(item) > tuple(mark)), len(items))
    chunk = items[start : start + first]
    end = base64.b64encode(json.dumps(list(key(chunk[-1]))).encode()).decode() if chunk else None
    return {
        "nodes": chunk,
        "pageInfo": {"hasNextPage": start + first < len(items), "hasPreviousPage": start > 0,
                     "endCursor": end, "startCursor": None},
    }  # fmt: skip


class Views:
    """The shop's state as GraphQL objects (dicts, with callables for fields that take args)."""

    def __init__(self, state: ShopState) -> None:
        self.state = state

    def order(self, o: dict[str, Any]) -> dict[str, Any]:
        fulfilled = fulfillment_status(o)
        return {
            "id": _gid("Order", o["id"]), "legacyResourceId": str(o["id"]), "name": o["name"],
            "createdAt": o["createdAt"], "updatedAt": o["updatedAt"],
            "cancelledAt": o["cancelledAt"], "cancelReason": o["cancelReason"],
            "displayFinancialStatus": o["financial"],
            "displayFulfillmentStatus": fulfilled,
            "email": o["email"], "phone": o["phone"], "note": o["note"], "currencyCode": o["currency"],
            "totalPriceSet": _money(f"{sum(float(i['price']) * i['quantity'] for i in o['items']):.2f}"),
            "totalShippingPriceSet": _money("5.00"),
            "shippingAddress": o["address"] or None,
            "shippingLine": {"title": o["shippingTitle"], "code": o["shippingCode"]},
            "lineItems": lambda _info, first=None, after=None: _connection(
                [self.line(i) for i in o["items"]], first, after, lambda n: (n["id"],)),
            "fulfillmentOrders": lambda _info, first=None, after=None: _connection(
                [self.fulfillment_order(fo) for fo in o["fulfillmentOrders"]], first, after,
                lambda n: (n["id"],)),
            "fulfillments": lambda _info, first=None: [
                self.fulfillment(f) for f in o["fulfillments"][: first or None]
            ],
        }  # fmt: skip

    def fulfillment(self, f: dict[str, Any]) -> dict[str, Any]:
        return {"id": _gid("Fulfillment", f["id"]), "status": "SUCCESS",
                "trackingInfo": lambda _i, first=None: f["tracking"][: first or None]}  # fmt: skip

    def hold(self, h: dict[str, Any]) -> dict[str, Any]:
        app = h.get("app", REQUESTING_APP)
        return {
            "id": _gid("FulfillmentHold", h["id"]), "reason": h["reason"],
            "reasonNotes": h.get("reasonNotes"), "handle": h.get("handle"),
            "displayReason": str(h["reason"]).replace("_", " ").capitalize(),
            "heldByApp": None if app is None else {"id": _gid("App", abs(hash(app)) % 10**6),
                                                   "title": app},
            "heldByRequestingApp": app == REQUESTING_APP,
        }  # fmt: skip

    def line(self, i: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": _gid("LineItem", i["id"]), "sku": i["sku"], "name": i["name"],
            "quantity": i["quantity"], "currentQuantity": i["currentQuantity"],
            "unfulfilledQuantity": i["currentQuantity"],
            "customAttributes": [{"key": k, "value": v} for k, v in i["properties"].items()],
            "originalUnitPriceSet": _money(i["price"]),
        }  # fmt: skip

    def fulfillment_order(self, fo: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": _gid("FulfillmentOrder", fo["id"]), "status": fo["status"],
            "fulfillAt": fo.get("fulfillAt"),
            "fulfillmentHolds": [self.hold(h) for h in fo["holds"]],
            "fulfillments": lambda _info, first=None, after=None: _connection(
                [self.fulfillment(f) for f in self._order_of(fo)["fulfillments"]
                 if fo["id"] in f.get("fos", ())],
                first, after, lambda n: (_num(n["id"]),)),
            "lineItems": lambda _info, first=None, after=None: _connection(
                [{"id": _gid("FulfillmentOrderLineItem", line["id"]),
                  "remainingQuantity": line["remaining"], "totalQuantity": line["item"]["quantity"],
                  "lineItem": self.line(line["item"])} for line in fo["lines"]],
                first, after, lambda n: (_num(n["id"]),)),
        }  # fmt: skip

    def _order_of(self, fo: dict[str, Any]) -> dict[str, Any]:
        return next(o for o in self.state.orders.values() if fo in o["fulfillmentOrders"])


class Resolvers:
    """The root fields: queries over the orders, and the fulfillment mutations."""

    def __init__(self, state: ShopState) -> None:
        self.state, self.views = state, Views(state)

    def root(self) -> dict[str, Any]:
        return {
            "orders": self.orders, "ordersCount": self.orders_count, "order": self.order,
            "fulfillmentOrder": self.fulfillment_order,
            "fulfillmentCreate": self.fulfillment_create, "fulfillmentOrderOpen": self.open,
            "fulfillmentOrderHold": self.hold, "fulfillmentOrderReleaseHold": self.release,
        }  # fmt: skip

    def _matching(self, query: str | None) -> list[dict[str, Any]]:
        found = list(self.state.orders.values())
        since = _SINCE.search(query or "")
        if since:
            moment = datetime.fromisoformat(since.group(1))
            found = [o for o in found if datetime.fromisoformat(o["updatedAt"]) > moment]
        wanted = _ID.search(query or "")
        if wanted:
            found = [o for o in found if o["id"] == int(wanted.group(1))]
        return found

    def orders(
        self,
        _info: Any,
        first: int | None = None,
        after: str | None = None,
        sortKey: str = "ID",
        reverse: bool = False,
        query: str | None = None,
    ) -> Any:
        found = self._matching(query)
        key = (
            (lambda o: (o["updatedAt"], o["id"]))
            if sortKey == "UPDATED_AT"
            else (lambda o: (o["id"],))
        )
        found.sort(key=key, reverse=reverse)
        page = _connection(found, first, after, key)
        page["nodes"] = [self.views.order(o) for o in page["nodes"]]
        return page

    def orders_count(self, _info: Any, query: str | None = None, limit: int | None = 10000) -> Any:
        count = len(self._matching(query))
        return {"count": min(count, limit or count), "precision": "EXACT"}

    def order(self, _info: Any, id: str) -> Any:
        found = self.state.orders.get(_num(id))
        return self.views.order(found) if found else None

    def fulfillment_order(self, _info: Any, id: str) -> Any:
        found = self._fulfillment_order(id)
        return self.views.fulfillment_order(found[1]) if found else None

    def _fulfillment_order(self, gid: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        wanted = _num(gid)
        for order in self.state.orders.values():
            for fo in order["fulfillmentOrders"]:
                if fo["id"] == wanted:
                    return order, fo
        return None

    def fulfillment_create(
        self, _info: Any, fulfillment: dict[str, Any], message: str | None = None
    ) -> Any:
        groups = fulfillment["lineItemsByFulfillmentOrder"]
        if not groups:
            return _refused(["fulfillment"], "Line items by fulfillment order can't be blank.")
        plan = []
        order = None
        touched = []
        for group in groups:
            found = self._fulfillment_order(group["fulfillmentOrderId"])
            if found is None:
                return _refused(["fulfillment"], "Fulfillment order does not exist.")
            if order is not None and found[0] is not order:
                return _refused(
                    ["fulfillment"], "All fulfillment orders must belong to the same order."
                )
            order, fo = found
            touched.append(fo["id"])
            if fo["status"] not in ("OPEN", "IN_PROGRESS"):
                return _refused(["fulfillment"], f"Fulfillment order {fo['id']} has an "
                                f"unfulfillable status= {fo['status'].lower()}.")  # fmt: skip
            asked = group.get("fulfillmentOrderLineItems")
            if not asked:  # Shopify: left blank, every line item of the fulfillment order
                asked = [{"id": _gid("FulfillmentOrderLineItem", x["id"]), "quantity": x["remaining"]}
                         for x in fo["lines"] if x["remaining"] > 0]  # fmt: skip
            for wanted in asked:
                line = next((x for x in fo["lines"] if x["id"] == _num(wanted["id"])), None)
                if line is None or not 0 < wanted["quantity"] <= line["remaining"]:
                    return _refused(
                        ["fulfillment"], "Invalid fulfillment order line item quantity requested."
                    )
                plan.append((line, wanted["quantity"]))
        assert order is not None
        for line, quantity in plan:
            line["remaining"] -= quantity
        for fo in order["fulfillmentOrders"]:
            if fo["id"] not in touched:
                continue
            done = all(x["remaining"] == 0 for x in fo["lines"])
            fo["status"] = "CLOSED" if done else "IN_PROGRESS"
        info = fulfillment.get("trackingInfo") or {}
        record = {"id": self.state.next_id(), "notify": bool(fulfillment.get("notifyCustomer")),
                  "tracking": [{"company": info.get("company"), "number": info.get("number"),
                                "url": info.get("url")}],
                  "lines": [(line["item"]["id"], q) for line, q in plan],
                  "fos": sorted(set(touched))}  # fmt: skip
        order["fulfillments"].append(record)
        self.state.mutations.append({"fulfillmentCreate": record, "order": order["id"]})
        self.state.touch(order)
        return {"fulfillment": {"id": _gid("Fulfillment", record["id"]), "status": "SUCCESS",
                                "trackingInfo": record["tracking"]}, "userErrors": []}  # fmt: skip

    def hold(self, _info: Any, id: str, fulfillmentHold: dict[str, Any]) -> Any:
        found = self._fulfillment_order(id)
        if found is None:
            return _refused(["id"], "Fulfillment order does not exist.")
        order, fo = found
        if fo["status"] not in ("OPEN", "IN_PROGRESS", "ON_HOLD"):
            return _refused(
                ["id"], "The fulfillment order's assigned fulfillment service must be of api type"
            )
        handle = fulfillmentHold.get("handle") or ""
        if any(h["handle"] == handle and h.get("app", REQUESTING_APP) == REQUESTING_APP
               for h in fo["holds"]):  # fmt: skip
            return _refused(
                ["fulfillmentHold", "handle"],
                "The handle provided for the fulfillment hold is already in use by this app for another hold on this fulfillment order.",
            )
        hold = {"id": self.state.next_id(), "reason": fulfillmentHold["reason"],
                "reasonNotes": fulfillmentHold.get("reasonNotes"), "handle": handle,
                "app": REQUESTING_APP}  # fmt: skip
        fo["holds"].append(hold)
        fo["status"] = "ON_HOLD"
        self.state.mutations.append({"fulfillmentOrderHold": hold, "order": order["id"]})
        self.state.touch(order)
        return {"fulfillmentOrder": self.views.fulfillment_order(fo), "userErrors": []}

    def release(self, _info: Any, id: str, holdIds: list[str] | None = None) -> Any:
        found = self._fulfillment_order(id)
        if found is None:
            return _refused(["id"], "Fulfillment order does not exist.")
        order, fo = found
        if fo["status"] != "ON_HOLD":
            return _refused(["id"], "The fulfillment order is not in a releasable status.")
        ids = {_num(h) for h in holdIds} if holdIds else {h["id"] for h in fo["holds"]}
        if not ids <= {h["id"] for h in fo["holds"]}:
            return _refused(["holdIds"], "Invalid hold ids provided.")
        fo["holds"] = [h for h in fo["holds"] if h["id"] not in ids]
        if not fo["holds"]:
            fo["status"] = "OPEN"
        self.state.mutations.append(
            {"fulfillmentOrderReleaseHold": sorted(ids), "order": order["id"]}
        )
        self.state.touch(order)
        return {"fulfillmentOrder": self.views.fulfillment_order(fo), "userErrors": []}

    def open(self, _info: Any, id: str) -> Any:
        """`fulfillmentOrderOpen`: a SCHEDULED fulfillment order becomes OPEN now."""
        found = self._fulfillment_order(id)
        if found is None:
            return _refused(["id"], "Fulfillment order does not exist.")
        order, fo = found
        if fo["status"] != "SCHEDULED":
            return _refused(["id"], "Fulfillment order must be scheduled to be marked as open.")
        fo["status"] = "OPEN"
        self.state.mutations.append({"fulfillmentOrderOpen": fo["id"], "order": order["id"]})
        self.state.touch(order)
        return {"fulfillmentOrder": self.views.fulfillment_order(fo), "userErrors": []}


def _refused(field: list[str], message: str) -> dict[str, Any]:
    return {"userErrors": [{"field": field, "message": message}]}


def run_graphql(state: ShopState, payload: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """One GraphQL request: (answer, name of the mutation applied or None)."""
    try:
        document = parse(str(payload.get("query") or ""))
    except Exception as exc:  # graphql.GraphQLError: a syntax error
        return {"errors": [{"message": str(exc)}]}, None
    problems = validate(SCHEMA, document)
    if problems:
        return {"errors": [{"message": e.message} for e in problems]}, None
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    variables = payload.get("variables") or {}
    with state.lock:
        if state.fail_after_queries is not None and len(state.queries) >= state.fail_after_queries:
            return {
                "errors": [
                    {
                        "message": "Internal error. Looks like something went wrong on our end.",
                        "extensions": {"code": "INTERNAL_SERVER_ERROR"},
                    }
                ]
            }, None
        if state.errors_next:
            errors, state.errors_next = state.errors_next, []
            return {"errors": errors}, None
        requested = requested_cost(operation, variables)
        state._refill()
        if requested > SINGLE_QUERY_LIMIT:
            return {"errors": [{"message": f"Query cost is {requested}, which exceeds the single "
                                "query max cost limit (1000).", "extensions": {
                                    "code": "MAX_COST_EXCEEDED", "cost": requested,
                                    "maxCost": SINGLE_QUERY_LIMIT}}]}, None  # fmt: skip
        if requested > state.available:
            state.throttled += 1
            return {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                    "extensions": {"cost": state.cost_status(requested, None)}}, None  # fmt: skip
        result = execute(SCHEMA, document, root_value=Resolvers(state).root(),
                         variable_values=variables)  # fmt: skip
        data = result.data
        actual = actual_cost(operation, variables, data)
        state.available -= actual
        state.charged += actual
        answer: dict[str, Any] = {
            "data": data,
            "extensions": {"cost": state.cost_status(requested, actual)},
        }
        if result.errors:
            answer["errors"] = [{"message": e.message} for e in result.errors]
        state.queries.append(operation.name.value if operation.name else "")
        mutation = (
            operation.selection_set.selections[0].name.value
            if operation.operation.value == "mutation"
            else None
        )  # type: ignore[attr-defined]
        return answer, mutation


def rest_body(order: dict[str, Any]) -> dict[str, Any]:
    """An order as Shopify's webhooks send it (REST Admin API shape)."""
    a = order["address"] or None
    return {
        "id": order["id"], "admin_graphql_api_id": _gid("Order", order["id"]), "name": order["name"],
        "created_at": order["createdAt"], "updated_at": order["updatedAt"],
        "cancelled_at": order["cancelledAt"],
        "cancel_reason": order["cancelReason"].lower() if order["cancelReason"] else None,
        "financial_status": order["financial"].lower(), "email": order["email"],
        "fulfillment_status": {"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial"}.get(
            fulfillment_status(order)),
        "phone": order["phone"], "note": order["note"], "currency": order["currency"],
        "total_price": f"{sum(float(i['price']) * i['quantity'] for i in order['items']):.2f}",
        "total_shipping_price_set": {"shop_money": {"amount": "5.00", "currency_code": "USD"}},
        "shipping_address": None if a is None else {
            "first_name": a["firstName"], "last_name": a["lastName"], "company": a["company"],
            "address1": a["address1"], "address2": a["address2"], "city": a["city"],
            "province_code": a["provinceCode"], "zip": a["zip"], "country_code": a["countryCodeV2"],
            "phone": a["phone"],
        },
        "shipping_lines": [{"title": order["shippingTitle"], "code": order["shippingCode"]}],
        "line_items": [
            {"id": i["id"], "admin_graphql_api_id": _gid("LineItem", i["id"]), "sku": i["sku"],
             "name": i["name"], "quantity": i["quantity"], "current_quantity": i["currentQuantity"],
             "price": i["price"],
             "properties": [{"name": k, "value": v} for k, v in i["properties"].items()]}
            for i in order["items"]
        ],
    }  # fmt: skip


def _handler_for(state: ShopState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_args: Any) -> None:
            pass

        def _send(self, status: int, body: Any) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length") or 0))
            if self.path == "/admin/oauth/access_token":
                return self._grant(raw)
            match = re.fullmatch(r"/admin/api/([^/]+)/graphql\.json", self.path)
            if match is None or match.group(1) not in VERSIONS:
                return self._send(404, {"errors": "Not Found"})
            token = self.headers.get("x-shopify-access-token", "")
            if state.tokens.get(token, 0.0) < time.monotonic():
                return self._send(401, {"errors": "[API] Invalid API key or access token "
                                        "(unrecognized login or wrong password)"})  # fmt: skip
            answer, mutation = run_graphql(state, json.loads(raw or b"{}"))
            if mutation is not None and mutation in state.lose_answer:
                state.lose_answer.discard(mutation)
                self.close_connection = True
                return
            self._send(200, answer)

        def _grant(self, raw: bytes) -> None:
            form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            if form.get("grant_type") != "client_credentials":
                return self._send(400, {"error": "unsupported_grant_type"})
            if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
                return self._send(401, {"error": "invalid_client",
                                        "error_description": "Client authentication failed"})  # fmt: skip
            token = f"shpat_granted_{uuid.uuid4().hex}"
            with state.lock:
                state.tokens[token] = time.monotonic() + state.token_lifetime_s
                state.grants += 1
            scope = "read_orders,write_merchant_managed_fulfillment_orders"
            self._send(200, {"access_token": token, "scope": scope,
                             "expires_in": int(state.token_lifetime_s)})  # fmt: skip

    return Handler


class FakeShopify:
    """Run with `with FakeShopify() as shop:`; `shop.url` is the shop's address."""

    def __init__(self, *, restore_rate: float = 100.0) -> None:
        self.state = ShopState(restore_rate=restore_rate)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self.state))
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> FakeShopify:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def webhook_headers(raw: bytes, topic: str, secret: str = CLIENT_SECRET,
                    webhook_id: str | None = None) -> dict[str, str]:  # fmt: skip
    """The headers Shopify sends with a delivery."""
    digest = base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()
    return {
        "content-type": "application/json",
        "x-shopify-topic": topic,
        "x-shopify-hmac-sha256": digest,
        "x-shopify-shop-domain": "podops-test.myshopify.com",
        "x-shopify-api-version": "2025-10",
        "x-shopify-webhook-id": webhook_id or str(uuid.uuid4()),
        "x-shopify-triggered-at": iso(datetime.now(UTC)),
        "x-shopify-event-id": str(uuid.uuid4()),
    }


def deliver(client: Any, path: str, order: dict[str, Any], topic: str, *,
            secret: str = CLIENT_SECRET, webhook_id: str | None = None) -> httpx.Response:  # fmt: skip
    """Post one webhook for `order` as Shopify does (REST body, signed)."""
    raw = json.dumps(rest_body(order)).encode()
    return client.post(path, content=raw, headers=webhook_headers(raw, topic, secret, webhook_id))


@contextmanager
def running_shop(**kwargs: Any) -> Iterator[FakeShopify]:
    with FakeShopify(**kwargs) as shop:
        yield shop
