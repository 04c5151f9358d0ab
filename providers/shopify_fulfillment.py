"""What podops tells a Shopify shop: parcels as fulfillments, and staff holds.

A parcel becomes one `fulfillmentCreate` over the order's fulfillment orders
(`lineItemsByFulfillmentOrder`: each line and quantity in the parcel, taken
from the fulfillment orders that still have them), with `trackingInfo
{company, number, url}` and `notifyCustomer` as the store sets it. Carrier names
go as Shopify spells them (`SHOPIFY_CARRIERS`), so Shopify links the tracking
itself; another carrier goes by our name with its link.

No idempotency key is documented for `fulfillmentCreate`, so every push first
re-reads the order's fulfillment orders, their lines and their fulfillments,
page by page (`pageInfo {hasNextPage endCursor}`, each query under Shopify's
1,000-point single-query cost), so an order of any size is seen whole: a
tracking number Shopify already has is ALREADY_THERE, and only
`remainingQuantity` is asked for, so a retry after a lost answer never records a
parcel twice. Lines with nothing left to fulfil (fulfilled in Shopify by hand)
are NOTHING_TO_PUSH.

A tracking number is never dropped quietly. A parcel goes whole or not at all
(a retry finds its number and would not send the rest):
- a SCHEDULED fulfillment order (a prepaid subscription's later delivery, a
  fulfil-at date) is opened first (`fulfillmentOrderOpen`): the parcel has shipped;
- one ON_HOLD is not fulfilled: a StoreHoldsOrder (retried, while the store's
  other pushes go on) names who holds it (another app, the merchant, or podops'
  own staff hold) and what to release; the outbox shows it and retries;
- a line of the parcel that is in none of the order's fulfillment orders is a
  StoreError (not retried) naming it, not a silent "nothing to push".

Shopify has no order status to set: an order is complete when its fulfillment
orders are (`completed` is then NOTHING_TO_PUSH), and cancelling needs the
`write_orders` scope podops does not ask for (the shop cancels in Shopify).
With `push_holds`, `held` puts a hold (handle `podops`) on each open
fulfillment order and `released` releases those holds only (podops' own: its
handle, placed by this app).
`userErrors` are StoreErrors with Shopify's message (outbox -> staff).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from podops.errors import StoreError, StoreHoldsOrder
from podops.ports.store import PushResult, TrackingPush
from podops.refs import in_shell
from podops.settings import StoreConfig
from providers.shopify_graphql import ShopifyGraphQL, check_user_errors
from providers.shopify_mapping import legacy_id, staff_number

log = logging.getLogger(__name__)

HOLD_HANDLE = "podops"
HOLD_NOTE = "Held in podops by staff"
FULFILLABLE = frozenset({"OPEN", "IN_PROGRESS"})
SCHEDULED = "SCHEDULED"
DONE = frozenset({"CLOSED", "CANCELLED"})
"""Nothing is left to fulfil in these (their lines count as found, with nothing left)."""
ORDERS_PAGE, LINES_PAGE, FULFILLMENTS_PAGE, NUMBERS = 5, 40, 5, 10
"""The state query: 5 fulfillment orders of 40 lines and 5 fulfillments (10 tracking
numbers each) costs 763 points; a fulfillment order with more lines or fulfillments
reads the rest on its own (`MORE_LINES`, `MORE_FULFILLMENTS`)."""
MORE_LINES, MORE_FULFILLMENTS = 250, 50
"""503 and 653 points."""
SHOPIFY_CARRIERS = {
    "UPS": "UPS",
    "USPS": "USPS",
    "FedEx": "FedEx",
    "DHL": "DHL Express",
    "Canada Post": "Canada Post",
    "Royal Mail": "Royal Mail",
    "Australia Post": "Australia Post",
    "Asendia": "Asendia USA",
    "APC": "APC",
}
"""podops' carrier name (podops/carriers.py) -> the name in Shopify's list of
supported tracking companies."""

_LINES = "pageInfo { hasNextPage endCursor } nodes { id remainingQuantity lineItem { id } }"
_FULFILLMENTS = (
    "pageInfo { hasNextPage endCursor } nodes { trackingInfo(first: $numbers) { number } }"
)
FULFILLMENT_STATE_QUERY = f"""query PodopsFulfillmentState($id: ID!, $after: String,
    $orders: Int!, $lines: Int!, $fulfillments: Int!, $numbers: Int!) {{
  order(id: $id) {{
    id name
    fulfillmentOrders(first: $orders, after: $after) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{
        id status fulfillAt
        fulfillmentHolds {{
          id handle reason reasonNotes displayReason heldByRequestingApp heldByApp {{ title }}
        }}
        lineItems(first: $lines) {{ {_LINES} }}
        fulfillments(first: $fulfillments) {{ {_FULFILLMENTS} }}
      }}
    }}
  }}
}}"""
MORE_LINES_QUERY = f"""query PodopsFulfillmentOrderLines($id: ID!, $after: String, $lines: Int!) {{
  fulfillmentOrder(id: $id) {{ lineItems(first: $lines, after: $after) {{ {_LINES} }} }}
}}"""
MORE_FULFILLMENTS_QUERY = f"""query PodopsFulfillmentOrderTracking($id: ID!, $after: String,
    $fulfillments: Int!, $numbers: Int!) {{
  fulfillmentOrder(id: $id) {{
    fulfillments(first: $fulfillments, after: $after) {{ {_FULFILLMENTS} }}
  }}
}}"""
FULFILL_MUTATION = """mutation PodopsFulfill($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status }
    userErrors { field message }
  }
}"""
OPEN_MUTATION = """mutation PodopsOpen($id: ID!) {
  fulfillmentOrderOpen(id: $id) {
    fulfillmentOrder { id status }
    userErrors { field message }
  }
}"""
HOLD_MUTATION = """mutation PodopsHold($id: ID!, $hold: FulfillmentOrderHoldInput!) {
  fulfillmentOrderHold(id: $id, fulfillmentHold: $hold) {
    fulfillmentOrder { id status }
    userErrors { field message }
  }
}"""
RELEASE_MUTATION = """mutation PodopsRelease($id: ID!, $holdIds: [ID!]) {
  fulfillmentOrderReleaseHold(id: $id, holdIds: $holdIds) {
    fulfillmentOrder { id status }
    userErrors { field message }
  }
}"""


@dataclass(slots=True)
class FoLine:
    """A fulfillment order's line item: its id, the order line's id, units left."""

    id: str
    line: str
    remaining: int


@dataclass(slots=True)
class FulfillmentOrder:
    id: str
    status: str
    holds: list[dict[str, Any]]
    fulfill_at: str | None = None
    lines: list[FoLine] = field(default_factory=list)


@dataclass(slots=True)
class OrderState:
    """An order's fulfillment orders and tracking numbers, every page read."""

    number: str
    fulfillment_orders: list[FulfillmentOrder] = field(default_factory=list)
    tracking: set[str] = field(default_factory=set)
    """Tracking numbers already on the order's fulfillments (`_plain`)."""


