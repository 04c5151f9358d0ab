"""How podops talks to one Shopify shop: the GraphQL Admin API over plain httpx.

- `POST {base}/admin/api/{version}/graphql.json`, the version pinned in the store's
  settings, the token in `X-Shopify-Access-Token` (never logged, never in a message).
- The token is a custom app's permanent one, or comes from the client-credentials
  grant (`POST /admin/oauth/access_token`, valid 24 hours): it is renewed before
  each call that would otherwise run within `REFRESH_MARGIN_S` of its end, so it
  never runs out in the middle of a page or a pass.
- Cost-based throttling (Shopify's leaky bucket per app and shop): every answer's
  `extensions.cost.throttleStatus` is remembered, and before a call podops waits
  until the bucket, as it refills at `restoreRate`, holds what the call cost last
  time: paced, not bounced. A `THROTTLED` error in the body (whatever the HTTP
  status) is waited out for `(requested - available) / restoreRate` seconds and
  sent again; `throttled` counts them (a paced client sees none).
- A query that costs more than Shopify's single-query limit raises `TooCostly`
  with the cost Shopify named, so the caller can ask for fewer items.
- GraphQL `errors` and mutation `userErrors` (both come with HTTP 200) raise
  StoreError with Shopify's message, for `podops status` and staff to read.

Errors: StoreError(retryable=True) for outages (no connection, timeouts, 5xx,
throttling that does not end); retryable=False for refusals (a bad token, a
missing scope, a query Shopify does not accept).
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import httpx

from podops.errors import StoreError
from providers.http import DEFAULT_RETRY, RetryPolicy, json_body, retry_after_seconds

log = logging.getLogger(__name__)

TOKEN_PATH = "admin/oauth/access_token"
REFRESH_MARGIN_S = 30 * 60.0
"""A token with less than this left is renewed before the next call."""
MAX_THROTTLE_WAITS = 8
SINGLE_QUERY_LIMIT = 1000
"""Shopify refuses one query whose requested cost exceeds this (MAX_COST_EXCEEDED)."""
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_COST = re.compile(r"[Qq]uery cost is (\d+)")


class TooCostly(StoreError):
    """Shopify refused a query as too costly; `cost` is what it said the query costs."""

    def __init__(self, message: str, cost: int | None) -> None:
        super().__init__(message, retryable=False)
        self.cost = cost


class TokenSource(Protocol):
    def token(self) -> str:
        """A token valid for at least the next few minutes."""
        ...


@dataclass(frozen=True, slots=True)
class PermanentToken:
    """A custom app's Admin API token (shpat_...): it does not expire."""

    value: str

    def token(self) -> str:
        return self.value


class ClientCredentials:
    """Tokens by the client-credentials grant, renewed before their 24 hours end."""

    def __init__(
        self,
        client: httpx.Client,
        key: str,
        client_id: str,
        client_secret: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        margin_s: float = REFRESH_MARGIN_S,
    ) -> None:
        self.client, self.key = client, key
        self.client_id, self.client_secret = client_id, client_secret
        self.clock, self.margin_s = clock, margin_s
        self._token: str | None = None
        self._expires_at = 0.0
        self.grants = 0
        """How many tokens were asked for (one per 24 hours in a steady run)."""

    def token(self) -> str:
        if self._token is None or self._expires_at - self.clock() < self.margin_s:
            self._grant()
        assert self._token is not None
        return self._token

    def _grant(self) -> None:
        started = self.clock()
        form = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
        }
        try:
            response = self.client.post(TOKEN_PATH, data=form)
        except httpx.TransportError as exc:
            raise StoreError(
                f"store {self.key!r}: cannot reach Shopify for a token ({type(exc).__name__})",
                retryable=True,
            ) from exc
        body = json_body(response)
        if response.status_code >= 500:
            raise StoreError(
                f"store {self.key!r}: Shopify failed to give a token ({response.status_code})",
                retryable=True,
            )
        token = body.get("access_token") if isinstance(body, dict) else None
        if not response.is_success or not isinstance(token, str) or not token:
            said = _said(body)
            raise StoreError(
                f"store {self.key!r}: Shopify refused the client credentials "
                f"({response.status_code}){said}: check client_id and the client secret",
                retryable=False,
            )
        expires_in = body.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, int | float) else 86_400.0
        self._token, self._expires_at = token, started + lifetime
        self.grants += 1
        log.info("store %s: new Shopify access token, valid %.0f h", self.key, lifetime / 3600)


