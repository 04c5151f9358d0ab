"""The fake EasyPost's shipments, labels and trackers (adds routes to `FakeEasyPost`).

Follows api-notes-providers.md section E, docs.easypost.com (Shipment, Rate,
PostageLabel, Tracker, Refunds, Webhooks) and the client's recorded cassettes
(test_shipment_create, test_shipment_buy, test_shipment_refund, test_shipment_label):
- `POST /v2/shipments` `{"shipment": {from_address, to_address, parcel, options,
  reference}}` answers 201 with `rates` (prices as strings, `delivery_days`) and
  `messages` (carriers that gave no rate, `type: "rate_error"`); a missing address or
  parcel, or a parcel without a positive weight, is 422.
- `POST /v2/shipments/{id}/buy` `{"rate": {"id"}}` answers 200 with `tracking_code`,
  `selected_rate`, `postage_label` (`label_url` is always the PNG; `label_pdf_url` /
  `label_zpl_url` when `options.label_format` asked for that format) and `tracker`.
  Buying a shipment that has a label is refused 422 `SHIPMENT.POSTAGE.EXISTS` (the
  notes' double-buy pitfall: the code is assumed) unless `refuse_repeat_buy` is off,
  when it buys a second label (so a double shows in the counts).
- `GET /v2/shipments/{id}`, `GET /v2/shipments/{id}/label?file_format=ZPL|PDF|PNG`
  (converts a bought label), `POST /v2/shipments/{id}/refund` (`refund_status`
  `submitted`; `rejected` for ids in `refund_rejected`; 422 before a label exists).
- Label files at `/files/postage_label/{id}.png|pdf|zpl` (EasyPost serves them from
  its own file host, without the API key): a real PNG, a real 4x6 PDF, ZPL text.
- `POST /v2/trackers`, `GET /v2/trackers/{id}`; `tracker_event()` builds a signed
  `tracker.updated` Event (`X-Hmac-Signature: hmac-sha256-hex=...` over the raw body
  with the NFKD-normalised secret) for a test to deliver.

Faults: `Failure(402|422|429|500, path="/buy")` queued answers, `latency_s`,
`timeout_after_buy` (the next N buys buy the label, then hold the answer past the
client's timeout and drop it) or `timeout_every` (every Nth buy does so), and
`no_rates_zips` (carriers give no rate). Counts: `bought_per_shipment`,
`bought_per_reference`, `doubles()`.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import time
import unicodedata
import uuid
from collections import Counter
from decimal import Decimal
from typing import Any

from tests.fakes.easypost import FakeEasyPost, error

CARRIER_RATES = (
    # carrier, service, base price, per-ounce price, delivery days
    ("USPS", "GroundAdvantage", Decimal("4.50"), Decimal("0.20"), 5),
    ("USPS", "Priority", Decimal("8.10"), Decimal("0.25"), 2),
    ("UPS", "Ground", Decimal("9.20"), Decimal("0.10"), 4),
    ("UPS", "NextDayAir", Decimal("31.00"), Decimal("0.40"), 1),
)
PREFIX = {"USPS": "9400", "UPS": "1Z"}
NOT_FOUND = "The requested resource could not be found."


class FakeEasyPostLabels(FakeEasyPost):
    def __init__(self) -> None:
        super().__init__()
        self.shipments: dict[str, dict[str, Any]] = {}
        self.trackers: dict[str, dict[str, Any]] = {}
        self.files: dict[str, tuple[bytes, str]] = {}
        self.bought_per_shipment: Counter[str] = Counter()
        self.bought_per_reference: Counter[str] = Counter()
        self.refunds: list[str] = []
        self.refund_rejected: set[str] = set()
        self.no_rates_zips: set[str] = set()
        self.refuse_repeat_buy = True
        self.timeout_after_buy = 0
        self.timeout_every = 0
        self.hold_s = 3.0
        self.buys = 0
        self.route("POST", r"/v2/shipments", self._create_shipment)
        self.route("GET", r"/v2/shipments/(shp_[0-9a-f]+)", self._get_shipment)
        self.route("POST", r"/v2/shipments/(shp_[0-9a-f]+)/buy", self._buy)
        self.route("GET", r"/v2/shipments/(shp_[0-9a-f]+)/label", self._convert)
        self.route("POST", r"/v2/shipments/(shp_[0-9a-f]+)/refund", self._refund)
        self.route("POST", r"/v2/trackers", self._create_tracker)
        self.route("GET", r"/v2/trackers/(trk_[0-9a-f]+)", self._get_tracker)

    def doubles(self) -> int:
        """Labels bought beyond one per shipment and per reference."""
        with self.lock:
            per_shipment = sum(n - 1 for n in self.bought_per_shipment.values() if n > 1)
            per_reference = sum(n - 1 for n in self.bought_per_reference.values() if n > 1)
        return max(per_shipment, per_reference)

    @property
    def labels_bought(self) -> int:
        with self.lock:
            return sum(self.bought_per_shipment.values())

    # Files (no API key, raw bytes) --------------------------------------------------

    def _dispatch(self, http: Any) -> None:
        if http.path.startswith("/files/"):
            found = self.files.get(http.path.rsplit("/", 1)[-1])
            body, kind = found if found else (b"not found", "text/plain")
            http.send_response(200 if found else 404)
            http.send_header("content-type", kind)
            http.send_header("content-length", str(len(body)))
            http.end_headers()
            http.wfile.write(body)
            return
        super()._dispatch(http)

    # Shipments ------------------------------------------------------------------------

    def _create_shipment(self, *, body: Any, http: Any, **_: Any) -> Any:
        mode = self._mode(http)
        if mode is None:
            return self._unauthorized()
        given = body.get("shipment") if isinstance(body, dict) else None
        if not isinstance(given, dict):
            return error(422, "PARAMETER.REQUIRED", "Missing required parameter.", ["shipment"])
        for name in ("to_address", "from_address", "parcel"):
            if not isinstance(given.get(name), dict):
                errors = [{"field": name, "message": "cannot be blank"}]
                return error(422, "PARAMETER.REQUIRED", "Missing required parameter.", errors)
        parcel = given["parcel"]
        weight = parcel.get("weight")
        if not isinstance(weight, int | float) or weight <= 0:
            errors = [{"field": "weight", "message": "must be greater than 0"}]
            return error(422, "PARCEL.WEIGHT.INVALID", "Invalid parcel weight.", errors)
        shipment_id = f"shp_{uuid.uuid4().hex}"
        rates, messages = self._rates(shipment_id, given, mode)
        shipment = {
            "id": shipment_id,
            "object": "Shipment",
            "mode": mode,
            "reference": given.get("reference"),
            "status": "unknown",
            "from_address": given["from_address"],
            "to_address": given["to_address"],
            "parcel": {"object": "Parcel", **parcel},
            "options": given.get("options") or {},
            "rates": rates,
            "messages": messages,
            "selected_rate": None,
            "postage_label": None,
            "tracking_code": None,
            "tracker": None,
            "refund_status": None,
            "created_at": _now(),
        }
        with self.lock:
            self.shipments[shipment_id] = shipment
        return 201, shipment, {"location": f"/api/v2/shipments/{shipment_id}"}

    def _rates(
        self, shipment_id: str, given: dict[str, Any], mode: str
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        zip_code = str(given["to_address"].get("zip") or "")
        if zip_code in self.no_rates_zips:
            messages = [
                {"carrier": carrier, "type": "rate_error", "message": "No rates for this route"}
                for carrier in ("USPS", "UPS")
            ]
            return [], messages
        ounces = Decimal(str(given["parcel"]["weight"]))
        rates = []
        for carrier, service, base, per_oz, days in CARRIER_RATES:
            price = (base + per_oz * ounces).quantize(Decimal("0.01"))
            rates.append(
                {
                    "id": f"rate_{uuid.uuid4().hex}",
                    "object": "Rate",
                    "mode": mode,
                    "shipment_id": shipment_id,
                    "carrier": carrier,
                    "service": service,
                    "rate": str(price),
                    "currency": "USD",
                    "delivery_days": days,
                    "delivery_date_guaranteed": False,
                }
            )
        return rates, []

    def _found(self, shipment_id: str) -> dict[str, Any] | None:
        with self.lock:
            return self.shipments.get(shipment_id)

    def _get_shipment(self, shipment_id: str, *, http: Any, **_: Any) -> Any:
        if self._mode(http) is None:
            return self._unauthorized()
        shipment = self._found(shipment_id)
        if shipment is None:
            return error(404, "NOT_FOUND", NOT_FOUND)
        return 200, shipment, {}

    def _buy(self, shipment_id: str, *, body: Any, http: Any, **_: Any) -> Any:
        if self._mode(http) is None:
            return self._unauthorized()
        shipment = self._found(shipment_id)
        if shipment is None:
            return error(404, "NOT_FOUND", NOT_FOUND)
        rate_id = ((body or {}).get("rate") or {}).get("id")
        rate = next((r for r in shipment["rates"] if r["id"] == rate_id), None)
        if rate is None:
            errors = [{"field": "rate", "message": "must be one of the shipment's rates"}]
            return error(422, "SHIPMENT.RATE.INVALID", "Invalid rate.", errors)
        with self.lock:
            if shipment["postage_label"] is not None and self.refuse_repeat_buy:
                return error(
                    422, "SHIPMENT.POSTAGE.EXISTS", "Postage already exists for this shipment."
                )
            self.buys += 1
            hold = self.timeout_after_buy > 0 or (
                self.timeout_every and self.buys % self.timeout_every == 0
            )
            if self.timeout_after_buy > 0:
                self.timeout_after_buy -= 1
            self._bought(shipment, rate)
        if hold:  # bought, and the answer never comes back in time
            time.sleep(self.hold_s)
            return -1, None, {}
        return 200, shipment, {}

    def _bought(self, shipment: dict[str, Any], rate: dict[str, Any]) -> None:
        """Buy `rate` (under the lock): the label files, tracking code and tracker."""
        label_id = f"pl_{uuid.uuid4().hex}"
        tracking = PREFIX.get(rate["carrier"], "EZ") + uuid.uuid4().hex[:18].upper()
        base = f"{self.url}/files/postage_label"
        self.files[f"{label_id}.png"] = (label_png(tracking), "image/png")
        label = {
            "id": label_id,
            "object": "PostageLabel",
            "label_url": f"{base}/{label_id}.png",
            "label_file_type": "image/png",
            "label_size": "4x6",
            "label_resolution": 203,
            "label_date": _now(),
            "label_pdf_url": None,
            "label_zpl_url": None,
        }
        wanted = str((shipment["options"] or {}).get("label_format") or "PNG").upper()
        if wanted in ("PDF", "ZPL"):
            self._convert_label(label, tracking, wanted)
        tracker = {
            "id": f"trk_{uuid.uuid4().hex}",
            "object": "Tracker",
            "mode": shipment["mode"],
            "tracking_code": tracking,
            "carrier": rate["carrier"],
            "status": "pre_transit",
            "shipment_id": shipment["id"],
            "public_url": f"https://track.easypost.com/djE6{uuid.uuid4().hex[:12]}",
            "tracking_details": [],
        }
        self.trackers[tracker["id"]] = tracker
        shipment.update(
            postage_label=label,
            selected_rate=rate,
            tracking_code=tracking,
            tracker=tracker,
            status="pre_transit",
        )
        self.bought_per_shipment[shipment["id"]] += 1
        self.bought_per_reference[str(shipment.get("reference"))] += 1

    def _convert_label(self, label: dict[str, Any], tracking: str, wanted: str) -> None:
        name = f"{label['id']}.{wanted.lower()}"
        if wanted == "PDF":
            self.files[name] = (label_pdf(tracking), "application/pdf")
            label["label_pdf_url"] = f"{self.url}/files/postage_label/{name}"
        elif wanted == "ZPL":
            self.files[name] = (label_zpl(tracking), "application/zpl")
            label["label_zpl_url"] = f"{self.url}/files/postage_label/{name}"

    def _convert(self, shipment_id: str, *, query: dict[str, str], http: Any, **_: Any) -> Any:
        if self._mode(http) is None:
            return self._unauthorized()
        shipment = self._found(shipment_id)
        if shipment is None:
            return error(404, "NOT_FOUND", NOT_FOUND)
        wanted = str(query.get("file_format") or "").upper()
        if wanted not in ("PNG", "PDF", "ZPL", "EPL2"):
            errors = [{"field": "file_format", "message": "must be one of PNG, PDF, ZPL, EPL2"}]
            return error(422, "PARAMETER.INVALID", "Invalid file format.", errors)
        if shipment["postage_label"] is None:
            return error(422, "SHIPMENT.POSTAGE.MISSING", "The shipment has no postage label.")
        with self.lock:
            if wanted != "PNG":
                self._convert_label(shipment["postage_label"], shipment["tracking_code"], wanted)
        return 200, shipment, {}

    def _refund(self, shipment_id: str, *, http: Any, **_: Any) -> Any:
        if self._mode(http) is None:
            return self._unauthorized()
        shipment = self._found(shipment_id)
        if shipment is None:
            return error(404, "NOT_FOUND", NOT_FOUND)
        if shipment["postage_label"] is None:
            return error(422, "SHIPMENT.REFUND.INVALID", "The shipment has no postage to refund.")
        with self.lock:
            if shipment["refund_status"] in ("submitted", "refunded"):
                return error(
                    422, "SHIPMENT.REFUND.ALREADY_REQUESTED", "A refund was already requested."
                )
            rejected = shipment_id in self.refund_rejected
            shipment["refund_status"] = "rejected" if rejected else "submitted"
            self.refunds.append(shipment_id)
        return 200, shipment, {}

    # Trackers ---------------------------------------------------------------------------

    def _create_tracker(self, *, body: Any, http: Any, **_: Any) -> Any:
        mode = self._mode(http)
        if mode is None:
            return self._unauthorized()
        given = (body or {}).get("tracker") or {}
        if not given.get("tracking_code"):
            errors = [{"field": "tracking_code", "message": "cannot be blank"}]
            return error(422, "PARAMETER.REQUIRED", "Missing required parameter.", errors)
        tracker = {
            "id": f"trk_{uuid.uuid4().hex}",
            "object": "Tracker",
            "mode": mode,
            "tracking_code": given["tracking_code"],
            "carrier": given.get("carrier") or "USPS",
            "status": "pre_transit",
            "tracking_details": [],
        }
        with self.lock:
            self.trackers[tracker["id"]] = tracker
        return 201, tracker, {}

    def _get_tracker(self, tracker_id: str, *, http: Any, **_: Any) -> Any:
        if self._mode(http) is None:
            return self._unauthorized()
        tracker = self.trackers.get(tracker_id)
        return (200, tracker, {}) if tracker else error(404, "NOT_FOUND", NOT_FOUND)

    def tracker_event(
        self, tracking_code: str, status: str, secret: str, *, at: str = "2026-12-05T15:04:00Z"
    ) -> tuple[bytes, dict[str, str]]:
        """A `tracker.updated` Event for the parcel, signed as EasyPost signs webhooks:
        (raw body, headers)."""
        with self.lock:
            tracker = next(t for t in self.trackers.values() if t["tracking_code"] == tracking_code)
            tracker["status"] = status
            detail = {"object": "TrackingDetail", "status": status, "datetime": at}
            tracker["tracking_details"] = [*tracker["tracking_details"], detail]
            tracker["updated_at"] = at
        event = {
            "id": f"evt_{uuid.uuid4().hex}",
            "object": "Event",
            "mode": tracker["mode"],
            "description": "tracker.updated",
            "previous_attributes": {},
            "result": tracker,
            "status": "pending",
            "created_at": at,
        }
        body = json.dumps(event).encode()
        return body, {"X-Hmac-Signature": sign(body, secret), "content-type": "application/json"}


def sign(body: bytes, secret: str) -> str:
    key = unicodedata.normalize("NFKD", secret).encode()
    return "hmac-sha256-hex=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def label_png(tracking: str) -> bytes:
    """A 4x6 label at 203 dpi, as EasyPost's PNG labels are."""
    from PIL import Image, ImageDraw

    image = Image.new("1", (812, 1218), 1)
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 792, 1198), outline=0, width=4)
    draw.text((60, 80), f"FAKE EASYPOST LABEL {tracking}", fill=0)
    for x in range(60, 752, 12):  # a barcode-like band
        draw.rectangle((x, 900, x + (x // 12) % 3 + 2, 1100), fill=0)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def label_pdf(tracking: str) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(unit="in", format=(4, 6))
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    pdf.cell(text=f"FAKE EASYPOST LABEL {tracking}")
    return bytes(pdf.output())


def label_zpl(tracking: str) -> bytes:
    return f"^XA^FO50,50^A0N,40,40^FD{tracking}^FS^XZ".encode()


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
