"""TEST MODE provider: accepts, produces and ships orders on a compressed clock.

Like a payment processor's test mode, it lets a shop (or the demo) run the
whole flow with no account: every order is accepted, goes into production
after one stage, and ships after two, with a realistic USPS tracking number.
It drives the same submit, poll and tracking code as CustomCat and ShineOn.
The acceptance time is part of the order id, so status survives a restart.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Collection
from datetime import UTC, datetime

from podops.errors import OrderLocked, ProviderError
from podops.ports.fulfillment import (
    CancelOutcome,
    DuplicateReference,
    ProviderCapabilities,
    ProviderOrder,
    ProviderShipment,
    ProviderStatus,
    SubmitRequest,
)

PREFIX = "SANDBOX"


def tracking_number(reference: str) -> str:
    """A 22-digit USPS-style number (9400...), stable for one reference."""
    digits = str(int(hashlib.sha256(reference.encode()).hexdigest(), 16))
    return "9400" + digits[:18].rjust(18, "0")


class SandboxProvider:
    capabilities = ProviderCapabilities(
        can_cancel=True,
        accepts_design_changes=True,
        needs_public_print_urls=False,
        accepts_address_changes=True,
    )

    def __init__(
        self, name: str, *, stage_s: float, clock: Callable[[], float] = time.time
    ) -> None:
        self.name = name
        self.stage_s = stage_s
        self.clock = clock
        self._orders: dict[str, str] = {}
        self._cancelled: set[str] = set()
        self._lock = threading.Lock()

    def submit(self, request: SubmitRequest) -> ProviderOrder:
        with self._lock:
            if request.reference in self._orders:
                raise DuplicateReference(f"sandbox already has order {request.reference}")
            order_id = f"{PREFIX}-{self.clock():.3f}-{request.reference}"
            self._orders[request.reference] = order_id
        return self.get_status(order_id, reference=request.reference)

    def find_by_reference(self, reference: str) -> ProviderOrder | None:
        order_id = self._orders.get(reference)
        return self.get_status(order_id, reference=reference) if order_id else None

    def get_status(self, provider_order_id: str, *, reference: str) -> ProviderOrder:
        if provider_order_id in self._cancelled:
            return ProviderOrder(
                provider_order_id, reference, ProviderStatus.CANCELLED, "cancelled"
            )
        elapsed = self.clock() - _accepted_at(provider_order_id)
        if elapsed < self.stage_s:
            return ProviderOrder(provider_order_id, reference, ProviderStatus.ACCEPTED, "received")
        if elapsed < 2 * self.stage_s:
            return ProviderOrder(
                provider_order_id, reference, ProviderStatus.IN_PRODUCTION, "in production"
            )
        shipped_at = datetime.fromtimestamp(
            _accepted_at(provider_order_id) + 2 * self.stage_s, tz=UTC
        )
        parcel = ProviderShipment("USPS", tracking_number(reference), shipped_at=shipped_at)
        return ProviderOrder(
            provider_order_id, reference, ProviderStatus.SHIPPED, "shipped", (parcel,)
        )

    def cancel(self, provider_order_id: str, *, reference: str) -> CancelOutcome:
        status = self.get_status(provider_order_id, reference=reference).status
        if status not in (ProviderStatus.ACCEPTED, ProviderStatus.CANCELLED):
            return CancelOutcome(
                False, f"sandbox order is already {status.value.replace('_', ' ')}"
            )
        with self._lock:
            self._cancelled.add(provider_order_id)
        return CancelOutcome(True, "cancelled in the sandbox")

    def update_design(self, provider_order_id: str, request: SubmitRequest) -> ProviderOrder:
        current = self.get_status(provider_order_id, reference=request.reference)
        if current.status != ProviderStatus.ACCEPTED:
            raise OrderLocked(f"sandbox order is {current.raw_status}; its design is locked")
        return current

    def update_address(self, provider_order_id: str, request: SubmitRequest) -> ProviderOrder:
        current = self.get_status(provider_order_id, reference=request.reference)
        if current.status != ProviderStatus.ACCEPTED:
            raise OrderLocked(
                f"order {request.order_number} is already {current.raw_status} at the sandbox "
                "provider: its address can no longer change"
            )
        return current


class CatalogSandboxProvider(SandboxProvider):
    """The sandbox with a product catalog (`catalog = [...]` in its config): it knows
    only those codes, for `podops templates check` and the Products table, and refuses
    an order naming another, as a real provider refuses an unknown variant."""

    def __init__(
        self,
        name: str,
        *,
        stage_s: float,
        catalog: Collection[str],
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(name, stage_s=stage_s, clock=clock)
        self.catalog = frozenset(catalog)

    def unknown_codes(self, codes: Collection[str]) -> dict[str, str]:
        return {code: "not in the sandbox catalog" for code in codes if code not in self.catalog}

    def submit(self, request: SubmitRequest) -> ProviderOrder:
        unknown = self.unknown_codes([item.provider_sku for item in request.items])
        if unknown:
            codes = ", ".join(sorted(unknown))
            raise ProviderError(f"sandbox catalog has no product {codes}", retryable=False)
        return super().submit(request)


def _accepted_at(provider_order_id: str) -> float:
    try:
        return float(provider_order_id.split("-", 2)[1])
    except (IndexError, ValueError) as exc:
        raise ProviderError(
            f"{provider_order_id!r} is not a sandbox order id", retryable=False
        ) from exc
