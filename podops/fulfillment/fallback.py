"""Where a fulfillment's lines go when its provider refuses a variant as out of stock.

A provider that answers "out of stock" (`VariantUnavailable`) created nothing, so
its lines may go elsewhere: when the store allows it
(`stores.<name>.fallback_when_out_of_stock`), each refused line goes by the next
routing rule matching its SKU that names another provider and the same product
(its print file fits that product), and the fulfillment's other lines go back to
the same provider, each group as a new fulfillment under a new reference. When
one refused line has no such rule, nothing moves and the fulfillment fails as
any refusal does, in the provider's words.
"""

from __future__ import annotations

from collections.abc import Collection

from podops.fulfillment_status import FulfillmentStatus
from podops.models import Fulfillment, LineItem, Order
from podops.routing import ShopPolicy

Moves = dict[str, list[tuple[LineItem, int, str | None]]]
"""Provider -> (line, units, provider SKU) it is sent."""


def refused_lines(part: Fulfillment, skus: Collection[str]) -> set[int]:
    """Line item ids the refusal names by provider SKU; every line when it names none
    of the fulfillment's SKUs (the answer did not say which)."""
    named = {sku.strip().upper() for sku in skus}
    found = {
        line.line_item_id
        for line in part.lines
        if (line.provider_sku or line.line_item.provider_sku or line.line_item.sku).upper() in named
    }
    return found or {line.line_item_id for line in part.lines}


def tried_providers(order: Order, part: Fulfillment, item: LineItem) -> set[str]:
    """Providers that already refused this line (this one, and cancelled fulfillments
    of the order that held it), so a fallback never goes back to one of them."""
    tried = {part.provider}
    for other in order.fulfillments:
        if other.status == FulfillmentStatus.CANCELLED and any(
            line.line_item_id == item.id for line in other.lines
        ):
            tried.add(other.provider)
    return tried


def fallback_moves(
    policy: ShopPolicy,
    order: Order,
    part: Fulfillment,
    skus: Collection[str],
    configured: Collection[str],
) -> Moves | None:
    """Where each line of `part` goes instead, or None when a refused line has nowhere
    to go (no rule left, or the store does not allow falling back)."""
    refused = refused_lines(part, skus)
    moves: Moves = {}
    for line in part.lines:
        item = line.line_item
        if line.line_item_id not in refused:
            moves.setdefault(part.provider, []).append((item, line.quantity, line.provider_sku))
            continue
        route = policy.fallback_route(
            order.store.key,
            item.sku,
            item.product_key,
            tried_providers(order, part, item),
            str(order.shipping_address.get("country") or ""),
        )
        if route is None or route.provider not in configured:
            return None
        moves.setdefault(route.provider, []).append((item, line.quantity, route.provider_sku))
    return moves
