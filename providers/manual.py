"""The manual provider: for shops whose provider has no integration.

"Submitting" makes the order ready to download: a packing slip PDF is stored
next to the print files (the local folder or the bucket, `podops.ports.storage`),
and the submission event lists links to it and to each print file (one per
placement when a template has several: front, back), which the slip names under
each line. Staff place the order themselves and enter tracking with
`podops track` (or the sheet, or Slack). Nothing is polled.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from podops.errors import ProviderError, StorageUnavailable
from podops.ports.fulfillment import (
    CancelOutcome,
    PrintFileLinks,
    ProviderCapabilities,
    ProviderOrder,
    ProviderStatus,
    SubmitRequest,
)
from podops.ports.storage import FileStorage
from providers.packing_slip import PackingSlip, SlipLine, render_pdf

ADDRESS_LINES = (("first_name", "last_name"), ("company",), ("address_1",), ("address_2",))


class ManualProvider:
    capabilities = ProviderCapabilities(
        can_cancel=True,
        needs_public_print_urls=False,
        tracking_by_staff=True,
        accepts_address_changes=True,
    )

    def __init__(
        self, name: str, storage: FileStorage, links: PrintFileLinks | None = None
    ) -> None:
        self.name = name
        self.storage = storage
        self.links = links
        self._lock = threading.Lock()

    def slip_path(self, reference: str) -> str:
        """Where the order's packing slip is kept (a path, or `s3://...`)."""
        return self.storage.location_of(f"packing-slip-{reference}.pdf")

    def submit(self, request: SubmitRequest) -> ProviderOrder:
        """Store the slip (atomically: a reader never sees half of it); a storage that
        refuses raises StorageUnavailable, so the submission is retried."""
        data = render_pdf(_slip(request))
        with self._lock, _storage_as_provider_error():
            location = self.storage.put(
                f"packing-slip-{request.reference}.pdf", data, "application/pdf"
            )
        return self._order(request.reference, location, request)

    def _order(
        self, reference: str, location: str, request: SubmitRequest | None = None
    ) -> ProviderOrder:
        link = self.links.url_for(location) if self.links else self.storage.url_for(location)
        documents = {"packing_slip": link}
        for item in request.items if request else ():
            if not item.placements:
                documents[f"print_file {item.line_reference}"] = item.print_file_url
            for placed in item.placements:  # every placement's file (a tee's front and back)
                documents[f"print_file {item.line_reference} {placed.placement}"] = placed.url
        return ProviderOrder(
            f"manual-{reference}",
            reference,
            ProviderStatus.ACCEPTED,
            "ready to download",
            documents=documents,
        )

    def find_by_reference(self, reference: str) -> ProviderOrder | None:
        location = self.slip_path(reference)
        with _storage_as_provider_error():
            found = self.storage.exists(location)
        return self._order(reference, location) if found else None

    def get_status(self, provider_order_id: str, *, reference: str) -> ProviderOrder:
        return self._order(reference, self.slip_path(reference))

    def cancel(self, provider_order_id: str, *, reference: str) -> CancelOutcome:
        self.storage.delete(self.slip_path(reference))
        return CancelOutcome(True, "cancelled (manual provider: make sure it was not placed)")

    def update_design(self, provider_order_id: str, request: SubmitRequest) -> ProviderOrder:
        return self.submit(request)

    def update_address(self, provider_order_id: str, request: SubmitRequest) -> ProviderOrder:
        """The packing slip is written again with the new address (staff print it)."""
        return self.submit(request)


@contextmanager
def _storage_as_provider_error() -> Iterator[None]:
    """A storage that cannot answer is this provider being unavailable: retried."""
    try:
        yield
    except StorageUnavailable as exc:
        raise ProviderError(f"packing slip: {exc.message}", retryable=True) from exc


def _slip(request: SubmitRequest) -> PackingSlip:
    address = request.address
    ship_to = [" ".join(address.get(key, "") for key in keys).strip() for keys in ADDRESS_LINES]
    if not ship_to[0]:
        ship_to[0] = request.customer_name
    city = " ".join(part for part in (address.get("city", ""), address.get("state", "")) if part)
    ship_to.append(f"{city} {address.get('postcode', '')}".strip())
    ship_to += [address.get("country", ""), request.phone]
    lines = [
        SlipLine(
            item.line_reference,
            item.sku,
            item.name,
            item.quantity,
            item.personalization,
            tuple(placed.placement for placed in item.placements),
        )
        for item in request.items
    ]
    return PackingSlip(request.order_number, request.reference, ship_to, lines, request.note)
