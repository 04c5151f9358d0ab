"""WooCommerce REST API v3 store client (implements podops.ports.store.StoreClient).

Reads orders incrementally (`modified_after` + `dates_are_gmt=true`, oldest
created first so pages stay stable while new orders arrive, 100 per page,
following `X-WP-TotalPages` and the `Link: rel="next"` header) and pushes
status and tracking back. Every push first looks at what the store already
has, so a repeated outbox delivery never sends a second note or tracking item.

How the shop is reached (keys, TLS trust, redirects, refusals in words) is
`providers/woocommerce_http.py`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import partial
from typing import Any

import httpx

from podops.errors import StoreError
from podops.incoming import IncomingOrder
from podops.ports.store import (
    STAFF_HOLD_STATUSES,
    OrderPage,
    PushResult,
    ReturnNotice,
    TrackingPush,
)
from podops.settings import StoreConfig
from providers.http import DEFAULT_RETRY, RetryPolicy, json_body, send
from providers.woocommerce_http import REDIRECTS, build_client, explain, redirected_base
from providers.woocommerce_mapping import (
    has_refunds,
    map_order_safely,
    modified_at,
    refunded_quantities,
)

log = logging.getLogger(__name__)
REFUNDS_UNREAD = "podops could not read its refunds from the store: check what was refunded"

API = "wp-json/wc/v3"
TRACKING_API = "wp-json/wc-shipment-tracking/v3"
PER_PAGE = 100
MAX_PAGES = 10_000
MAX_REDIRECTS = 3
TRASH = "trash"
"""The status WooCommerce's order list leaves out unless asked for by name."""

__all__ = ["WooCommerceStore", "build_client", "explain"]


