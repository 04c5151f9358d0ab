"""Shopify store client (implements podops.ports.store.StoreClient and WebhookStore).

Reads orders changed since the cursor with the GraphQL Admin API
(`orders(first, after, sortKey: UPDATED_AT, query: "updated_at:>'...'")`, oldest
change first), page by page; each page's `endCursor` is the pass's resume point
(`OrderPage.next_token`), so a pass cut off resumes after the last stored page.
Pages start at 250 orders; a page Shopify refuses as costlier than its
single-query limit (1,000 points: line items nested under 250 orders cost more)
is asked again with fewer orders, sized by the cost Shopify named, and the
smaller size is kept. An order with more lines than the page carries reads the
rest with `order(id){lineItems(after)}`.

Push-back (tracking on fulfillment orders, holds): `shopify_fulfillment.py`.
The connection (token, pacing, errors): `shopify_graphql.py`. Mapping both of
Shopify's shapes: `shopify_mapping.py`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx

from podops.errors import ConfigError, StoreError
from podops.incoming import IncomingOrder
from podops.ports.store import OrderPage, PushResult, TrackingPush
from podops.settings import StoreConfig, env_name
from providers.http import DEFAULT_TIMEOUT, make_client
from providers.shopify_fulfillment import ShopifyFulfillment
from providers.shopify_graphql import (
    ClientCredentials,
    PermanentToken,
    ShopifyGraphQL,
    TokenSource,
    TooCostly,
)
from providers.shopify_mapping import (
    check_view,
    map_order_safely,
    order_gid,
    rest_from_graphql,
)
from providers.woocommerce_mapping import parse_gmt

log = logging.getLogger(__name__)

FIRST_PAGE_SIZE = 250
"""Shopify's largest page."""
LINES_PER_ORDER = 10
"""Line items read with each order; an order with more reads the rest on its own."""
MORE_LINES = 100
MIN_PAGE_SIZE = 1
MAX_PAGES = 100_000

LINE_FIELDS = """
      pageInfo { hasNextPage endCursor }
      nodes {
        id sku name quantity currentQuantity
        customAttributes { key value }
        originalUnitPriceSet { shopMoney { amount } }
      }"""
ORDERS_QUERY = (
    """query PodopsOrders($first: Int!, $after: String, $query: String, $lines: Int!) {
  ordersCount(query: $query) { count }
  orders(first: $first, after: $after, sortKey: UPDATED_AT, query: $query) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id name createdAt updatedAt cancelledAt cancelReason displayFinancialStatus
      displayFulfillmentStatus email phone note currencyCode
      totalPriceSet { shopMoney { amount } }
      totalShippingPriceSet { shopMoney { amount } }
      shippingAddress {
        firstName lastName company address1 address2 city provinceCode zip countryCodeV2 phone
      }
      shippingLine { title code }
      lineItems(first: $lines) {"""
    + LINE_FIELDS
    + """
      }
    }
  }
}"""
)
RECENT_QUERY = (
    """query PodopsRecentOrders($first: Int!, $lines: Int!) {
  orders(first: $first, sortKey: CREATED_AT, reverse: true) {
    nodes {
      id name createdAt updatedAt
      shippingLine { title code }
      lineItems(first: $lines) {"""
    + LINE_FIELDS
    + """
      }
    }
  }
}"""
)
"""The latest orders for `podops stores check` (their keys and shipping methods)."""
ORDER_LINES_QUERY = (
    """query PodopsOrderLines($id: ID!, $after: String) {
  order(id: $id) {
    lineItems(first: """
    + str(MORE_LINES)
    + """, after: $after) {"""
    + LINE_FIELDS
    + """
    }
  }
}"""
)


def base_url(config: StoreConfig, key: str) -> str:
    """https://<shop>.myshopify.com/ (or the `url` override, for a proxy or a test shop)."""
    if config.url:
        return config.url.strip().rstrip("/") + "/"
    shop = config.shop.strip().lower().removeprefix("https://").rstrip("/")
    if not shop:
        raise ConfigError(
            f"stores.{key}.shop: expected the shop's domain, like example.myshopify.com"
        )
    if "." not in shop:
        shop += ".myshopify.com"
    return f"https://{shop}/"


