"""What podops tells a Shopify shop: parcels as fulfillments, and staff holds.

A parcel becomes one `fulfillmentCreate` over the order's fulfillment orders
(`lineItemsByFulfillmentOrder`: each line and quantity in the parcel, taken
from the fulfillment orders that still have them), with `trackingInfo
{company, number, url}` and `notifyCustomer` as the store sets it. Carrier names
go as Shopify spells them (`SHOPIFY_CARRIERS`), so Shopify links the tracking
itself; another carrier goes by our name with its link.

No idempotency key is documented for `fulfillmentCreate`, so every push first
re-reads the order's fulfillments and fulfillment orders: a tracking number
Shopify already has is ALREADY_THERE, and only `remainingQuantity` is asked
for, so a retry after a lost answer never records a parcel twice. Lines with
nothing left to fulfil (fulfilled in Shopify by hand) are NOTHING_TO_PUSH.

Shopify has no order status to set: an order is complete when its fulfillment
orders are (`completed` is then NOTHING_TO_PUSH), and cancelling needs the
`write_orders` scope podops does not ask for (the shop cancels in Shopify).
With `push_holds`, `held` puts a hold (handle `podops`) on each open
fulfillment order and `released` releases those holds only.
`userErrors` are StoreErrors with Shopify's message (outbox -> staff).
"""

from __future__ import annotations

import logging
from typing import Any

from podops.errors import StoreError
from podops.ports.store import PushResult, TrackingPush
from podops.settings import StoreConfig
from providers.shopify_graphql import ShopifyGraphQL, check_user_errors
from providers.shopify_mapping import legacy_id

log = logging.getLogger(__name__)

HOLD_HANDLE = "podops"
HOLD_NOTE = "Held in podops by staff"
# The state query stays under Shopify's 1,000-point single-query limit: 20 fulfillments
# of 5 tracking numbers, 5 fulfillment orders of 50 lines (a larger order is rare for
# print on demand; its further lines are not seen, and Shopify's userErrors say so).
FULFILLABLE = frozenset({"OPEN", "IN_PROGRESS"})
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

FULFILLMENT_STATE_QUERY = """query PodopsFulfillmentState($id: ID!) {
  order(id: $id) {
    id
    fulfillments(first: 20) { trackingInfo(first: 5) { number } }
    fulfillmentOrders(first: 5) {
      nodes {
        id status
        fulfillmentHolds { id handle }
        lineItems(first: 50) { nodes { id remainingQuantity lineItem { id } } }
      }
    }
  }
}"""
FULFILL_MUTATION = """mutation PodopsFulfill($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status }
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


def shopify_carrier(name: str) -> str:
    return SHOPIFY_CARRIERS.get(name, name)


class ShopifyFulfillment:
    """Push-back to one shop through its fulfillment orders."""

    def __init__(self, key: str, config: StoreConfig, api: ShopifyGraphQL) -> None:
        self.key, self.config, self.api = key, config, api

    def _state(self, order_gid: str) -> dict[str, Any]:
        data = self.api.query(FULFILLMENT_STATE_QUERY, {"id": order_gid}, name="fulfillment orders")
        order = data.get("order")
        if not isinstance(order, dict):
            raise StoreError(f"store {self.key!r}: Shopify has no order {legacy_id(order_gid)}",
                             retryable=False)  # fmt: skip
        return order

    def push_tracking(self, order_gid: str, tracking: TrackingPush) -> PushResult:
        order = self._state(order_gid)
        wanted = "".join(tracking.number.split()).upper()
        for fulfillment in order.get("fulfillments") or []:
            for known in fulfillment.get("trackingInfo") or []:
                if "".join(str(known.get("number") or "").split()).upper() == wanted:
                    return PushResult.ALREADY_THERE
        plan = self._plan(order, tracking)
        if not plan:
            log.info("store %s: order %s has nothing left to fulfil for parcel %s",
                     self.key, legacy_id(order_gid), tracking.number)  # fmt: skip
            return PushResult.NOTHING_TO_PUSH
        info: dict[str, Any] = {"company": shopify_carrier(tracking.carrier),
                                "number": tracking.number}  # fmt: skip
        if tracking.url:
            info["url"] = tracking.url
        fulfillment = {
            "lineItemsByFulfillmentOrder": plan,
            "notifyCustomer": self.config.notify_customer,
            "trackingInfo": info,
        }
        data = self.api.query(
            FULFILL_MUTATION, {"fulfillment": fulfillment}, name="fulfillmentCreate"
        )
        check_user_errors(data.get("fulfillmentCreate"), f"tracking {tracking.number}", self.key)
        return PushResult.SENT

    def _plan(self, order: dict[str, Any], tracking: TrackingPush) -> list[dict[str, Any]]:
        """lineItemsByFulfillmentOrder for the parcel's lines, within what remains."""
        wanted = {line: quantity for line, quantity in tracking.lines}
        plan: list[dict[str, Any]] = []
        held = False
        for fo in (order.get("fulfillmentOrders") or {}).get("nodes") or []:
            items = []
            for item in (fo.get("lineItems") or {}).get("nodes") or []:
                line = legacy_id((item.get("lineItem") or {}).get("id"))
                remaining = int(item.get("remainingQuantity") or 0)
                take = remaining if not wanted else min(remaining, wanted.get(line, 0))
                if take <= 0:
                    continue
                if fo.get("status") not in FULFILLABLE:
                    held = held or fo.get("status") == "ON_HOLD"
                    continue
                items.append({"id": item["id"], "quantity": take})
                if wanted:
                    wanted[line] -= take
            if items:
                plan.append({"fulfillmentOrderId": fo["id"], "fulfillmentOrderLineItems": items})
        if not plan and held:
            raise StoreError(
                f"store {self.key!r}: the order is on hold in Shopify: release its hold there "
                "and the tracking goes out on the next try",
                retryable=True,
            )
        return plan

    def push_status(self, order_gid: str, status: str) -> PushResult:
        if status in ("held", "released") and self.config.push_holds:
            return self._hold(order_gid) if status == "held" else self._release(order_gid)
        return PushResult.NOTHING_TO_PUSH

    def _hold(self, order_gid: str) -> PushResult:
        order = self._state(order_gid)
        result = PushResult.ALREADY_THERE
        for fo in (order.get("fulfillmentOrders") or {}).get("nodes") or []:
            ours = [h for h in fo.get("fulfillmentHolds") or [] if h.get("handle") == HOLD_HANDLE]
            if ours or fo.get("status") not in FULFILLABLE:
                continue
            hold = {"reason": "OTHER", "reasonNotes": HOLD_NOTE, "handle": HOLD_HANDLE}
            data = self.api.query(HOLD_MUTATION, {"id": fo["id"], "hold": hold}, name="hold")
            check_user_errors(data.get("fulfillmentOrderHold"), "the hold", self.key)
            result = PushResult.SENT
        return result

    def _release(self, order_gid: str) -> PushResult:
        order = self._state(order_gid)
        result = PushResult.ALREADY_THERE
        for fo in (order.get("fulfillmentOrders") or {}).get("nodes") or []:
            ours = [
                h["id"] for h in fo.get("fulfillmentHolds") or [] if h.get("handle") == HOLD_HANDLE
            ]
            if not ours:
                continue
            data = self.api.query(
                RELEASE_MUTATION, {"id": fo["id"], "holdIds": ours}, name="release"
            )
            check_user_errors(data.get("fulfillmentOrderReleaseHold"), "the release", self.key)
            result = PushResult.SENT
        return result