class WooCommerceStore:
    """One WooCommerce shop behind the StoreClient Protocol."""

    platform = "woocommerce"

    def __init__(
        self,
        key: str,
        config: StoreConfig,
        client: httpx.Client,
        *,
        retry: RetryPolicy = DEFAULT_RETRY,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.key = key
        self.config = config
        self.client = client
        self.retry = retry
        self.sleep = sleep
        self.no_tracking_extension = False
        """Set (and logged once) when the shop answered that it has no tracking route."""

    def _send(
        self, method: str, path: str, *, expected: frozenset[int] = frozenset(), **kwargs: Any
    ) -> httpx.Response:
        """One call; a same-site redirect moves the client to the new address first."""
        for _ in range(MAX_REDIRECTS + 1):
            response = send(
                self.client,
                method,
                path,
                error=StoreError,
                who=f"store {self.key!r}",
                explain=partial(explain, store=self.key),
                policy=self.retry,
                sleep=self.sleep,
                expected=expected | REDIRECTS,
                **kwargs,
            )
            if response.status_code not in REDIRECTS:
                return response
            self._follow(response)
        raise StoreError(f"store {self.key!r}: too many redirects", retryable=False)

    def _follow(self, response: httpx.Response) -> None:
        new_base = redirected_base(self.client.base_url, response)
        if isinstance(new_base, str):
            raise StoreError(f"store {self.key!r}: the shop {new_base}", retryable=False)
        log.warning(
            "store %r moved to %s (the shop answered %d); following it: set url = %r in "
            "[stores.%s] to skip the redirect",
            self.key,
            new_base,
            response.status_code,
            str(new_base).rstrip("/"),
            self.key,
        )
        self.client.base_url = new_base

    def fetch_changes(
        self, since: datetime | None, start_page: int = 1, start_token: str | None = None
    ) -> Iterator[OrderPage]:
        """The changed orders (`status=any`) from `start_page`, then the changed trashed
        ones: WooCommerce's default `any` leaves out `trash`, so an order trashed without
        its `order.deleted` webhook reaching podops is only seen by asking for
        `status=trash` explicitly. The trash listing is read whole on every pass and does
        not count in the pass's position (`OrderPage.counted`)."""
        params: dict[str, Any] = {"per_page": PER_PAGE, "orderby": "date", "order": "asc"}
        if since is not None:
            params["modified_after"] = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
            params["dates_are_gmt"] = "true"
        yield from self._list_pages(params, start_page)
        trashed = self._list_pages({**params, "status": TRASH}, 1)
        yield from (replace(page, counted=False) for page in trashed if page.orders)

    def _list_pages(self, params: dict[str, Any], start_page: int) -> Iterator[OrderPage]:
        url: str | None = f"{API}/orders"
        page = max(1, start_page)
        while url is not None and page <= MAX_PAGES:
            response = self._send("GET", url, params={**params, "page": page})
            body = json_body(response)
            if not isinstance(body, list):
                raise StoreError(
                    f"store {self.key!r}: WooCommerce answered the order list with something "
                    "that is not a list (is the URL a WooCommerce shop?)",
                    retryable=False,
                )
            total_pages = _int_header(response, "x-wp-totalpages", page)
            yield OrderPage(
                orders=[
                    self._map_listed(raw) for raw in body if isinstance(raw, dict) and "id" in raw
                ],
                page=page,
                total_pages=total_pages,
                total=_int_header(response, "x-wp-total", len(body)),
                newest_change=max(
                    filter(None, (modified_at(o) for o in body if isinstance(o, dict))),
                    default=None,
                ),
                server_time=_server_time(response),
            )
            has_next = "next" in response.links or page < total_pages
            url = f"{API}/orders" if has_next and body else None
            page += 1

    def recent_orders(self, count: int) -> list[dict[str, Any]]:
        """The shop's latest orders as WooCommerce JSON (for `podops stores check`)."""
        params = {"per_page": max(1, min(count, PER_PAGE)), "orderby": "date", "order": "desc"}
        body = json_body(self._send("GET", f"{API}/orders", params=params))
        return [o for o in body if isinstance(o, dict)] if isinstance(body, list) else []

    def _map(self, raw: dict[str, Any]) -> IncomingOrder:
        return map_order_safely(raw, self.key, self.config, self._refunded(raw))

    def _map_listed(self, raw: dict[str, Any]) -> IncomingOrder:
        """One order of a listed page. Refunds the shop fails to list (a plugin error on
        one order, every time) flag that order, held for a person, instead of failing
        its page, which kept the cursor there and every later order out for good. (A
        webhook is left to the poll instead: `order_from_webhook` raises.)"""
        try:
            refunded = self._refunded(raw)
        except StoreError as exc:
            order = map_order_safely(raw, self.key, self.config)
            log.warning("store %r, order %s: its refunds could not be read: %s",
                        self.key, order.number, exc.message)  # fmt: skip
            order.refunds_unread = exc.message
            order.problems.append(f"{REFUNDS_UNREAD} ({exc.message})")
            return order
        return map_order_safely(raw, self.key, self.config, refunded)

    def _refunded(self, raw: dict[str, Any]) -> dict[str, int] | None:
        """Which lines the order's refunds cover (one more read, only for a refunded order):
        the order body lists refunds with their totals, not their lines."""
        if not has_refunds(raw):
            return None
        path = f"{API}/orders/{raw['id']}/refunds"
        return refunded_quantities(json_body(self._send("GET", path, params={"per_page": 100})))

    def fetch_order(self, external_id: str) -> IncomingOrder:
        response = self._send("GET", f"{API}/orders/{external_id}")
        return self._map(response.json())

    def push_status(self, external_id: str, status: str) -> PushResult:
        if status in STAFF_HOLD_STATUSES:  # WooCommerce's on-hold means "awaiting payment"
            return PushResult.NOTHING_TO_PUSH
        current = self._send("GET", f"{API}/orders/{external_id}", params={"_fields": "id,status"})
        body = json_body(current)
        if isinstance(body, dict) and body.get("status") == status:
            return PushResult.ALREADY_THERE
        self._send("PUT", f"{API}/orders/{external_id}", json={"status": status})
        return PushResult.SENT

    def push_tracking(self, external_id: str, tracking: TrackingPush) -> PushResult:
        if self.config.has_shipment_tracking and not self.no_tracking_extension:
            result = self._push_tracking_item(external_id, tracking)
            if result is not None:
                return result
        return self._push_tracking_note(external_id, tracking)

    def _push_tracking_item(self, external_id: str, tracking: TrackingPush) -> PushResult | None:
        """Add a Shipment Tracking item; None when the shop has no such extension."""
        path = f"{TRACKING_API}/orders/{external_id}/shipment-trackings"
        response = self._send("GET", path, expected=frozenset({404}))
        if response.status_code == 404:
            body = json_body(response)
            if not (isinstance(body, dict) and body.get("code") == "rest_no_route"):
                raise StoreError(f"store {self.key!r}: {explain(response)}", retryable=False)
            self.no_tracking_extension = True
            log.warning(
                "store %r has no Shipment Tracking extension (its tracking route answers 404): "
                "tracking goes out as a customer order note; set has_shipment_tracking = false "
                "in [stores.%s] to skip the check",
                self.key,
                self.key,
            )
            return None
        existing = json_body(response) or []
        wanted = _squash(tracking.number)
        if any(_squash(str(item.get("tracking_number", ""))) == wanted for item in existing):
            return PushResult.ALREADY_THERE
        body = {
            "tracking_number": tracking.number,
            "custom_tracking_provider": tracking.carrier,
            "custom_tracking_link": tracking.url,
            "date_shipped": tracking.shipped_at.astimezone(UTC).strftime("%Y-%m-%d"),
        }
        self._send("POST", path, json=body)
        return PushResult.SENT

    def _push_tracking_note(self, external_id: str, tracking: TrackingPush) -> PushResult:
        path = f"{API}/orders/{external_id}/notes"
        existing = json_body(self._send("GET", path, params={"type": "any"})) or []
        wanted = _squash(tracking.number)
        if any(wanted in _squash(str(note.get("note", ""))) for note in existing):
            return PushResult.ALREADY_THERE
        note = f"Shipped with {tracking.carrier}, tracking number {tracking.number}"
        if tracking.url:
            note += f": {tracking.url}"
        body = {"note": note, "customer_note": True, "added_by_user": False}
        self._send("POST", path, json=body)
        return PushResult.SENT

    def push_return(self, external_id: str, notice: ReturnNotice) -> PushResult:
        """A private order note (not a refund, not a status: WooCommerce's REST API has no
        returns); the note's `[podops return N]` tag makes a repeat a no-op."""
        path = f"{API}/orders/{external_id}/notes"
        tag = f"[podops {notice.key}]"
        existing = json_body(self._send("GET", path, params={"type": "internal"})) or []
        if any(tag in str(note.get("note", "")) for note in existing):
            return PushResult.ALREADY_THERE
        units = ", ".join(f"{line} x{qty}" for line, qty in notice.lines)
        what = "The whole order came back" if notice.whole_order else "Goods came back"
        note = f"{what} ({units}): {notice.reason} {tag}"
        self._send("POST", path, json={"note": note, "customer_note": False})
        return PushResult.SENT

    def order_from_webhook(self, body: dict[str, Any]) -> IncomingOrder:
        """A verified webhook body as an incoming order (never dropped: an unreadable
        body becomes an order flagged for staff). A refunded order costs one read of its
        refunds (StoreError when the shop does not answer)."""
        return self._map(body)

    def close(self) -> None:
        self.client.close()


def _squash(text: str) -> str:
    return "".join(text.split()).upper()


def _int_header(response: httpx.Response, name: str, default: int) -> int:
    try:
        return int(response.headers.get(name, default))
    except ValueError:
        return default


def _server_time(response: httpx.Response) -> datetime | None:
    value = response.headers.get("date")
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).astimezone(UTC)
    except (TypeError, ValueError):
        return None
