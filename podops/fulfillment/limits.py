"""Per-provider politeness: a rate limit and a cap on calls in flight.

Providers publish small limits (or none, and answer 429); every call a
provider adapter makes for us passes through one `LimitedProvider`, so the
submission pool, the reconciler and the tracking poll share one budget per
process. A caller can take a slot first (`slot()`) and make its calls inside
it: the submission worker does, so that it confirms its claim on an order only
once its turn has come, never before a wait of unknown length.

The budget lives in a `Limits` backend (`podops.shared_limits`): per process on
SQLite, shared by every process on PostgreSQL, so three workers together keep to
the provider's limit. A 429 (ProviderBusy) seen here pauses the provider's key
for every process until its retry-after. Adapters that make several requests per
method (Printful, Printify) pace each request themselves on the same key
(`paces_each_request`), and then only the slot is taken here.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager

from podops.ports.fulfillment import (
    CancelOutcome,
    FinishesPlacement,
    FulfillmentProvider,
    ProductCatalog,
    ProviderBusy,
    ProviderCapabilities,
    ProviderOrder,
    ProviderWebhooks,
    SubmitRequest,
    WebhookRefused,
)
from podops.shared_limits import Limits, LocalLimits, Pace, Rate, Throttled

BUSY_PAUSE_S = 2.0
"""How long every process leaves a provider alone after a 429 without Retry-After."""


def provider_key(name: str) -> str:
    """The key a provider's rate, pause and slots are kept under."""
    return f"provider:{name}"


def busy(exc: Throttled, who: str) -> ProviderBusy:
    """A turn refused by the limiter, in the words of a provider refusal (nothing sent)."""
    return ProviderBusy(f"{who}: waiting for a turn ({exc})", retry_after_s=exc.wait_s)


class LimitedProvider:
    """A provider whose every call waits for the rate limit and a concurrency slot."""

    def __init__(
        self,
        inner: FulfillmentProvider,
        *,
        per_second: float,
        concurrency: int,
        limits: Limits | None = None,
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self.capabilities: ProviderCapabilities = inner.capabilities
        self.limits: Limits = limits or LocalLimits()
        self.key = provider_key(inner.name)
        self.concurrency = concurrency
        self.pace = Pace(self.limits, self.key, Rate(per_second))
        self._paces_itself = bool(getattr(inner, "paces_each_request", False))
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
        try:
            ticket = self.limits.take_slot(self.key, self.concurrency)
        except Throttled as exc:
            raise busy(exc, self.name) from exc
        self._held.depth = 1
        try:
            yield
        finally:
            self._held.depth = 0
            self.limits.give_back(self.key, ticket)

    @contextmanager
    def _turn(self) -> Iterator[None]:
        """A slot and a turn; a 429 from inside pauses the provider everywhere."""
        with self.slot():
            if not self._paces_itself:
                try:
                    self.pace.acquire()
                except Throttled as exc:
                    raise busy(exc, self.name) from exc
            try:
                yield
            except ProviderBusy as exc:
                self.pace.pause(exc.retry_after_s or BUSY_PAUSE_S)
                raise

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
