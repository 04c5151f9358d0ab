"""What the core needs from a shipping-label service (EasyPost) and from whatever
prints label sheets.

A label is bought in steps podops can resume: `create_shipment` (rates, nothing
bought, its id stored before anything else), `buy` one rate, `retrieve` (after
a lost answer: a shipment that already has its postage label was bought, so it
is never bought twice), `refund` (void). Errors come in three kinds:

    LabelServiceError (OutsideServiceError)
      LabelServiceDown    no answer, 5xx, 429: nothing is known to be bought
      LabelRefused        the service said no (402 payment, 422 invalid, no such
                          shipment): a person must change something
      BuyUnclear          the buy was sent and its answer lost (timeout, 5xx):
                          look the shipment up before buying again
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from podops.errors import OutsideServiceError
from podops.ports.address import AddressVerdict, PostalAddress


class LabelServiceError(OutsideServiceError):
    """A label service call failed; `message` is in words for staff."""


class LabelServiceDown(LabelServiceError):
    """No answer (timeout, connection refused, 5xx) or a rate limit: try again later."""


class LabelRefused(LabelServiceError):
    """The service refused (payment required, invalid parcel or address): not retried."""


class BuyUnclear(LabelServiceError):
    """A buy was sent and its answer lost: it may have been bought."""


@dataclass(frozen=True, slots=True)
class Parcel:
    weight_oz: float
    length_in: float
    width_in: float
    height_in: float


@dataclass(frozen=True, slots=True)
class Rate:
    id: str
    carrier: str
    service: str
    price: Decimal
    currency: str = "USD"
    delivery_days: int | None = None

    @property
    def name(self) -> str:
        return f"{self.carrier} {self.service}"


@dataclass(frozen=True, slots=True)
class PostageLabel:
    """A bought label: its tracking number and where its files are."""

    tracking_code: str
    carrier: str
    service: str
    price: Decimal
    currency: str
    urls: dict[str, str] = field(default_factory=dict)
    """File format ("png", "pdf", "zpl") -> URL the service keeps it at."""
    tracker_id: str = ""
    tracking_url: str = ""


@dataclass(frozen=True, slots=True)
class LabelShipment:
    """A shipment at the label service: its rates, and its label once bought."""

    id: str
    rates: tuple[Rate, ...] = ()
    label: PostageLabel | None = None
    messages: tuple[str, ...] = ()
    """Why carriers gave no rate (EasyPost's `messages`), in their words."""
    refund_status: str = ""


@dataclass(frozen=True, slots=True)
class ShipmentRequest:
    origin: PostalAddress
    destination: PostalAddress
    parcel: Parcel
    reference: str
    """Our reference (`main-1234-L1`), printed on the label and searchable there."""


class LabelService(Protocol):
    """One label service. Every call raises a `LabelServiceError` on failure."""

    name: str

    def verify(self, address: PostalAddress) -> AddressVerdict: ...

    def create_shipment(self, request: ShipmentRequest) -> LabelShipment: ...

    def retrieve(self, shipment_id: str) -> LabelShipment: ...

    def buy(self, shipment_id: str, rate_id: str) -> LabelShipment: ...

    def label_file(self, shipment_id: str, file_format: str) -> str:
        """The URL of the bought label in another format ("pdf", "zpl")."""
        ...

    def download(self, url: str) -> bytes: ...

    def refund(self, shipment_id: str) -> str:
        """Ask for the postage back; the service's refund status (submitted, refunded,
        rejected, not_applicable)."""
        ...


@dataclass(frozen=True, slots=True)
class SlipLine:
    reference: str
    sku: str
    name: str
    quantity: int
    personalization: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SlipFacts:
    """A packing slip's content, free of ORM objects."""

    order_number: str
    reference: str
    ship_to: tuple[str, ...]
    lines: tuple[SlipLine, ...]
    note: str = ""


class LabelPrinter(Protocol):
    """Printable PDFs of bought labels (fpdf2 in `providers/label_sheets.py`)."""

    def order_sheet(self, label_png: bytes, slip: SlipFacts) -> bytes:
        """The 4x6 label page and the packing slip page(s) of one order."""
        ...

    def batch(self, label_pngs: list[bytes]) -> bytes:
        """One 4x6 page per label (the morning print run)."""
        ...
