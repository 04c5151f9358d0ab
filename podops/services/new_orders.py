"""What a new order from a shop becomes: its lines, its problems, its first status.

Pure decisions on one incoming order, ready for `services.receiving` to insert
in bulk: each line routed to a provider and product (lines for different
providers leave as one fulfillment each; a line no rule routes stays here,
held with its reason, while the others go); problems found (no address, no
lines, no line podops can route) without dropping anything; the first status
(pending with its countdown, needs_design, on_hold with the reason, cancelled
when the shop already cancelled it or refunded every line). A line's quantity
is what is left to produce after the store's refunds; a line refunded in full
is not produced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from podops.incoming import IncomingLineItem, IncomingOrder
from podops.models import Store, utcnow
from podops.routing import Route, ShopPolicy
from podops.services.fulfillments import UNROUTED_PREFIX
from podops.services.store_changes import STORE_CANCEL_STATUSES
from podops.speeds import speed_at_receipt
from podops.status import OrderStatus


def received_hold_by(store_key: str) -> str:
    """Who holds an order held as it arrived (its problems, or a first sync's old order)."""
    return f"intake ({store_key})"


NEEDS_ATTENTION = "needs attention: "
"""How the hold reason of an order held for its problems at receipt begins."""

UNWATCHED_REASON = "placed before podops watched this store; release it to send it to the provider"
"""Why an old order found by a store's first sync waits: the shop may have made it by hand."""


@dataclass(slots=True)
class NewOrder:
    """Column values for one new order and its lines, ready for a bulk insert."""

    row: dict[str, Any]
    items: list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class _Lines:
    """The order's line rows, the providers they go to, and their problems."""

    rows: list[dict[str, Any]]
    problems: list[str]

    @property
    def providers(self) -> list[str]:
        """The providers the routed lines go to, in line order."""
        return list(dict.fromkeys(row["provider"] for row in self.rows if row["provider"]))


@dataclass(frozen=True, slots=True)
class _Start:
    """Where the new order starts: its status, countdown end and hold reason."""

    status: OrderStatus
    submit_at: datetime
    hold_reason: str | None


def new_order(
    store: Store,
    incoming: IncomingOrder,
    policy: ShopPolicy,
    arrived_at: datetime | None = None,
    hold_overdue: bool = False,
) -> NewOrder:
    """The rows to insert for an order the store has not sent before.

    `arrived_at` starts a back-dated order's countdown when it arrives;
    `hold_overdue` holds an order already past its submit time (see
    `services.receiving.receive_orders`)."""
    lines = _lines(store, incoming, policy)
    problems = [*_order_problems(incoming), *lines.problems]
    store_policy = policy.store(store.key)
    shipping = speed_at_receipt(
        store_policy.shipping, incoming, lines.providers or [store_policy.default_provider]
    )
    if shipping.problem:
        problems.append(shipping.problem)
    countdown = timedelta(hours=shipping.choice.countdown_hours)
    submit_at = max(incoming.placed_at, arrived_at or incoming.placed_at) + countdown
    now = utcnow()
    start = _start(incoming, problems, submit_at, now, hold_overdue)
    row = _order_row(store, incoming, problems, start, now)
    row.update(shipping.columns)
    return NewOrder(row, lines.rows)


def _order_problems(incoming: IncomingOrder) -> list[str]:
    """What is wrong with the order as a whole (its lines' problems come after)."""
    problems = list(incoming.problems)
    if not _has_address(incoming.shipping_address):
        problems.append("no shipping address")
    if not incoming.items:
        problems.append("no line items")
    return problems


def _has_address(address: dict[str, object]) -> bool:
    return bool(str(address.get("address_1", "")).strip()) and bool(
        str(address.get("country", "")).strip()
    )


def _lines(store: Store, incoming: IncomingOrder, policy: ShopPolicy) -> _Lines:
    """Each line routed to its provider and product. A line no rule routes keeps its
    reason and stays here (no provider) while the others go; only when no line can be
    routed is that a problem of the order (it waits for staff as a whole)."""
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    held: list[str] = []
    most = policy.store(store.key).max_line_quantity
    produced = [i for i in incoming.items if not refunded_in_full(i)]
    country = str(incoming.shipping_address.get("country") or "")
    for position, item_in in enumerate(produced, start=1):
        quantity = item_in.quantity - item_in.refunded_quantity
        route = policy.route(store.key, item_in.sku, country)
        item_problems = list(item_in.problems)
        if not route.matched:
            item_problems.append(unrouted(item_in.sku, country, route))
            held.append(f"line {position}: {item_problems[-1]}")
        if quantity > most:
            item_problems.append(
                f"quantity {quantity:,} is more than this store's {most} per line "
                "(max_line_quantity): check it with the customer"
            )
        rows.append(
            {
                "position": position,
                "external_id": item_in.external_id,
                "sku": item_in.sku,
                "name": item_in.name,
                "product_key": route.product_key,
                "provider_sku": route.provider_sku,
                "provider": route.provider if route.matched else None,
                "quantity": quantity,
                "quantity_shipped": 0,
                "unit_price": item_in.unit_price,
                "personalization": dict(item_in.personalization),
                "image_urls": dict(item_in.image_urls),
                "problems": item_problems,
                "print_file_revision": 0,
                "print_file_current": False,
            }
        )
        problems.extend(
            f"line {position}: {p}" for p in item_problems if not p.startswith(UNROUTED_PREFIX)
        )
    if len(held) == len(rows):
        problems.extend(held)
    return _Lines(rows, problems)


def _start(
    incoming: IncomingOrder,
    problems: list[str],
    submit_at: datetime,
    now: datetime,
    hold_overdue: bool,
) -> _Start:
    """Needs design, held for its problems (or as overdue at a first sync), cancelled
    in the shop already, or pending: its countdown runs."""
    if incoming.needs_design:
        status = OrderStatus.NEEDS_DESIGN
    elif problems:
        status = OrderStatus.ON_HOLD
    else:
        status = OrderStatus.PENDING
    hold_reason = (NEEDS_ATTENTION + "; ".join(problems)) if problems else None
    if hold_overdue and submit_at <= now and status != OrderStatus.NEEDS_DESIGN:
        status = OrderStatus.ON_HOLD
        hold_reason = UNWATCHED_REASON + (f"; {hold_reason}" if hold_reason else "")
    if incoming.store_status in STORE_CANCEL_STATUSES or _all_refunded(incoming):
        status = OrderStatus.CANCELLED
    return _Start(status, submit_at, hold_reason if status == OrderStatus.ON_HOLD else None)


def unrouted(sku: str, country: str, route: Route) -> str:
    """Why a line has no provider, naming the destination when rules exist elsewhere."""
    text = f"no routing rule for SKU {sku or '(blank)'}"
    if route.other_countries:
        text += f" shipping to {country or '(no country)'}"
    return text


def refunded_in_full(item: IncomingLineItem) -> bool:
    """A line the store refunded entirely: it is not produced."""
    return item.refunded_quantity > 0 and item.refunded_quantity >= item.quantity


def _all_refunded(incoming: IncomingOrder) -> bool:
    return bool(incoming.items) and all(refunded_in_full(i) for i in incoming.items)


def _order_row(
    store: Store,
    incoming: IncomingOrder,
    problems: list[str],
    start: _Start,
    now: datetime,
) -> dict[str, Any]:
    """The order's column values."""
    return {
        "store_id": store.id,
        "number": incoming.number,
        "external_id": incoming.external_id,
        "status": start.status,
        "store_status": incoming.store_status,
        "placed_at": incoming.placed_at,
        "store_modified_at": incoming.modified_at,
        "submit_at": start.submit_at,
        "customer_name": incoming.customer_name,
        "customer_email": incoming.customer_email,
        "customer_phone": incoming.customer_phone,
        "shipping_address": dict(incoming.shipping_address),
        "currency": incoming.currency,
        "total": incoming.total,
        "shipping_total": incoming.shipping_total,
        "note": incoming.note,
        "problems": problems,
        "hold_reason": start.hold_reason,
        "held_by": received_hold_by(store.key) if start.hold_reason else None,
        "held_at": now if start.hold_reason else None,
        "held_from": OrderStatus.PENDING.value if start.hold_reason else None,
        "cancel_reason": (
            _cancel_reason(incoming) if start.status == OrderStatus.CANCELLED else None
        ),
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }


def _cancel_reason(incoming: IncomingOrder) -> str:
    if incoming.store_status not in STORE_CANCEL_STATUSES and _all_refunded(incoming):
        return "refunded in the store"
    return "cancelled in the store"
