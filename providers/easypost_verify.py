"""Address verification with EasyPost's address API, through the official `easypost` client.

One call per address: `client.address.create(verify=True, ...)` (POST
/v2/addresses with `verify`). EasyPost answers 201 either way and says in
`verifications.delivery` whether a carrier can deliver there, with its reasons
(`errors[].message`: "Address not found", "House number is missing") and the
corrected fields of a deliverable address. `verify` rather than `verify_strict`:
a failed address is then an answer, not an exception, so an outage can never
pass for a bad address (api-notes-providers.md section E).

Errors are mapped at this boundary: timeouts, connection failures, 5xx, 429 and
a body that is not JSON mean the service could not answer (`AddressServiceDown`,
retried later); 401/402/403 mean podops' account or key is wrong (not
retryable: staff must fix the configuration); any other 4xx is EasyPost refusing
the address itself, a verdict with its words. The key comes only from the
environment (`PODOPS_EASYPOST__API_KEY`) and is masked in every message.
"""

from __future__ import annotations

from typing import Any

import easypost
from easypost.easypost_object import EasyPostObject
from easypost.errors import (
    ApiError,
    ForbiddenError,
    HttpError,
    JsonError,
    PaymentError,
    RateLimitError,
    TimeoutError,
    UnauthorizedError,
)

from podops.errors import ConfigError
from podops.ports.address import AddressServiceDown, AddressVerdict, PostalAddress
from podops.settings import EasyPostConfig

NAME = "EasyPost"
FIELDS = {
    "name": "name",
    "company": "company",
    "street1": "line1",
    "street2": "line2",
    "city": "city",
    "state": "state",
    "zip": "postcode",
    "country": "country",
    "phone": "phone",
}
"""EasyPost's Address field -> ours (`PostalAddress`, `podops.address.FIELDS`)."""
ACCOUNT_ERRORS = (UnauthorizedError, PaymentError, ForbiddenError)


class EasyPostVerifier:
    """`AddressVerifier` over the official client (requests, connection retries built in)."""

    name = NAME

    def __init__(self, config: EasyPostConfig) -> None:
        if config.api_key is None:
            raise ConfigError("EasyPost has no API key: set PODOPS_EASYPOST__API_KEY")
        self.client = easypost.EasyPostClient(
            config.api_key.get_secret_value(),
            api_base=config.base_url.rstrip("/"),
            timeout=config.timeout_s,
        )

    def verify(self, address: PostalAddress) -> AddressVerdict:
        params = {ours: getattr(address, field) for ours, field in FIELDS.items()}
        params = {k: v for k, v in params.items() if v}
        try:
            found = self.client.address.create(verify=True, **params)
        except (TimeoutError, HttpError, JsonError, RateLimitError) as exc:
            message = f"{NAME} did not answer: {_words(exc)}"
            raise AddressServiceDown(message, retryable=True) from exc
        except ACCOUNT_ERRORS as exc:
            raise AddressServiceDown(
                f"{NAME} refused podops' account ({exc.http_status}: {_words(exc)}); "
                "check PODOPS_EASYPOST__API_KEY and the EasyPost account",
                retryable=False,
            ) from exc
        except ApiError as exc:
            if exc.http_status is None or exc.http_status >= 500:
                raise AddressServiceDown(
                    f"{NAME} is failing ({exc.http_status or 'no status'}: {_words(exc)})",
                    retryable=True,
                ) from exc
            return AddressVerdict(False, _reasons(exc.errors) or (_words(exc),))
        return _verdict(_plain(found))


def _verdict(found: dict[str, Any]) -> AddressVerdict:
    delivery = (found.get("verifications") or {}).get("delivery") or {}
    if delivery.get("success") is True:
        suggestions = {
            ours: str(found[theirs])
            for theirs, ours in FIELDS.items()
            if isinstance(found.get(theirs), str) and found[theirs]
        }
        return AddressVerdict(True, (), suggestions)
    if not delivery:
        raise AddressServiceDown(f"{NAME} answered without a delivery verification", retryable=True)
    return AddressVerdict(False, _reasons(delivery.get("errors")))


def _reasons(errors: Any) -> tuple[str, ...]:
    """The carrier's words, each once: field errors are objects or plain strings."""
    found: list[str] = []
    for entry in errors or []:
        text = entry.get("message") if isinstance(entry, dict) else entry
        if isinstance(text, str) and text.strip() and text.strip() not in found:
            found.append(text.strip())
    return tuple(found)


def _plain(value: Any) -> dict[str, Any]:
    """The client's answer (an EasyPostObject) as plain dicts and lists."""
    if isinstance(value, EasyPostObject):
        plain = value.to_dict()
        return plain if isinstance(plain, dict) else {}
    return value if isinstance(value, dict) else {}


def _words(exc: Exception) -> str:
    message = getattr(exc, "message", "") or str(exc)
    return " ".join(str(message).split())[:300] or type(exc).__name__
