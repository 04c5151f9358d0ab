"""What the core needs from a fulfillment provider, and from the print-file renderer.

Every provider (CustomCat, ShineOn, manual, sandbox) implements
`FulfillmentProvider`. Requests carry *our* order reference, which each provider
stores as its external id, so an order can always be found again after a crash
or a timeout: that lookup is what makes submission exactly-once.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from podops.errors import ProviderError
from podops.refs import OrderRef


class ProviderStatus(StrEnum):
    """A provider's many status words mapped onto the few podops acts on."""

    ACCEPTED = "accepted"
    IN_PRODUCTION = "in_production"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"
    UNRECOGNIZED = "unrecognized"
    """A word podops does not know (a design rejection, a provider-side hold...):
    the order stays as it is and staff are told once."""


DEFAULT_PLACEMENT = "front"
"""The placement of a line's one print file when its template names no others."""


@dataclass(frozen=True, slots=True)
class PlacedFile:
    """One print file of a line and where on the product it goes (a template's
    placement name: "front", "back", "left", "right"...); each provider maps the
    name to its own vocabulary (Printful `files[].type`, Printify `print_areas`)."""

    placement: str
    url: str


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
    placements: tuple[PlacedFile, ...] = ()
    """Every print file of the line when its template has several placements (front
    and back); empty: the one `print_file_url`, at DEFAULT_PLACEMENT."""

    @property
    def files(self) -> tuple[PlacedFile, ...]:
        """The line's print files with their placements (at least one)."""
        return self.placements or (PlacedFile(DEFAULT_PLACEMENT, self.print_file_url),)


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
    unfinished: bool = False
    """The order exists but its placement's second step has not happened (Printify: not
    sent to production; Printful: a draft left unconfirmed). Only the submission
    worker finishes it (`FinishesPlacement`), after checking the found order's design;
    a lookup made for any other reason (a cancel) must leave it as it is."""
    cost: Decimal | None = None
    """What the provider charges for the order (products, printing and its shipping), as
    it reports it; None: it reports none (reports then show the margin as unknown)."""
    cost_currency: str | None = None
    """ISO 4217 code of `cost`."""


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


@runtime_checkable
class FinishesPlacement(Protocol):
    """A provider whose placement takes two calls (create, then send to production or
    confirm), so a crash or an outage between them leaves an order a lookup finds
    `unfinished`."""

    def finish_placement(self, found: ProviderOrder, request: SubmitRequest) -> ProviderOrder:
        """Do the second step for an order the lookup found unfinished; raise
        ProviderError as `submit` would."""
        ...


class WebhookRefused(ProviderError):
    """A provider webhook delivery that is not verified (wrong URL token or signature):
    answered 401, nothing changes."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)


@runtime_checkable
class ProviderWebhooks(Protocol):
    """A provider that notifies us by webhook (Printful, Printify, Gelato). Deliveries
    are hints only: podops re-reads each named order from the provider."""

    def webhook_references(self, token: str, headers: Mapping[str, str], body: bytes) -> list[str]:
        """Our references (fulfillment references, decoded from the provider's external
        id) that a delivery names; raise WebhookRefused unless the URL `token` (constant
        time) or the signature in `headers` verifies it; [] for a topic we ignore."""
        ...


@runtime_checkable
class ProductCatalog(Protocol):
    """A provider that can say whether it knows a product code (a routing rule's or a
    Products row's `provider_sku`), so `podops templates check` catches a typo before
    an order is refused."""

    def unknown_codes(self, codes: Collection[str]) -> dict[str, str]:
        """The codes the provider does not know, each with the reason in its words."""
        ...


class PrintFileSource(Protocol):
    """The renderer, as the submission worker sees it."""

    def ensure_current(self, order_ref: str | OrderRef) -> None:
        """Render (and commit) every line item of the order lacking a current print file;
        `order_ref` is the order's `OrderRef` (its text `main:1234` may read as another
        order too: `podops.services.get_order`)."""
        ...


class PrintFileLinks(Protocol):
    """Turns a stored print file (path or URL) into a link a provider can download."""

    def url_for(self, print_file: str) -> str: ...


def json_shape(value: Any) -> str:
    """A short description of an unexpected answer, for a person reading the error."""
    if isinstance(value, dict):
        return "an object with keys " + ", ".join(sorted(map(str, value))[:8])
    return f"a {type(value).__name__}"
