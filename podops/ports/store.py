"""The store port: what the core needs from a shop (WooCommerce, the sandbox
test-mode store, the CSV "store" of outside orders).

Adapters in `providers/` implement `StoreClient`; intake (`podops.intake.passes`) and
push-back (`sync.pushback`) talk only to this Protocol, so the sandbox store
drives exactly the same code paths as a real WooCommerce shop.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from podops.incoming import IncomingOrder


@dataclass(frozen=True, slots=True)
class OrderPage:
    """One page of orders changed since the cursor, already mapped to IncomingOrder."""

    orders: list[IncomingOrder]
    page: int
    total_pages: int
    total: int
    newest_change: datetime | None = None
    """The latest modification time on this page (store clock, UTC)."""
    server_time: datetime | None = None
    """The store's clock when it answered (HTTP Date), a safe next cursor."""
    counted: bool = True
    """False for a page of a supplementary listing (trashed orders), read whole on
    every pass: the pass's resume position does not move on it."""
    next_token: str | None = None
    """Where the next page starts, for a store that pages by cursor (Shopify's
    `endCursor`): a pass resumes there instead of counting pages."""


@dataclass(frozen=True, slots=True)
class TrackingPush:
    """A parcel to announce to the store."""

    carrier: str
    number: str
    url: str
    shipped_at: datetime
    lines: tuple[tuple[str, int], ...] = ()
    """(the store's line id, quantity) in the parcel; empty: the whole order. A store
    that records parcels per line (Shopify) uses it; the others ignore it."""


STAFF_HOLD_STATUSES = frozenset({"held", "released"})
"""The statuses `push_status` is given for staff holds; only shops that take holds act."""
PLATFORMS_TAKING_HOLDS = frozenset({"shopify"})
"""Platforms whose orders can be held from outside (Shopify's fulfillment-order holds,
when the store's `push_holds` is on); staff holds of other shops' orders stay ours."""


@dataclass(frozen=True, slots=True)
class ReturnNotice:
    """Goods that came back, for a shop that can be told (`ReturnNotes`)."""

    key: str
    """Ours for this return (`return 17`): a shop's note carries it, so a repeat is seen."""
    reason: str
    lines: tuple[tuple[str, int], ...]
    """(our line label `1234-01`, units) that came back."""
    whole_order: bool


class PushResult(StrEnum):
    SENT = "sent"
    ALREADY_THERE = "already there"
    NOTHING_TO_PUSH = "nothing to push"


class StoreClient(Protocol):
    """One shop. Every call raises podops.errors.StoreError(retryable=...) on failure."""

    key: str
    platform: str

    def fetch_changes(
        self, since: datetime | None, start_page: int = 1, start_token: str | None = None
    ) -> Iterator[OrderPage]:
        """Orders created or modified after `since` (None: everything), page by page,
        from `start_page` (a pass resuming where it failed; pages are numbered from 1),
        or for a store that pages by cursor from `start_token` (an earlier page's
        `next_token`)."""
        ...

    def push_status(self, external_id: str, status: str) -> PushResult:
        """Set the shop's order status (`completed`, `cancelled`); a no-op if already so.
        A shop may also be told of staff holds (`held`, `released`) when it takes them;
        one that does not answers NOTHING_TO_PUSH."""
        ...

    def push_tracking(self, external_id: str, tracking: TrackingPush) -> PushResult:
        """Attach tracking to the shop's order unless that number is already there."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


@runtime_checkable
class ReturnNotes(Protocol):
    """A shop that can be told of a return honestly. WooCommerce takes a private order
    note: its REST API has no returns, and a refund is money, not goods back. A shop
    without this is told nothing (recorded as "nothing to push")."""

    def push_return(self, external_id: str, notice: ReturnNotice) -> PushResult:
        """Record the return at the shop unless a note with `notice.key` is there."""
        ...


@runtime_checkable
class WebhookStore(StoreClient, Protocol):
    """A shop that also pushes orders to us (WooCommerce webhooks)."""

    def order_from_webhook(self, body: dict[str, Any]) -> IncomingOrder:
        """A verified webhook body as an incoming order; unreadable parts flag it."""
        ...