@dataclass(slots=True)
class Bucket:
    """The shop's cost bucket as its last answer described it."""

    maximum: float
    available: float
    restore_rate: float
    at: float

    def projected(self, now: float) -> float:
        return min(self.maximum, self.available + self.restore_rate * max(0.0, now - self.at))


class ShopifyGraphQL:
    """One shop's Admin API: `query()` returns the answer's `data`, or raises StoreError."""

    def __init__(
        self,
        key: str,
        client: httpx.Client,
        version: str,
        tokens: TokenSource,
        *,
        retry: RetryPolicy = DEFAULT_RETRY,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.key, self.client, self.tokens = key, client, tokens
        self.path = f"admin/api/{version}/graphql.json"
        self.retry, self.sleep, self.clock = retry, sleep, clock
        self.bucket: Bucket | None = None
        self.costs: dict[str, float] = {}
        """Operation name -> what it cost last time (requested), to pace the next one."""
        self.throttled = 0
        """THROTTLED answers received (a well-paced client gets none)."""
        self.waited_s = 0.0
        """Seconds spent pacing before calls."""
        self.server_time: datetime | None = None
        """Shopify's clock (HTTP Date) at its last answer: a safe sync cursor."""

    def query(
        self, document: str, variables: dict[str, Any] | None = None, *, name: str
    ) -> dict[str, Any]:
        """Run one operation (`name`: for pacing and messages); its `data`."""
        mutation = document.lstrip().startswith("mutation")
        for _ in range(MAX_THROTTLE_WAITS + 1):
            self._pace(self.costs.get(name))
            body = self._post({"query": document, "variables": variables or {}}, mutation, name)
            cost = self._remember_cost(body, name)
            errors = body.get("errors")
            if _throttled(errors):
                self.throttled += 1
                wait = self._throttle_wait(cost)
                log.info("store %s: Shopify throttled %s; waiting %.1f s", self.key, name, wait)
                self.sleep(wait)
                continue
            if errors:
                raise self._error(errors, name)
            data = body.get("data")
            if not isinstance(data, dict):
                raise StoreError(f"store {self.key!r}: Shopify answered {name} without data",
                                 retryable=True)  # fmt: skip
            return data
        raise StoreError(
            f"store {self.key!r}: Shopify kept throttling {name}; will try again later",
            retryable=True,
        )

    def _pace(self, cost: float | None) -> None:
        if self.bucket is None or not cost:
            return
        needed = min(cost, self.bucket.maximum)
        short = needed - self.bucket.projected(self.clock())
        if short > 0 and self.bucket.restore_rate > 0:
            wait = short / self.bucket.restore_rate
            self.waited_s += wait
            self.sleep(wait)

    def _post(self, payload: dict[str, Any], mutation: bool, name: str) -> dict[str, Any]:
        """One HTTP exchange, retried on outages (a mutation only when it surely did not
        arrive); the JSON body of a 200, or of a refusal that carries THROTTLED."""
        attempt = 0
        while True:
            attempt += 1
            headers = {"X-Shopify-Access-Token": self.tokens.token()}
            try:
                response = self.client.post(self.path, json=payload, headers=headers)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                self._again_or_raise(attempt, f"cannot connect ({type(exc).__name__})", exc)
                continue
            except httpx.TransportError as exc:
                if mutation:
                    raise StoreError(
                        f"store {self.key!r}: no answer to {name} ({type(exc).__name__}); "
                        "it is looked up before any retry", retryable=True) from exc  # fmt: skip
                self._again_or_raise(attempt, f"no answer in time ({type(exc).__name__})", exc)
                continue
            self.server_time = _server_time(response) or self.server_time
            body = json_body(response)
            if isinstance(body, dict) and (response.is_success or _throttled(body.get("errors"))):
                return body
            if response.status_code in RETRY_STATUSES and (
                not mutation or response.status_code == 429
            ):
                self._again_or_raise(attempt, explain(response), None, response)
                continue
            raise StoreError(
                f"store {self.key!r}: {explain(response)}",
                retryable=response.status_code in RETRY_STATUSES,
            )

    def _again_or_raise(
        self,
        attempt: int,
        why: str,
        exc: BaseException | None,
        response: httpx.Response | None = None,
    ) -> None:
        if attempt >= self.retry.attempts:
            raise StoreError(f"store {self.key!r}: {why}", retryable=True) from exc
        wait = retry_after_seconds(response) if response is not None else None
        wait = wait if wait is not None else self.retry.base_wait_s * 2 ** (attempt - 1)
        if wait > self.retry.max_wait_s:
            raise StoreError(f"store {self.key!r}: {why}", retryable=True) from exc
        self.sleep(wait)

    def _remember_cost(self, body: dict[str, Any], name: str) -> dict[str, Any]:
        extensions = body.get("extensions")
        cost = extensions.get("cost") if isinstance(extensions, dict) else None
        if not isinstance(cost, dict):
            return {}
        status = cost.get("throttleStatus")
        if isinstance(status, dict):
            with contextlib.suppress(KeyError, TypeError, ValueError):
                self.bucket = Bucket(
                    maximum=float(status["maximumAvailable"]),
                    available=float(status["currentlyAvailable"]),
                    restore_rate=float(status["restoreRate"]),
                    at=self.clock(),
                )
        requested = cost.get("requestedQueryCost")
        if isinstance(requested, int | float) and requested > 0:
            self.costs[name] = float(requested)
        return cost

    def _throttle_wait(self, cost: dict[str, Any]) -> float:
        requested = cost.get("requestedQueryCost")
        bucket = self.bucket
        if bucket is None or not isinstance(requested, int | float) or bucket.restore_rate <= 0:
            return 1.0
        return max(0.05, (float(requested) - bucket.available) / bucket.restore_rate)

    def _error(self, errors: Any, name: str) -> StoreError:
        messages = _messages(errors)
        codes = _codes(errors)
        said = "; ".join(messages) or "an error without a message"
        if "MAX_COST_EXCEEDED" in codes or any(_COST.search(m) for m in messages):
            found = next((_COST.search(m) for m in messages if _COST.search(m)), None)
            return TooCostly(
                f"store {self.key!r}: Shopify refused {name} as too costly: {said}",
                int(found.group(1)) if found else None,
            )
        hint = ""
        if "ACCESS_DENIED" in codes:
            hint = (
                " (the app lacks a scope: it needs read_orders and "
                "write_merchant_managed_fulfillment_orders, see docs/intake.md)"
            )
        retryable = "INTERNAL_SERVER_ERROR" in codes
        return StoreError(
            f"store {self.key!r}: Shopify refused {name}: {said}{hint}", retryable=retryable
        )


def check_user_errors(payload: Any, what: str, key: str) -> None:
    """A mutation's `userErrors` (sent with HTTP 200) as a StoreError staff can read."""
    errors = payload.get("userErrors") if isinstance(payload, dict) else None
    if not errors:
        return
    parts = []
    for error in errors if isinstance(errors, list) else []:
        if not isinstance(error, dict):
            continue
        field = error.get("field")
        where = ".".join(str(f) for f in field) if isinstance(field, list) and field else ""
        message = str(error.get("message") or "refused")
        parts.append(f"{where}: {message}" if where else message)
    said = "; ".join(parts) or "refused without a reason"
    raise StoreError(f"store {key!r}: Shopify refused {what}: {said}", retryable=False)


def explain(response: httpx.Response) -> str:
    """An HTTP refusal of the Admin API in words."""
    status = response.status_code
    said = _said(json_body(response))
    if status == 401:
        return f"Shopify refused the access token (401){said}: check the token or client secret"
    if status == 402:
        return f"the shop is frozen (402: unpaid Shopify bill){said}"
    if status == 403:
        return f"Shopify refused access (403){said}: the app lacks a scope (docs/intake.md)"
    if status == 404:
        return f"Shopify has no such shop or API version (404){said}: check shop and api_version"
    if status == 423:
        return f"the shop is locked (423){said}"
    if status == 429:
        return "Shopify is rate limiting requests (429); will try again later"
    if status >= 500:
        return f"Shopify failed ({status}){said}"
    return f"Shopify refused the request ({status}){said}"


def _said(body: Any) -> str:
    if not isinstance(body, dict):
        return ""
    text = body.get("errors") or body.get("error_description") or body.get("error")
    if isinstance(text, list):
        text = "; ".join(_messages(text))
    return f": {str(text)[:200]}" if text else ""


def _messages(errors: Any) -> list[str]:
    if not isinstance(errors, list):
        return [str(errors)[:300]] if errors else []
    return [str(e.get("message"))[:300] for e in errors if isinstance(e, dict) and e.get("message")]


def _codes(errors: Any) -> set[str]:
    found = set()
    for error in errors if isinstance(errors, list) else []:
        extensions = error.get("extensions") if isinstance(error, dict) else None
        if isinstance(extensions, dict) and extensions.get("code"):
            found.add(str(extensions["code"]))
    return found


def _server_time(response: httpx.Response) -> datetime | None:
    try:
        return parsedate_to_datetime(response.headers.get("date", "")).astimezone(UTC)
    except (TypeError, ValueError, IndexError):
        return None


def _throttled(errors: Any) -> bool:
    return "THROTTLED" in _codes(errors)
