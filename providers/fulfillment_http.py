"""The boundary of the HTTP fulfillment providers: one request, errors mapped, no retry.

Creating an order is not idempotent, so this layer never retries by itself:
the submission worker decides, after looking the order up by our reference.
Outages (timeouts, dropped connections, 5xx) become retryable ProviderErrors,
429 becomes ProviderBusy with its Retry-After, and every other answer is
returned for the adapter to read in its own vocabulary. Secrets never appear
in messages: only the provider, the method, the path and the status, and the
provider's own words with every configured secret masked (`message_of`).

What every HTTP provider adapter (CustomCat, ShineOn, Printful, and the
Printify and Gelato adapters to come) would otherwise repeat lives here too:
the API-key check at construction (`api_key`) and reading a cancel answer
(`cancel_outcome`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx

from podops.errors import ConfigError, ProviderError
from podops.fulfillment.limits import BUSY_PAUSE_S, busy
from podops.logs import mask_secrets
from podops.ports.fulfillment import (
    CancelOutcome,
    ProviderBusy,
    SubmitRequest,
    VariantUnavailable,
    json_shape,
)
from podops.settings import ProviderConfig
from podops.shared_limits import Pacer, Throttled
from providers.http import json_body, retry_after_seconds

MESSAGE_KEYS = ("error", "message", "MSG", "ERROR", "msg", "errors")
FAIL_HEADER = "X-FAIL-MESSAGE"


def api_key(name: str, config: ProviderConfig, where_to_find: str) -> str:
    """The provider's secret, or a ConfigError naming the variable to set and its source."""
    if config.api_key is None or not config.api_key.get_secret_value():
        raise ConfigError(
            f"providers.{name}.api_key is missing; set PODOPS_PROVIDERS__{name.upper()}"
            f"__API_KEY to {where_to_find}"
        )
    return config.api_key.get_secret_value()


