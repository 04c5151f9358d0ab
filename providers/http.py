"""Shared httpx helpers for every outside HTTP API (stores, providers).

One place owns timeouts, bounded retries and error translation:

- `make_client(...)` builds an `httpx.Client` with the default timeouts.
- `send(client, method, url, ...)` sends one request and retries, with
  tenacity, on timeouts and connection errors, on 429 (honouring `Retry-After`
  up to a cap) and on 5xx. A request that is not idempotent (POST, PATCH) is
  retried only when it surely did not reach the server (the connection could
  not be made, or a 429 / a 503 with Retry-After refused it): after a read
  timeout or a dropped connection the shop may have done it already, and a
  second try would do it twice (two customer notes). The caller's outbox
  retries later, looking first. It returns the final 2xx response, or raises the
  caller's `OutsideServiceError` subclass (`StoreError`, `ProviderError`) with
  `retryable=True` for outages and `retryable=False` for refusals (4xx), the
  original httpx error chained with `raise ... from`.
- Each adapter passes `explain(response) -> str` to word refusals in its own
  vocabulary ("WooCommerce refused the consumer key (401)").

Secrets never appear in messages: only the method, the path and the status.
"""

from __future__ import annotations

import logging
import random
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from podops.errors import OutsideServiceError

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=5.0)
DEFAULT_LIMITS = httpx.Limits(max_connections=10, max_keepalive_connections=10)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Failures that happen before the request leaves: safe to retry any method."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try before giving up (the caller's own back-off takes over then)."""

    attempts: int = 4
    base_wait_s: float = 0.5
    max_wait_s: float = 30.0
    """A longer Retry-After is not waited out: the call fails as retryable at once."""


DEFAULT_RETRY = RetryPolicy()


class ErrorFactory(Protocol):
    def __call__(self, message: str, *, retryable: bool) -> OutsideServiceError: ...


class _Retry(Exception):
    """A response worth another try (429 or 5xx), carrying the response."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


def make_client(
    base_url: str,
    *,
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
    auth: httpx.Auth | tuple[str, str] | None = None,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    transport: httpx.BaseTransport | None = None,
    verify: ssl.SSLContext | bool = True,
) -> httpx.Client:
    """An httpx.Client with our defaults; adapters receive it ready-made.

    `verify`: an SSL context trusting a private CA, never False in production."""
    return httpx.Client(
        base_url=base_url,
        timeout=timeout,
        auth=auth,
        params=params,
        headers={"accept": "application/json", "user-agent": "podops", **(headers or {})},
        limits=DEFAULT_LIMITS,
        transport=transport,
        verify=verify,
        follow_redirects=False,
    )


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date), or None."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _wait(policy: RetryPolicy) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _Retry):
            hinted = retry_after_seconds(error.response)
            if hinted is not None:
                return hinted
        exponential = policy.base_wait_s * 2 ** (state.attempt_number - 1)
        return min(policy.max_wait_s, exponential * random.uniform(0.75, 1.25))

    return wait


def _stop_on_long_retry_after(policy: RetryPolicy) -> Callable[[RetryCallState], bool]:
    bounded = stop_after_attempt(policy.attempts)

    def stop(state: RetryCallState) -> bool:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _Retry):
            hinted = retry_after_seconds(error.response)
            if hinted is not None and hinted > policy.max_wait_s:
                return True
        return bounded(state)

    return stop


def _worth_retrying(idempotent: bool) -> Callable[[BaseException], bool]:
    def worth(error: BaseException) -> bool:
        if isinstance(error, NOT_SENT_ERRORS):
            return True
        if isinstance(error, _Retry):
            if idempotent or error.response.status_code == 429:
                return True
            return error.response.status_code == 503 and "retry-after" in error.response.headers
        return idempotent and isinstance(error, httpx.TransportError)

    return worth


def send(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    error: ErrorFactory,
    who: str,
    explain: Callable[[httpx.Response], str],
    policy: RetryPolicy = DEFAULT_RETRY,
    sleep: Callable[[float], None] = time.sleep,
    idempotent: bool | None = None,
    expected: frozenset[int] = frozenset(),
    **kwargs: Any,
) -> httpx.Response:
    """Send with bounded retries; return a 2xx response or raise `error(...)`.

    `idempotent` defaults to what the method promises (GET, PUT, DELETE... yes;
    POST, PATCH no); pass True for a POST carrying an idempotency key.
    `expected`: refusal statuses the caller handles itself (returned, not raised)."""
    if idempotent is None:
        idempotent = method.upper() in IDEMPOTENT_METHODS
    retrying = Retrying(
        stop=_stop_on_long_retry_after(policy),
        wait=_wait(policy),
        retry=retry_if_exception(_worth_retrying(idempotent)),
        sleep=sleep,
        reraise=True,
        before_sleep=lambda state: log.info(
            "%s: %s %s failed (attempt %d), retrying", who, method, url, state.attempt_number
        ),
    )
    try:
        response = retrying(_send_once, client, method, url, kwargs)
    except _Retry as exc:
        raise error(f"{who}: {explain(exc.response)}", retryable=True) from exc
    except httpx.TimeoutException as exc:
        raise error(f"{who}: no answer in time ({method} {_path(url)})", retryable=True) from exc
    except httpx.TransportError as exc:
        raise error(f"{who}: cannot connect ({_why(exc)})", retryable=True) from exc
    if response.is_success or response.status_code in expected:
        return response
    raise error(f"{who}: {explain(response)}", retryable=False)


def _send_once(
    client: httpx.Client, method: str, url: str, kwargs: dict[str, Any]
) -> httpx.Response:
    response = client.request(method, url, **kwargs)
    if response.status_code in RETRY_STATUSES:
        raise _Retry(response)
    return response


def _why(exc: httpx.TransportError) -> str:
    """The error's class, or in words when the TLS certificate was not trusted."""
    if "CERTIFICATE_VERIFY_FAILED" in str(exc):
        return "its TLS certificate is not trusted; a private CA needs ca_bundle"
    return type(exc).__name__


def _path(url: str) -> str:
    return url.split("?", 1)[0]


def json_body(response: httpx.Response) -> Any:
    """The parsed JSON body, or None when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        return None
