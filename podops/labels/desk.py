"""The label desk: buy a label for an order's parcel exactly once, void one, print them.

Every channel (CLI, Slack) asks here. Buying is a claim (`services.claim_label`,
one label of an order in flight), then outside any transaction: verify the
address, create the shipment and store its id, pick the rate, store the step,
buy. A buy whose answer is lost (timeout, 5xx) is looked up (`retrieve`) before
any new buy: a shipment with its postage label was bought. Refusals before the
buy (address, no rate, 402, 429) free the slot and leave the order as it was;
staff get the reason. Only a bought label changes the order: its parcel is
recorded as `podops track` records one.

Label files go through the storage port (`Runtime.storage`) beside the print files, so
with a bucket a label bought by a worker on one host is linked, downloaded and printed
from any other; the printable PDFs are written on the host of the person printing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from podops import services
from podops.db import Database
from podops.errors import DomainRefusal, StorageUnavailable
from podops.events import Actor
from podops.fulfillment.address_check import postal
from podops.housekeeping import LABEL_SHEETS_FOLDER, prune_label_sheets
from podops.label_settings import StoreLabels
from podops.labels.parcels import parcel_for, sender
from podops.labels.rates import RateRule, pick_rate
from podops.models import Label, Order, utcnow
from podops.ports.labels import (
    BuyUnclear,
    LabelPrinter,
    LabelService,
    LabelServiceError,
    LabelShipment,
    PostageLabel,
    ShipmentRequest,
    SlipFacts,
    SlipLine,
)
from podops.ports.storage import FileStorage, file_name
from podops.refs import in_shell
from podops.services import labels as label_services
from podops.services.labels import LabelClaim
from podops.settings import Settings
from podops.status import OrderStatus
from podops.tracking.parcels import ShipLine

log = logging.getLogger(__name__)
CONTENT_TYPES = {"pdf": "application/pdf", "png": "image/png", "zpl": "text/plain"}


class LabelUnsettled(DomainRefusal):
    """A buy was sent and its outcome could not be learnt: the label stays in flight
    and the next request looks it up before anything is bought."""


@dataclass(frozen=True, slots=True)
class LabelResult:
    order: str
    status: str
    carrier: str
    service: str
    price: Decimal
    currency: str
    tracking_number: str
    tracking_url: str
    files: dict[str, str] = field(default_factory=dict)
    """File format -> its location in the storage (a path, or `s3://bucket/key`)."""
    rule: str = ""
    warning: str = ""

    @property
    def pdf(self) -> str | None:
        return self.files.get("pdf")

    @property
    def words(self) -> str:
        """What staff are told in chat: the rate chosen, its price, the tracking."""
        rule = f" ({self.rule})" if self.rule else ""
        text = (
            f"order {self.order}, {self.carrier} {self.service}{rule} for {self.price} "
            f"{self.currency}, tracking {self.tracking_number} ({self.status})."
        )
        if self.tracking_url:
            text += f" Tracking link: {self.tracking_url}"
        if self.warning:
            text += f" Warning: {self.warning}"
        return text


@dataclass(frozen=True, slots=True)
class VoidResult:
    order: str
    tracking_number: str
    refund_status: str
    status: str


class LabelDesk:
    def __init__(
        self,
        db: Database,
        service: LabelService,
        settings: Settings,
        storage: FileStorage,
        printer: LabelPrinter | None = None,
        *,
        folder: Path,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.service = service
        self.settings = settings
        self.storage = storage
        """Where label files are kept (beside the print files): a label bought by a
        worker on one host is read back on any other (`[storage] kind = "s3"`)."""
        self.folder = folder
        """Where printable PDFs are written: on the host of the person printing."""
        self.printer = printer
        self.clock = clock
        self.manual = frozenset(
            name for name, config in settings.providers.items() if config.kind == "manual"
        )

    # Buying ---------------------------------------------------------------------------

    def buy(
        self,
        reference: str,
        actor: Actor,
        *,
        lines: list[ShipLine] | None = None,
        rate: str | None = None,
    ) -> LabelResult:
        RateRule("cheapest").override(rate)  # a mistyped rate is refused before anything
        with self.db.unit_of_work() as session:
            claim = services.labels.claim_label(
                session,
                reference,
                actor,
                manual=self.manual,
                lines=lines,
                rate_rule=rate or "",
                now=self.clock(),
            )
        store = self.settings.stores.get(claim.store)
        rule = RateRule.of_store(store.labels if store else StoreLabels()).override(rate)
        try:
            bought = self._buy(claim, rule)
        except LabelUnsettled:
            raise
        except (DomainRefusal, LabelServiceError) as exc:
            with self.db.unit_of_work() as session:
                label_services.fail_label(session, claim, exc.message)
            raise DomainRefusal(f"no label for order {claim.order.number}: {exc.message}") from exc
        files, warning = self._store_files(claim, bought)
        with self.db.unit_of_work() as session:
            label, shipment = label_services.record_bought(session, claim, bought, files, actor)
            status = OrderStatus(label.order.status).label
            tracking_url = shipment.tracking_url
        return LabelResult(
            order=claim.order.staff,
            status=status,
            carrier=bought.carrier,
            service=bought.service,
            price=bought.price,
            currency=bought.currency,
            tracking_number=label.tracking_number or bought.tracking_code,
            tracking_url=tracking_url,
            files=files,
            rule=rule.words,
            warning=warning,
        )

    def _buy(self, claim: LabelClaim, rule: RateRule) -> PostageLabel:
        if claim.service_shipment_id:  # resumed: look before anything else
            shipment = self.service.retrieve(claim.service_shipment_id)
            if shipment.label is not None:
                return shipment.label
        else:
            shipment = self._create(claim)
        rate = pick_rate(shipment.rates, rule, shipment.messages)
        with self.db.unit_of_work() as session:
            label_services.note_step(session, claim, "buying", rate_id=rate.id)
        attempts = self.settings.labels.buy_attempts
        for _attempt in range(attempts):
            try:
                answer = self.service.buy(shipment.id, rate.id)
            except BuyUnclear as exc:
                found = self._look_before_buying(shipment.id, exc)
                if found is not None:
                    return found
                continue
            if answer.label is None:
                raise LabelUnsettled(f"{self.service.name} answered the buy without a label")
            return answer.label
        raise LabelUnsettled(
            f"the buy for order {claim.order.number} did not answer {attempts} times and "
            "no label shows at the label service; ask again in a few minutes (podops looks "
            "the shipment up first, so nothing is bought twice)"
        )

    def _look_before_buying(self, shipment_id: str, lost: BuyUnclear) -> PostageLabel | None:
        """After a lost answer: the label if the buy happened (the guard against a
        second label), None if it did not; unsettled if the service cannot say."""
        try:
            found = self.service.retrieve(shipment_id)
        except LabelServiceError as exc:
            raise LabelUnsettled(
                f"{lost.message}; and the shipment could not be looked up ({exc.message}). "
                "Ask again in a few minutes: podops looks it up before buying"
            ) from exc
        return found.label

    def _create(self, claim: LabelClaim) -> LabelShipment:
        store = self.settings.stores.get(claim.store)
        origin = sender(self.settings.shipping_origin, store.labels.origin if store else None)
        parcel = parcel_for(
            [(key, qty) for _id, qty, key in claim.lines], self.settings.labels.parcels
        )
        with self.db.reading() as session:
            destination = postal(services.get_order(session, claim.order))
        verdict = self.service.verify(destination)
        if not verdict.deliverable:
            raise DomainRefusal(
                f"the shipping address does not verify ({self.service.name}: {verdict.reason}); "
                f"fix it with podops edit {in_shell(claim.order.typed_with_store)} "
                "address.FIELD=VALUE"
            )
        request = ShipmentRequest(origin, destination, parcel, claim.reference)
        shipment = self.service.create_shipment(request)
        with self.db.unit_of_work() as session:
            label_services.note_step(session, claim, "created", service_shipment_id=shipment.id)
        return shipment

    def _store_files(self, claim: LabelClaim, bought: PostageLabel) -> tuple[dict[str, str], str]:
        """The label's files through the storage port, beside the print files: the 4x6
        PDF, the PNG (for the printable sheets) and ZPL when set. A file that cannot be
        fetched or stored is named in the warning; the label stays bought and recorded."""
        wanted = ["pdf", "png"] + (["zpl"] if self.settings.labels.extra_format == "zpl" else [])
        files: dict[str, str] = {}
        problems = []
        for kind in wanted:
            try:
                url = bought.urls.get(kind)
                if url is None:
                    url = self.service.label_file(_shipment_id(self, claim), kind)
                data = self.service.download(url)
                name = f"label-{claim.reference}.{kind}"
                files[kind] = self.storage.put(name, data, CONTENT_TYPES[kind])
            except (LabelServiceError, StorageUnavailable) as exc:
                problems.append(f"{kind.upper()}: {exc.message}")
        warning = f"label file(s) not stored: {'; '.join(problems)}" if problems else ""
        return files, warning

    def read_file(self, location: str) -> bytes:
        """A stored label file, from whichever host or bucket keeps it."""
        try:
            return self.storage.read(location)
        except FileNotFoundError as exc:
            raise DomainRefusal(
                f"the label file {file_name(location)} is not in the storage any more"
            ) from exc

    def link(self, location: str) -> str:
        """A link staff can open (signed /files/ link, presigned URL or file:// URI)."""
        return self.storage.url_for(location)

    # Voiding --------------------------------------------------------------------------

    def void(self, reference: str, actor: Actor, *, tracking: str | None = None) -> VoidResult:
        with self.db.reading() as session:
            label = label_services.bought_label(session, reference, tracking)
            label_id, shipment_id = label.id, label.service_shipment_id
            number = label.tracking_number or ""
        if not shipment_id:
            raise DomainRefusal("that label has no shipment at the label service")
        try:
            refund_status = self.service.refund(shipment_id)
        except LabelServiceError as exc:
            raise DomainRefusal(f"the label {number} was not voided: {exc.message}") from exc
        if refund_status not in ("submitted", "refunded"):
            raise DomainRefusal(
                f"the carrier does not take label {number} back (refund "
                f"{refund_status or 'refused'}); it stays on the order"
            )
        with self.db.unit_of_work() as session:
            order = label_services.record_void(session, label_id, refund_status, actor)
            status = OrderStatus(order.status).label
            staff = f"{order.store.key}:{order.number}"
        return VoidResult(staff, number, refund_status, status)

    # Printing -------------------------------------------------------------------------

    def order_sheet(self, reference: str) -> Path:
        """One PDF: the order's latest label (4x6) and its packing slip."""
        printer = self._printer()
        with self.db.reading() as session:
            label = label_services.bought_label(session, reference, None)
            png = label.files.get("png")
            order = label.order
            slip = _slip(order)
            name = f"print-{label.tracking_number}.pdf"
        if not png:
            raise DomainRefusal("the label's image was not stored; void and buy again")
        return self._write(name, printer.order_sheet(self.read_file(png), slip))

    def batch(self, day: datetime | None = None) -> tuple[Path, int]:
        """Every label bought on `day` (the shop's day, default today) in one PDF."""
        printer = self._printer()
        tz = self.settings.tz
        local = (day or self.clock()).astimezone(tz).date()
        start = datetime.combine(local, time(0), tzinfo=tz)
        with self.db.reading() as session:
            bought = label_services.labels_bought_since(session, start)
            pngs = [
                str(label.files["png"])
                for label in bought
                if label.bought_at is not None
                and label.bought_at < start + timedelta(days=1)
                and label.files.get("png")
            ]
        if not pngs:
            raise DomainRefusal(f"no label was bought on {local.isoformat()}")
        images = [self.read_file(png) for png in pngs]
        return self._write(f"labels-{local.isoformat()}.pdf", printer.batch(images)), len(pngs)

    def _write(self, name: str, data: bytes) -> Path:
        """A printable PDF on this host (where the person printing is), in the label
        sheets folder; sheets past `housekeeping.label_sheets_days` there are deleted
        (made again on demand), as the daily `db.prune` does on its own host."""
        folder = self.folder / LABEL_SHEETS_FOLDER
        path = folder / name
        folder.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_bytes(data)
        temporary.replace(path)
        prune_label_sheets(folder, self.settings.housekeeping.label_sheets_kept)
        return path

    def _printer(self) -> LabelPrinter:
        if self.printer is None:
            raise DomainRefusal("label printing is not set up in this process")
        return self.printer


def _shipment_id(desk: LabelDesk, claim: LabelClaim) -> str:
    with desk.db.reading() as session:
        label = session.get(Label, claim.label_id)
        return str(label.service_shipment_id if label else "")


def _slip(order: Order) -> SlipFacts:
    address = order.shipping_address or {}
    name = (
        " ".join(str(address.get(k, "")) for k in ("first_name", "last_name")).strip()
        or order.customer_name
    )
    city = " ".join(str(address.get(k, "")) for k in ("city", "state") if address.get(k))
    ship_to = (
        name,
        str(address.get("company", "")),
        str(address.get("address_1", "")),
        str(address.get("address_2", "")),
        f"{city} {address.get('postcode', '')}".strip(),
        str(address.get("country", "")),
    )
    lines = tuple(
        SlipLine(
            item.reference,
            item.sku,
            item.name,
            item.quantity,
            {str(k): str(v) for k, v in (item.personalization or {}).items()},
        )
        for item in order.items
    )
    return SlipFacts(order.number, f"{order.store.key}-{order.number}", ship_to, lines, order.note)