def call(client: httpx.Client, who: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """Send once; raise on outages and rate limits, return any other answer."""
    try:
        response = client.request(method, path, **kwargs)
    except httpx.TimeoutException as exc:
        raise ProviderError(
            f"{who} did not answer in time ({method} {path})", retryable=True
        ) from exc
    except httpx.TransportError as exc:
        raise ProviderError(f"cannot reach {who} ({type(exc).__name__})", retryable=True) from exc
    if response.status_code == 429:
        raise ProviderBusy(
            f"{who} asks us to slow down (429)", retry_after_s=retry_after_seconds(response)
        )
    if response.status_code >= 500:
        raise ProviderError(
            f"{who} had a server error ({response.status_code}) on {method} {path}",
            retryable=True,
        )
    return response


def paced_call(
    pace: Pacer, client: httpx.Client, who: str, method: str, path: str, **kwargs: Any
) -> httpx.Response:
    """`call` in its turn of the provider's (shared) pace; a 429 pauses the provider
    for every podops process until its Retry-After."""
    try:
        pace.acquire()
    except Throttled as exc:
        raise busy(exc, who) from exc
    try:
        return call(client, who, method, path, **kwargs)
    except ProviderBusy as exc:
        pace.pause(exc.retry_after_s or BUSY_PAUSE_S)
        raise


def message_of(response: httpx.Response) -> str:
    """The provider's own words from an error answer: CustomCat's `X-FAIL-MESSAGE`
    header first (its refusals carry the reason there), then a JSON message or
    short text in the body; any configured secret it quotes is masked (they are
    stored and shown)."""
    return mask_secrets(_words_of(response))


def _words_of(response: httpx.Response) -> str:
    header = response.headers.get(FAIL_HEADER, "").strip()
    if header:
        return header[:200]
    body = json_body(response)
    if isinstance(body, dict):
        for key in MESSAGE_KEYS:
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
            if isinstance(value, list) and value:
                return "; ".join(str(v) for v in value)
            nested = value.get("message") if isinstance(value, dict) else None
            if isinstance(nested, str) and nested.strip():
                return nested.strip()  # `{"error": {"reason": ..., "message": ...}}`
            if isinstance(value, dict) and value:
                return "; ".join(f"{k}: {v}" for k, v in value.items())
    text = response.text.strip()
    return text[:200] if text else f"HTTP {response.status_code}"


Words = Callable[[httpx.Response], str]
"""How an adapter reads the reason out of its provider's error answer (default
`message_of`; Printify nests its reason under `errors.reason`)."""


def refusal(who: str, response: httpx.Response, words: Words = message_of) -> ProviderError:
    """A permanent refusal, worded for staff."""
    if response.status_code in (401, 403):
        return ProviderError(
            f"{who} refused our API key ({response.status_code}); check the provider's "
            "api_key setting",
            retryable=False,
        )
    return ProviderError(
        f"{who} refused the order ({response.status_code}): {words(response)}",
        retryable=False,
    )


def cancel_outcome(who: str, response: httpx.Response, words: Words = message_of) -> CancelOutcome:
    """A cancel answer: done, or refused in the provider's words; a rejected key raises."""
    if response.is_success:
        return CancelOutcome(True, f"cancelled at {who}")
    if response.status_code in (401, 403):
        raise refusal(who, response)
    return CancelOutcome(False, f"{who} refused: {words(response)}")


def json_object(who: str, response: httpx.Response, key: str | None = None) -> dict[str, Any]:
    """The JSON object in a success answer (under `key` if given), or a permanent error."""
    body = json_body(response)
    if key is not None and isinstance(body, dict):
        body = body.get(key)
    if not isinstance(body, dict):
        shape = "no JSON" if body is None else json_shape(body)
        where = f" under {key!r}" if key else ""
        raise ProviderError(
            f"{who} answered with {shape}; expected an object{where} (HTTP {response.status_code})",
            retryable=False,
        )
    return body


OUT_OF_STOCK_WORDS = ("out of stock", "out-of-stock", "sold out")
"""How a refusal says a variant cannot be made now. Neither CustomCat nor ShineOn
documents the wording (docs/fulfillment.md, "Out of stock"): these words are an
assumption, kept narrow so an address or SKU refusal is never taken for one."""


def out_of_stock(who: str, response: httpx.Response, request: SubmitRequest) -> ProviderError:
    """A refusal, as `VariantUnavailable` when its words say a variant is out of stock
    (naming the request's provider SKUs it mentions), else as `refusal` words it."""
    message = message_of(response)
    lowered = message.lower()
    if response.status_code >= 500 or not any(w in lowered for w in OUT_OF_STOCK_WORDS):
        return refusal(who, response)
    named = tuple(
        dict.fromkeys(
            item.provider_sku
            for item in request.items
            if item.provider_sku
            and re.search(rf"(?<![\w-]){re.escape(item.provider_sku.lower())}(?![\w-])", lowered)
        )
    )
    return VariantUnavailable(
        f"{who} refused the order ({response.status_code}): {message}", skus=named
    )


def is_duplicate(message: str) -> bool:
    lowered = message.lower()
    return any(word in lowered for word in ("already", "duplicate", "exists", "taken"))


def email_for(who: str, name: str, request: SubmitRequest, config: ProviderConfig) -> str:
    """The customer's e-mail, else the shop's `contact_email`, for a provider that
    requires one; neither: a permanent refusal naming the setting (the order is not
    sent with a blank one for the provider to refuse in its own words)."""
    email = request.email.strip() or config.contact_email
    if not email:
        raise ProviderError(
            f"{who} needs an e-mail address and order {request.order_number} has none: set "
            f"contact_email in [providers.{name}] (the shop's address is sent instead), "
            "then retry",
            retryable=False,
        )
    return email


def require_public_urls(who: str, request: SubmitRequest) -> None:
    """HTTP providers download print files themselves: a local path is a permanent refusal."""
    for item in request.items:
        urls = [item.print_file_url, *(placed.url for placed in item.placements)]
        if not all(url.startswith(("https://", "http://")) for url in urls):
            raise ProviderError(
                f"{who} cannot download the print file of line {item.line_reference} (not a "
                "public link); set render.public_base_url and PODOPS_RENDER__LINK_SECRET",
                retryable=False,
            )
