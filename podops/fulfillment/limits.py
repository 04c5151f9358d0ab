"""Per-provider politeness: a rate limit and a cap on calls in flight.

Providers publish small limits (or none, and answer 429); every call a
provider adapter makes for us passes through one `LimitedProvider`, so the
submission pool, the reconciler and the tracking poll share one budget per
process. A caller can take a slot first (`slot()`) and make its calls inside
it: the submission worker does, so that it confirms its claim on an order only
once its turn has come, never before a wait of unknown length.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager

from podops.ports.fulfillment import (
    CancelOutcome,
    FinishesPlacement,
    FulfillmentProvider,
    ProductCatalog,
    ProviderCapabilities,
    ProviderOrder,
    ProviderWebhooks,
    SubmitRequest,
    WebhookRefused,
)

ARRIVAL_MARGIN = 0.98
"""Turns are given at 98% of the rate: a call delayed after its turn (a thread not
scheduled, a slow connect) arrives together with the next one's, and a provider
counting a sliding minute would otherwise see one request over its limit (the
CustomCat bench saw 121 in a minute at 120 a minute)."""


class RateLimiter:
    """Spaces calls at least 1/rate seconds apart, with ARRIVAL_MARGIN (thread-safe,
    no bursts)."""

    def __init__(
        self,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_second <= 0:
            raise ValueError("a rate limit must be positive")
        self.interval = 1.0 / (per_second * ARRIVAL_MARGIN)
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        with self._lock:
            now = self._clock()
            slot = max(self._next, now)
            self._next = slot + self.interval
        if slot > now:
            self._sleep(slot - now)


class LimitedProvider:
    """A provider whose every call waits for the rate limit and a concurrency slot."""

    def __init__(self, inner: FulfillmentProvider, *, per_second: float, concurrency: int) -> None:
        self.inner = inner
        self.name = inner.name
        self.capabilities: ProviderCapabilities = inner.capabilities
        self.limiter = RateLimiter(per_second)
        self._slots = threading.BoundedSemaphore(concurrency)
        self._held = threading.local()

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one concurrency slot for the calls made inside (reentrant per thread)."""
        depth = getattr(self._held, "depth", 0)
        if depth:
            self._held.depth = depth + 1
            try:
                yield
            finally:
                self._held.depth = depth
            return
        with self._slots:
            self._held.depth = 1
            try:
                yield
            finally:
                self._held.depth = 0

    @contextmanager
    def _turn(self) -> Iterator[None]:
        with self.slot():
            self.limiter.acquire()
            yield

    def submit(self, request: SubmitRequest) -> ProviderOrder:
        with self._turn():
            return self.inner.submit(request)

    def find_by_reference(self, reference: str) -> ProviderOrder | None:
        with self._turn():
            return self.inner.find_by_reference(reference)

    def get_status(self, provider_order_id: str, *, reference: str) -> ProviderOrder:
        with self._turn():
            return self.inner.get_status(provider_order_id, reference=reference)

    def cancel(self, provider_order_id: str, *, reference: str) -> CancelOutcome:
        with self._turn():
            return self.inner.cancel(provider_order_id, reference=reference)

    def update_design(self, provider_order_id: str, request: SubmitRequest) -> ProviderOrder:
        with self._turn():
            return self.inner.update_design(provider_order_id, request)

    def update_address(self, provider_order_id: str, request: SubmitRequest) -> ProviderOrder:
        with self._turn():
            return self.inner.update_address(provider_order_id, request)

    def finish_placement(self, found: ProviderOrder, request: SubmitRequest) -> ProviderOrder:
        """The adapter's second step; a provider without one has nothing to finish."""
        if not isinstance(self.inner, FinishesPlacement):
            return found
        with self._turn():
            return self.inner.finish_placement(found, request)

    def webhook_references(self, token: str, headers: Mapping[str, str], body: bytes) -> list[str]:
        """Reading a delivery calls nobody: no turn taken. Refused when the adapter
        takes no webhooks."""
        if not isinstance(self.inner, ProviderWebhooks):
            raise WebhookRefused(f"{self.name} takes no webhooks")
        return self.inner.webhook_references(token, headers, body)

    @property
    def catalog(self) -> ProductCatalog | None:
        """This provider as a catalog, when its adapter has one (else codes are not
        checkable, which `unknown_codes` alone cannot tell from "all known")."""
        return self if isinstance(self.inner, ProductCatalog) else None

    def unknown_codes(self, codes: Collection[str]) -> dict[str, str]:
        """The adapter's catalog answer, within the rate limit; {} when it has no catalog."""
        if not isinstance(self.inner, ProductCatalog):
            return {}
        with self._turn():
            return self.inner.unknown_codes(codes)
