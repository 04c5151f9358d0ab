"""What the core needs from a fulfillment provider, and from the print-file renderer.

Every provider (CustomCat, ShineOn, manual, sandbox) implements
`FulfillmentProvider`. Requests carry *our* order reference, which each provider
stores as its external id, so an order can always be found again after a crash
or a timeout: that lookup is what makes submission exactly-once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from podops.errors import ProviderError


class ProviderStatus(StrEnum):
    """A provider's many status words mapped onto the few podops acts on."""

    ACCEPTED = "accepted"
    IN_PRODUCTION = "in_production"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"
    UNRECOGNIZED = "unrecognized"
    """A word podops does not know (a design rejection, a provider-side hold...):
    the order stays as it is and staff are told once."""


@dataclass(frozen=True, slots=True)
class RequestItem:
    line_reference: str
    """`10001-01`: sent as the provider's line id so shipments map back to our lines."""
    sku: str
    provider_sku: str
    name: str
    quantity: int
    print_file_url: str
    personalization: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SubmitRequest:
    """One order as a provider needs it; built from the database, free of ORM objects."""

    reference: str
    """Our reference (`main-10001`), the provider's external order id."""
    order_number: str
    customer_name: str
    email: str
    phone: str
    address: dict[str, str]
    items: tuple[RequestItem, ...]
    shipping_method: str = ""
    note: str = ""
    callback_url: str = ""
    """Where a provider that pushes tracking should POST it (with a per-order token)."""


@dataclass(frozen=True, slots=True)
class ProviderShipment:
    carrier: str
    tracking_number: str
    lines: dict[str, int] | None = None
    """Units per line reference, when the provider says which lines a parcel holds."""
    quantity: int | None = None
    """Number of units, when the provider gives only a count."""
    shipped_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ProviderOrder:
    provider_order_id: str
    reference: str
    status: ProviderStatus
    raw_status: str = ""
    shipments: tuple[ProviderShipment, ...] = ()
    documents: dict[str, str] = field(default_factory=dict)
    """Links staff need (manual provider: print files and the packing slip)."""
    print_files: dict[str, str] = field(default_factory=dict)
    """The print-file URL of each line (by our line reference), when the provider
    reports them (ShineOn does; CustomCat's status answer does not)."""


@dataclass(frozen=True, slots=True)
class CancelOutcome:
    cancelled: bool
    message: str


@dataclass(frozen=True, slots=True)
class ProviderCapabilities:
    can_cancel: bool = True
    accepts_design_changes: bool = False
    """True when a submitted order can still get new print files (ShineOn before production)."""
    pushes_tracking: bool = False
    """True when the provider POSTs shipments to a callback URL we give it."""
    needs_public_print_urls: bool = True
    tracking_by_staff: bool = False
    """True when staff enter tracking by hand (manual): nothing to poll."""
    accepts_address_changes: bool = False
    """True when a submitted order's shipping address can still change through the
    provider's API (ShineOn while the order waits; `update_address`)."""
    address_required: frozenset[str] = frozenset()
    """Address fields (`podops.address.FIELDS`) this provider needs besides name, street,
    city and country; a change may not empty them."""


class DuplicateReference(ProviderError):
    """The provider already has an order with our reference: it exists, fetch it."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)


class VariantUnavailable(ProviderError):
    """The provider refused the order because a variant is out of stock (nothing was
    created). `skus`: the provider SKUs its answer names, empty when it names none.
    A store that allows it sends those lines by their next routing rule instead."""

    def __init__(self, message: str, skus: tuple[str, ...] = ()) -> None:
        super().__init__(message, retryable=False)
        self.skus = skus


class ProviderBusy(ProviderError):
    """The provider asked us to slow down (429); nothing was created."""

    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message, retryable=True)
        self.retry_after_s = retry_after_s


class FulfillmentProvider(Protocol):
    """One outside fulfillment system. Errors are ProviderError (retryable or not)."""

    name: str
    capabilities: ProviderCapabilities

    def submit(self, request: SubmitRequest) -> ProviderOrder:
        """Create the order; raise DuplicateReference if the reference exists."""
        ...

    def find_by_reference(self, reference: str) -> ProviderOrder | None:
        """The provider's order for our reference, or None if it has none."""
        ...

    def get_status(self, provider_order_id: str, *, reference: str) -> ProviderOrder:
        """Current status and shipments (some providers key lookups by our reference)."""
        ...

    def cancel(self, provider_order_id: str, *, reference: str) -> CancelOutcome:
        """Ask for cancellation; `cancelled=False` with the provider's words if refused."""
        ...

    def update_design(self, provider_order_id: str, request: SubmitRequest) -> ProviderOrder:
        """Replace the print files of a submitted order, or raise OrderLocked."""
        ...

    def update_address(self, provider_order_id: str, request: SubmitRequest) -> ProviderOrder:
        """Give a submitted order the request's shipping address, or raise OrderLocked
        saying where staff change it instead."""
        ...


class PrintFileSource(Protocol):
    """The renderer, as the submission worker sees it."""

    def ensure_current(self, order_ref: str) -> None:
        """Render (and commit) every line item of the order lacking a current print file;
        `order_ref` is the order's `OrderRef.staff` (`main:1234`)."""
        ...


class PrintFileLinks(Protocol):
    """Turns a stored print file (path or URL) into a link a provider can download."""

    def url_for(self, print_file: str) -> str: ...


def json_shape(value: Any) -> str:
    """A short description of an unexpected answer, for a person reading the error."""
    if isinstance(value, dict):
        return "an object with keys " + ", ".join(sorted(map(str, value))[:8])
    return f"a {type(value).__name__}"
