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


@dataclass(frozen=True, slots=True)
class TrackingPush:
    """A parcel to announce to the store."""

    carrier: str
    number: str
    url: str
    shipped_at: datetime


class PushResult(StrEnum):
    SENT = "sent"
    ALREADY_THERE = "already there"
    NOTHING_TO_PUSH = "nothing to push"


class StoreClient(Protocol):
    """One shop. Every call raises podops.errors.StoreError(retryable=...) on failure."""

    key: str
    platform: str

    def fetch_changes(self, since: datetime | None, start_page: int = 1) -> Iterator[OrderPage]:
        """Orders created or modified after `since` (None: everything), page by page,
        from `start_page` (a pass resuming where it failed; pages are numbered from 1)."""
        ...

    def push_status(self, external_id: str, status: str) -> PushResult:
        """Set the shop's order status (`completed`, `cancelled`); a no-op if already so."""
        ...

    def push_tracking(self, external_id: str, tracking: TrackingPush) -> PushResult:
        """Attach tracking to the shop's order unless that number is already there."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


@runtime_checkable
class WebhookStore(StoreClient, Protocol):
    """A shop that also pushes orders to us (WooCommerce webhooks)."""

    def order_from_webhook(self, body: dict[str, Any]) -> IncomingOrder:
        """A verified webhook body as an incoming order; unreadable parts flag it."""
        ...