def build_client(
    key: str,
    config: StoreConfig,
    *,
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> ShopifyGraphQL:
    """The GraphQL client for one shop, with its token source chosen by the settings."""
    http = make_client(base_url(config, key), timeout=timeout, transport=transport)
    tokens: TokenSource
    if config.access_token is not None:
        tokens = PermanentToken(config.access_token.get_secret_value())
    elif config.client_id and config.client_secret is not None:
        secret = config.client_secret.get_secret_value()
        tokens = ClientCredentials(http, key, config.client_id, secret, clock=clock)
    else:
        raise ConfigError(
            f"store {key!r} has no Shopify access: set {env_name(f'stores.{key}.access_token')}"
            f", or client_id and {env_name(f'stores.{key}.client_secret')}"
        )
    return ShopifyGraphQL(key, http, config.api_version, tokens, sleep=sleep, clock=clock)


class ShopifyStore:
    """One Shopify shop behind the StoreClient Protocol."""

    platform = "shopify"

    def __init__(self, key: str, config: StoreConfig, api: ShopifyGraphQL) -> None:
        self.key = key
        self.config = config
        self.api = api
        self.page_size = FIRST_PAGE_SIZE
        self.fulfillment = ShopifyFulfillment(key, config, api)

    def fetch_changes(
        self, since: datetime | None, start_page: int = 1, start_token: str | None = None
    ) -> Iterator[OrderPage]:
        """Orders updated after `since`, oldest change first, from `start_token` (the
        `endCursor` of the last stored page; `start_page` only numbers the pages)."""
        search = None
        if since is not None:
            search = f"updated_at:>'{since.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}'"
        after, page = start_token, max(1, start_page)
        while page <= MAX_PAGES:
            data = self._page(search, after)
            connection = data.get("orders") or {}
            nodes = [n for n in connection.get("nodes") or [] if isinstance(n, dict)]
            info = connection.get("pageInfo") or {}
            has_next = bool(info.get("hasNextPage")) and bool(nodes)
            count = (data.get("ordersCount") or {}).get("count")
            yield OrderPage(
                orders=[self._map(node) for node in nodes if node.get("id")],
                page=page,
                total_pages=page + 1 if has_next else page,
                total=count if isinstance(count, int) else 0,
                newest_change=max(
                    filter(None, (parse_gmt(n.get("updatedAt")) for n in nodes)), default=None
                ),
                server_time=self.api.server_time,
                next_token=info.get("endCursor") if has_next else None,
            )
            if not has_next:
                return
            after, page = info.get("endCursor"), page + 1

    def _page(self, search: str | None, after: str | None) -> dict[str, Any]:
        """One page, asked again with fewer orders while Shopify finds it too costly."""
        while True:
            variables = {
                "first": self.page_size,
                "after": after,
                "query": search,
                "lines": LINES_PER_ORDER,
            }
            try:
                return self.api.query(ORDERS_QUERY, variables, name="orders")
            except TooCostly as exc:
                if self.page_size <= MIN_PAGE_SIZE:
                    raise
                self.page_size = _smaller(self.page_size, exc.cost)
                log.info("store %s: pages of %d orders now (Shopify's cost limit)",
                         self.key, self.page_size)  # fmt: skip

    def recent_orders(self, count: int) -> list[dict[str, Any]]:
        """The shop's latest orders in the shape `podops stores check` reads (keys and
        shipping methods; see `check_view`)."""
        first = max(1, min(count, 50))
        data = self.api.query(RECENT_QUERY, {"first": first, "lines": LINES_PER_ORDER},
                              name="recent orders")  # fmt: skip
        nodes = (data.get("orders") or {}).get("nodes") or []
        return [check_view(rest_from_graphql(n)) for n in nodes if isinstance(n, dict)]

    def _map(self, node: dict[str, Any]) -> IncomingOrder:
        lines = node.get("lineItems") or {}
        info = lines.get("pageInfo") or {}
        if info.get("hasNextPage"):
            node = {**node, "lineItems": {"nodes": [
                *(lines.get("nodes") or []), *self._more_lines(node["id"], info.get("endCursor"))
            ]}}  # fmt: skip
        return self.order_from_webhook(rest_from_graphql(node))

    def _more_lines(self, order_id: str, after: str | None) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while after is not None:
            data = self.api.query(ORDER_LINES_QUERY, {"id": order_id, "after": after},
                                  name="order lines")  # fmt: skip
            lines = (data.get("order") or {}).get("lineItems") or {}
            found.extend(n for n in lines.get("nodes") or [] if isinstance(n, dict))
            info = lines.get("pageInfo") or {}
            after = info.get("endCursor") if info.get("hasNextPage") else None
        return found

    def order_from_webhook(self, body: dict[str, Any]) -> IncomingOrder:
        """An order in Shopify's REST shape (a webhook body, or a polled order turned
        into it) as an incoming order; an unreadable body becomes one flagged for staff."""
        return map_order_safely(body, self.key, self.config)

    def fetch_order(self, external_id: str) -> IncomingOrder:
        query = ORDERS_QUERY.replace("PodopsOrders", "PodopsOneOrder")
        variables = {"first": 1, "after": None, "query": f"id:{external_id}",
                     "lines": LINES_PER_ORDER}  # fmt: skip
        data = self.api.query(query, variables, name="order")
        nodes = (data.get("orders") or {}).get("nodes") or []
        if not nodes:
            raise StoreError(f"store {self.key!r}: Shopify has no order {external_id}",
                             retryable=False)  # fmt: skip
        return self._map(nodes[0])

    def push_status(self, external_id: str, status: str) -> PushResult:
        return self.fulfillment.push_status(order_gid(external_id), status)

    def push_tracking(self, external_id: str, tracking: TrackingPush) -> PushResult:
        return self.fulfillment.push_tracking(order_gid(external_id), tracking)

    def close(self) -> None:
        self.api.client.close()


def _smaller(size: int, cost: int | None) -> int:
    """A page size whose cost fits the limit, by the cost Shopify named (else half)."""
    if cost and cost > 0:
        fitting = int(size * 950 / cost)
        return max(MIN_PAGE_SIZE, min(size - 1, fitting))
    return max(MIN_PAGE_SIZE, size // 2)
