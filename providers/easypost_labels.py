"""Shipping labels with EasyPost's shipment API, through the official `easypost` client.

`POST /shipments` (rates, nothing bought), `POST /shipments/{id}/buy` with one
rate, `GET /shipments/{id}` (after a lost answer: a `postage_label` means it
was bought), `GET /shipments/{id}/label?file_format=` (the label in another
format), `POST /shipments/{id}/refund` (void). api-notes-providers.md section E.

Errors are mapped here (`podops.ports.labels`): a timeout or 5xx while buying is
`BuyUnclear` (the buy may have happened: the caller looks the shipment up before
trying again); elsewhere timeouts, connection failures, 5xx and 429 are
`LabelServiceDown`; 402 (no postage funds), 422 and other 4xx are `LabelRefused`
with EasyPost's words. The key comes only from the environment.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import httpx
from easypost.errors import (
    ApiError,
    HttpError,
    JsonError,
    PaymentError,
    RateLimitError,
    TimeoutError,
)

from podops.errors import ConfigError
from podops.ports.address import AddressVerdict, PostalAddress
from podops.ports.labels import (
    BuyUnclear,
    LabelRefused,
    LabelServiceDown,
    LabelServiceError,
    LabelShipment,
    PostageLabel,
    Rate,
    ShipmentRequest,
)
from podops.settings import EasyPostConfig
from providers.easypost_verify import FIELDS, NAME, EasyPostVerifier, _plain, _reasons, _words

LABEL_URLS = {"png": "label_url", "pdf": "label_pdf_url", "zpl": "label_zpl_url"}
MAX_LABEL_BYTES = 5 * 1024 * 1024


class EasyPostLabels:
    """`LabelService` over the official client; verification shares its account."""

    name = NAME

    def __init__(self, config: EasyPostConfig) -> None:
        if config.api_key is None:
            raise ConfigError("EasyPost has no API key: set PODOPS_EASYPOST__API_KEY")
        self.verifier = EasyPostVerifier(config)
        self.client = self.verifier.client
        self.files = httpx.Client(timeout=config.timeout_s, follow_redirects=True)

    def verify(self, address: PostalAddress) -> AddressVerdict:
        return self.verifier.verify(address)

    def create_shipment(self, request: ShipmentRequest) -> LabelShipment:
        parcel = request.parcel
        params = {
            "from_address": _address(request.origin),
            "to_address": _address(request.destination),
            "parcel": {
                "weight": round(parcel.weight_oz, 1),
                "length": round(parcel.length_in, 1),
                "width": round(parcel.width_in, 1),
                "height": round(parcel.height_in, 1),
            },
            "options": {"label_format": "PDF", "label_size": "4x6"},
            "reference": request.reference,
        }
        return self._call("create the shipment", lambda: self.client.shipment.create(**params))

    def retrieve(self, shipment_id: str) -> LabelShipment:
        return self._call(
            "look the shipment up", lambda: self.client.shipment.retrieve(shipment_id)
        )

    def buy(self, shipment_id: str, rate_id: str) -> LabelShipment:
        try:
            found = self.client.shipment.buy(shipment_id, rate={"id": rate_id})
        except (TimeoutError, HttpError, JsonError) as exc:
            raise BuyUnclear(
                f"{NAME} did not answer the buy: {_words(exc)}", retryable=True
            ) from exc
        except ApiError as exc:
            if exc.http_status is None or exc.http_status >= 500:
                message = f"{NAME} failed during the buy ({exc.http_status}): {_words(exc)}"
                raise BuyUnclear(message, retryable=True) from exc
            raise _mapped("buy the label", exc) from exc
        return _shipment(_plain(found))

    def label_file(self, shipment_id: str, file_format: str) -> str:
        shipment = self._call(
            f"convert the label to {file_format.upper()}",
            lambda: self.client.shipment.label(shipment_id, file_format=file_format.upper()),
        )
        url = shipment.label.urls.get(file_format.lower()) if shipment.label else None
        if not url:
            raise LabelServiceDown(f"{NAME} gave no {file_format.upper()} label", retryable=True)
        return url

    def download(self, url: str) -> bytes:
        try:
            response = self.files.get(url)
        except httpx.HTTPError as exc:
            raise LabelServiceDown(
                f"the label file could not be fetched: {exc}", retryable=True
            ) from exc
        if response.status_code != 200 or len(response.content) > MAX_LABEL_BYTES:
            raise LabelServiceDown(
                f"the label file answered {response.status_code}", retryable=True
            )
        return response.content

    def refund(self, shipment_id: str) -> str:
        shipment = self._call("void the label", lambda: self.client.shipment.refund(shipment_id))
        return shipment.refund_status

    def close(self) -> None:
        self.files.close()

    def _call(self, what: str, call: Any) -> LabelShipment:
        try:
            return _shipment(_plain(call()))
        except (TimeoutError, HttpError, JsonError) as exc:
            raise LabelServiceDown(
                f"{NAME} did not answer ({what}): {_words(exc)}", retryable=True
            ) from exc
        except ApiError as exc:
            raise _mapped(what, exc) from exc


def _mapped(what: str, exc: ApiError) -> LabelServiceError:
    status = exc.http_status
    words = "; ".join(_reasons(getattr(exc, "errors", None))) or _words(exc)
    if isinstance(exc, RateLimitError):
        return LabelServiceDown(f"{NAME} is rate limiting podops ({what}): {words}", retryable=True)
    if status is None or status >= 500:
        return LabelServiceDown(f"{NAME} is failing ({status}, {what}): {words}", retryable=True)
    if isinstance(exc, PaymentError):
        return LabelRefused(
            f"{NAME} refused the payment ({what}): {words}; add funds to the EasyPost account",
            retryable=False,
        )
    return LabelRefused(f"{NAME} refused to {what} ({status}): {words}", retryable=False)


def _address(address: PostalAddress) -> dict[str, str]:
    params = {ours: getattr(address, field) for ours, field in FIELDS.items()}
    return {key: value for key, value in params.items() if value}


def _shipment(found: dict[str, Any]) -> LabelShipment:
    if not isinstance(found.get("id"), str):
        raise LabelServiceDown(f"{NAME} answered without a shipment id", retryable=True)
    rates = tuple(rate for raw in found.get("rates") or [] if (rate := _rate(raw)) is not None)
    messages = tuple(
        str(m.get("message"))
        for m in found.get("messages") or []
        if isinstance(m, dict) and m.get("message")
    )
    return LabelShipment(
        id=found["id"],
        rates=rates,
        label=_label(found),
        messages=messages,
        refund_status=str(found.get("refund_status") or ""),
    )


def _rate(raw: Any) -> Rate | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        return None
    try:
        price = Decimal(str(raw.get("rate")))
    except InvalidOperation:
        return None
    days = raw.get("delivery_days")
    return Rate(
        id=raw["id"],
        carrier=str(raw.get("carrier") or ""),
        service=str(raw.get("service") or ""),
        price=price,
        currency=str(raw.get("currency") or "USD"),
        delivery_days=days if isinstance(days, int) else None,
    )


def _label(found: dict[str, Any]) -> PostageLabel | None:
    postage = found.get("postage_label")
    if not isinstance(postage, dict) or not found.get("tracking_code"):
        return None
    urls = {kind: str(postage[key]) for kind, key in LABEL_URLS.items() if postage.get(key)}
    selected = found.get("selected_rate") or {}
    tracker = found.get("tracker") or {}
    try:
        price = Decimal(str(selected.get("rate")))
    except InvalidOperation:
        price = Decimal("0")
    return PostageLabel(
        tracking_code=str(found["tracking_code"]),
        carrier=str(selected.get("carrier") or ""),
        service=str(selected.get("service") or ""),
        price=price,
        currency=str(selected.get("currency") or "USD"),
        urls=urls,
        tracker_id=str(tracker.get("id") or ""),
        tracking_url=str(tracker.get("public_url") or ""),
    )