@dataclass(slots=True)
class Plan:
    groups: list[tuple[FulfillmentOrder, list[dict[str, Any]]]]
    """Each fulfillment order with the `{id, quantity}` of its lines in the parcel."""
    blocked: list[FulfillmentOrder]
    """Fulfillment orders that hold units of the parcel but cannot be fulfilled."""


def ours(hold: dict[str, Any]) -> bool:
    """podops' own hold: its handle, placed by this app (another app may use the handle)."""
    return hold.get("handle") == HOLD_HANDLE and hold.get("heldByRequestingApp") is True


def _plain(number: Any) -> str:
    return "".join(str(number or "").split()).upper()


def _page(connection: Any, key: str) -> tuple[list[Any], str | None]:
    """A connection's nodes, and the cursor of the next page (None: the last page)."""
    if not isinstance(connection, dict):
        return [], None
    info = connection.get("pageInfo") or {}
    if info.get("hasNextPage") is not True:
        return list(connection.get("nodes") or []), None
    cursor = info.get("endCursor")
    if not isinstance(cursor, str) or not cursor:
        raise StoreError(f"store {key!r}: Shopify said more follows but gave no cursor to it",
                         retryable=True)  # fmt: skip
    return list(connection.get("nodes") or []), cursor


def _preference(fo: FulfillmentOrder) -> tuple[int, str]:
    """Units come from fulfillable fulfillment orders first, then from scheduled ones,
    earliest delivery first (a prepaid subscription has one per delivery, with the same
    lines); what is left after them falls on held ones."""
    if fo.status in FULFILLABLE:
        return 0, ""
    return (1, fo.fulfill_at or "") if fo.status == SCHEDULED else (2, "")


def shopify_carrier(name: str) -> str:
    return SHOPIFY_CARRIERS.get(name, name)


class ShopifyFulfillment:
    """Push-back to one shop through its fulfillment orders."""

    def __init__(self, key: str, config: StoreConfig, api: ShopifyGraphQL) -> None:
        self.key, self.config, self.api = key, config, api

    def _state(self, order_gid: str) -> OrderState:
        """Every fulfillment order of the order, with every line and tracking number."""
        sizes = {"orders": ORDERS_PAGE, "lines": LINES_PAGE,
                 "fulfillments": FULFILLMENTS_PAGE, "numbers": NUMBERS}  # fmt: skip
        state: OrderState | None = None
        after: str | None = None
        while True:
            variables = {"id": order_gid, "after": after, **sizes}
            data = self.api.query(FULFILLMENT_STATE_QUERY, variables, name="fulfillment orders")
            order = data.get("order")
            if not isinstance(order, dict):
                raise StoreError(f"store {self.key!r}: Shopify has no order {legacy_id(order_gid)}",
                                 retryable=False)  # fmt: skip
            if state is None:
                state = OrderState(staff_number(order.get("name"), legacy_id(order_gid)))
            nodes, following = _page(order.get("fulfillmentOrders"), self.key)
            for node in nodes:
                state.fulfillment_orders.append(self._read(node, state))
            after = self._next(after, following, "fulfillment orders")
            if after is None:
                return state

    def _read(self, node: dict[str, Any], state: OrderState) -> FulfillmentOrder:
        """One fulfillment order, its further lines and fulfillments read page by page."""
        fulfill_at = str(node["fulfillAt"]) if node.get("fulfillAt") else None
        holds = list(node.get("fulfillmentHolds") or [])
        fo = FulfillmentOrder(str(node["id"]), str(node.get("status") or ""), holds, fulfill_at)
        lines, after = _page(node.get("lineItems"), self.key)
        while True:
            for item in lines:
                line = legacy_id((item.get("lineItem") or {}).get("id"))
                fo.lines.append(
                    FoLine(str(item["id"]), line, int(item.get("remainingQuantity") or 0))
                )
            if after is None:
                break
            data = self.api.query(MORE_LINES_QUERY, {"id": fo.id, "after": after,
                                  "lines": MORE_LINES}, name="fulfillment order lines")  # fmt: skip
            lines, following = _page(
                (data.get("fulfillmentOrder") or {}).get("lineItems"), self.key
            )
            after = self._next(after, following, "fulfillment order lines")
        fulfillments, after = _page(node.get("fulfillments"), self.key)
        while True:
            for made in fulfillments:
                state.tracking.update(
                    _plain(t.get("number")) for t in made.get("trackingInfo") or []
                )
            if after is None:
                break
            variables = {"id": fo.id, "after": after, "fulfillments": MORE_FULFILLMENTS,
                         "numbers": NUMBERS}  # fmt: skip
            data = self.api.query(MORE_FULFILLMENTS_QUERY, variables, name="fulfillments")
            fulfillments, following = _page(
                (data.get("fulfillmentOrder") or {}).get("fulfillments"), self.key
            )
            after = self._next(after, following, "fulfillments")
        state.tracking.discard("")
        return fo

    def _next(self, current: str | None, following: str | None, what: str) -> str | None:
        if following is not None and following == current:
            raise StoreError(f"store {self.key!r}: Shopify gave the same page of {what} twice",
                             retryable=True)  # fmt: skip
        return following

    def push_tracking(self, order_gid: str, tracking: TrackingPush) -> PushResult:
        state = self._state(order_gid)
        if _plain(tracking.number) in state.tracking:
            return PushResult.ALREADY_THERE
        plan = self._plan(state, tracking)
        if plan.blocked:
            raise self._blocked(state, plan.blocked, tracking)
        if not plan.groups:
            log.info("store %s: order %s has nothing left to fulfil for parcel %s",
                     self.key, state.number, tracking.number)  # fmt: skip
            return PushResult.NOTHING_TO_PUSH
        groups = []
        for fo, items in plan.groups:
            fo_id = self._open(fo, tracking) if fo.status == SCHEDULED else fo.id
            groups.append({"fulfillmentOrderId": fo_id, "fulfillmentOrderLineItems": items})
        info: dict[str, Any] = {"company": shopify_carrier(tracking.carrier),
                                "number": tracking.number}  # fmt: skip
        if tracking.url:
            info["url"] = tracking.url
        fulfillment = {
            "lineItemsByFulfillmentOrder": groups,
            "notifyCustomer": self.config.notify_customer,
            "trackingInfo": info,
        }
        data = self.api.query(
            FULFILL_MUTATION, {"fulfillment": fulfillment}, name="fulfillmentCreate"
        )
        check_user_errors(data.get("fulfillmentCreate"), f"tracking {tracking.number}", self.key)
        return PushResult.SENT

    def _plan(self, state: OrderState, tracking: TrackingPush) -> Plan:
        """The parcel's lines and units, within what remains: from fulfillable fulfillment
        orders first, then scheduled ones (opened before the push), and what only held
        (or incomplete) ones still have blocks the whole parcel."""
        whole = not tracking.lines
        left: dict[str, int] = {}
        for line, quantity in tracking.lines:
            left[line] = left.get(line, 0) + quantity
        known = {item.line for fo in state.fulfillment_orders for item in fo.lines}
        missing = sorted(line for line, units in left.items() if units > 0 and line not in known)
        if missing:
            raise StoreError(
                f"store {self.key!r}: tracking {tracking.carrier} {tracking.number} of order "
                f"{state.number} was not sent: Shopify's order has no line {', '.join(missing)} "
                "to fulfil (removed by an order edit, or not a shipping item?); add the tracking "
                "to the order in Shopify by hand, then retry the parked message "
                "(`podops outbox parked`)",
                retryable=False,
            )

        plan = Plan([], [])
        for fo in sorted(state.fulfillment_orders, key=_preference):
            if fo.status in DONE:
                continue
            if whole and fo.status == SCHEDULED and plan.groups:
                continue  # the whole order: what is due now, or else the next delivery only
            items = []
            for item in fo.lines:
                take = item.remaining if whole else min(item.remaining, left.get(item.line, 0))
                if take <= 0:
                    continue
                if not whole:
                    left[item.line] -= take
                items.append({"id": item.id, "quantity": take})
            if items and (fo.status in FULFILLABLE or fo.status == SCHEDULED):
                plan.groups.append((fo, items))
            elif items:
                plan.blocked.append(fo)
        return plan

    def _open(self, fo: FulfillmentOrder, tracking: TrackingPush) -> str:
        """Open a SCHEDULED fulfillment order: the parcel shipped before its date."""
        data = self.api.query(OPEN_MUTATION, {"id": fo.id}, name="fulfillmentOrderOpen")
        payload = data.get("fulfillmentOrderOpen")
        what = f"to open the scheduled fulfillment order for tracking {tracking.number}"
        check_user_errors(payload, what, self.key)
        opened = (payload or {}).get("fulfillmentOrder") or {}
        log.info("store %s: opened scheduled fulfillment order %s for parcel %s",
                 self.key, legacy_id(fo.id), tracking.number)  # fmt: skip
        return str(opened.get("id") or fo.id)

    def _blocked(
        self, state: OrderState, blocked: list[FulfillmentOrder], tracking: TrackingPush
    ) -> StoreError:
        """Why the parcel cannot go, in words staff can act on."""
        reasons: list[str] = []
        podops_hold = other_hold = incomplete = False
        for fo in blocked:
            if fo.status != "ON_HOLD":
                incomplete = True
                reasons.append(f"a fulfillment order is {fo.status.lower()} in Shopify")
                continue
            for hold in fo.holds:
                if ours(hold):
                    podops_hold = True
                    reasons.append("podops' own hold (a staff hold pushed to Shopify)")
                    continue
                other_hold = True
                who = (hold.get("heldByApp") or {}).get("title") or "the merchant"
                why = str(hold.get("displayReason") or hold.get("reason") or "no reason given")
                notes = f": {hold['reasonNotes']}" if hold.get("reasonNotes") else ""
                reasons.append(f"a hold by {who} ({why}{notes})")
            if not fo.holds:
                other_hold = True
                reasons.append("a hold in Shopify")
        said = "; ".join(dict.fromkeys(reasons))
        head = (f"store {self.key!r}: tracking {tracking.carrier} {tracking.number} of order "
                f"{state.number} waits")  # fmt: skip
        if incomplete:
            return StoreError(
                f"{head}: {said}; add the tracking to the order in Shopify by hand, then retry "
                "the parked message (`podops outbox parked`)",
                retryable=False,
            )
        fixes = []
        if other_hold:
            fixes.append("release the hold in Shopify (or in the app that placed it)")
        if podops_hold:
            fixes.append(f"release the order in podops (`podops release {in_shell(state.number)}`)")
        return StoreHoldsOrder(
            f"{head}: the order is on hold in Shopify ({said}): {' and '.join(fixes)}, "
            "and the tracking goes out on the next try"
        )

    def push_status(self, order_gid: str, status: str) -> PushResult:
        if status in ("held", "released") and self.config.push_holds:
            return self._hold(order_gid) if status == "held" else self._release(order_gid)
        return PushResult.NOTHING_TO_PUSH

    def _hold(self, order_gid: str) -> PushResult:
        state = self._state(order_gid)
        result = PushResult.ALREADY_THERE
        for fo in state.fulfillment_orders:
            if any(ours(h) for h in fo.holds) or fo.status not in FULFILLABLE:
                continue
            hold = {"reason": "OTHER", "reasonNotes": HOLD_NOTE, "handle": HOLD_HANDLE}
            data = self.api.query(HOLD_MUTATION, {"id": fo.id, "hold": hold}, name="hold")
            check_user_errors(data.get("fulfillmentOrderHold"), "the hold", self.key)
            result = PushResult.SENT
        return result

    def _release(self, order_gid: str) -> PushResult:
        state = self._state(order_gid)
        result = PushResult.ALREADY_THERE
        for fo in state.fulfillment_orders:
            mine = [str(h["id"]) for h in fo.holds if ours(h)]
            if not mine:
                continue
            data = self.api.query(RELEASE_MUTATION, {"id": fo.id, "holdIds": mine}, name="release")
            check_user_errors(data.get("fulfillmentOrderReleaseHold"), "the release", self.key)
            result = PushResult.SENT
        return result
