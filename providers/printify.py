"""Printify over HTTP (https://api.printify.com/v1, `Authorization: Bearer <token>`).

Submitting is two calls: create the order in the shop (`external_id` = our
reference, `label` = the order number staff see, on-the-fly line items from
`providers.printify_orders`), then `send_to_production`, because our submit
*is* the end of our countdown. The shop must be set to manual order approval,
or Printify sends orders to production on its own timer (`podops stores check`
warns; docs/fulfillment.md). A crash, 5xx or timeout between the two calls
leaves an order on hold at Printify; the submission worker looks the order up
before any retry, and the lookup sends such an order on (it never creates a
second one).

Printify cannot find an order by our reference: the lookup pages the shop's
orders, newest first, matching `metadata.shop_order_id`, until orders older
than LOOKUP_DAYS or LOOKUP_MAX_PAGES pages; when it cannot rule the order out it
refuses rather than risk a double. Printify does not refuse a repeated
`external_id` (undocumented), so the lookup is the only guard.

Every request waits its turn at the configured rate (600 a minute by default,
Printify's account-wide limit), the catalog at Printify's 100 a minute, so one
submit's two calls or a lookup's pages never exceed it. Webhooks are signed:
`X-Pfy-Signature: sha256=<hex HMAC-SHA256(raw body, webhook_secret)>`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from podops.errors import ConfigError, OrderLocked, ProviderError
from podops.fulfillment.limits import provider_key
from podops.logs import mask_secrets
from podops.ports.fulfillment import (
    CancelOutcome,
    ProviderCapabilities,
    ProviderOrder,
    ProviderStatus,
    SubmitRequest,
    WebhookRefused,
)
from podops.settings import ProviderConfig
from podops.shared_limits import Limits, LocalLimits, Pace, Rate
from providers.fulfillment_http import (
    api_key,
    cancel_outcome,
    json_object,
    message_of,
    paced_call,
    refusal,
    require_public_urls,
)
from providers.http import json_body
from providers.printify_orders import (
    CODE_FORM,
    is_unsent,
    order_body,
    our_reference,
    parse_code,
    parse_order,
)

DEFAULT_BASE_URL = "https://api.printify.com/v1"
USER_AGENT = "podops (print-on-demand back office)"
"""Printify requires a User-Agent on every request (api-notes [S])."""
PAGE_SIZE = 10
"""Orders per listing page: the documented examples' size; a larger one is unconfirmed."""
LOOKUP_DAYS = 30
"""How far back a lookup by our reference reads (orders are listed newest first)."""
LOOKUP_MAX_PAGES = 100
CATALOG_PER_S = 100 / 60
SIGNATURE_HEADER = "x-pfy-signature"
ORDER_TOPICS = frozenset(
    {
        "order:created",
        "order:updated",
        "order:sent-to-production",
        "order:shipment:created",
        "order:shipment:delivered",
    }
)


def _reason(response: httpx.Response) -> str:
    """Printify's words: its generic `message` with the `errors.reason` it nests [U]."""
    body = json_body(response)
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, dict) and isinstance(errors.get("reason"), str):
            head = str(body.get("message") or "").strip()
            return mask_secrets(f"{head} {errors['reason']}".strip())
    return message_of(response)


class PrintifyProvider:
    capabilities = ProviderCapabilities(
        can_cancel=True,
        accepts_design_changes=False,
        accepts_address_changes=False,
        address_required=frozenset({"postcode"}),
    )

    paces_each_request = True
    """Create, send to production and every page of a lookup take their own turn."""

    def __init__(
        self,
        name: str,
        client: httpx.Client,
        config: ProviderConfig,
        *,
        limits: Limits | None = None,
    ) -> None:
        self.name = name
        self.who = f"Printify ({name})"
        self.client = client
        self.config = config
        token = api_key(
            name, config, "a personal access token from Printify (My account > Connections)"
        )
        if not config.store_id.strip().isdigit():
            raise ConfigError(
                f"providers.{name}.store_id must be the Printify shop id (a number, from "
                "GET /v1/shops.json or the shop's URL in Printify); it is "
                f"{config.store_id.strip() or 'missing'}"
            )
        self.shop = f"/shops/{config.store_id.strip()}"
        self._headers = {"Authorization": f"Bearer {token}", "User-Agent": USER_AGENT}
        limits = limits or LocalLimits()
        self._pace = Pace(limits, provider_key(name), Rate(config.rate_limit_per_s))
        self._catalog_pace = Pace(
            limits,
            provider_key(name) + ":catalog",
            Rate(min(CATALOG_PER_S, config.rate_limit_per_s)),
        )
        secret = config.webhook_secret
        self._webhook_key = secret.get_secret_value().encode() if secret is not None else b""

    def _call(
        self, method: str, path: str, *, catalog: bool = False, **kwargs: Any
    ) -> httpx.Response:
        pace = self._catalog_pace if catalog else self._pace
        return paced_call(
            pace, self.client, self.who, method, path, headers=self._headers, **kwargs
        )

    # Submission --------------------------------------------------------------

    def submit(self, request: SubmitRequest) -> ProviderOrder:
        require_public_urls(self.who, request)
        body = order_body(self.who, request, self.config.shipping_method)
        response = self._call("POST", f"{self.shop}/orders.json", json=body)
        if not response.is_success:
            raise refusal(self.who, response, _reason)
        order_id = json_object(self.who, response).get("id")
        if not isinstance(order_id, str) or not order_id:
            raise ProviderError(
                f"{self.who} answered without an order id ({_reason(response)})", retryable=False
            )
        return self._send_to_production(order_id, request.reference)

    def _send_to_production(self, order_id: str, reference: str) -> ProviderOrder:
        """The second step. Any failure here is never "nothing was created": a 429 or
        an outage is retryable *uncertain* (the worker looks the order up, which sends
        it), a refusal is permanent with Printify's words and the order kept on hold."""
        path = f"{self.shop}/orders/{order_id}/send_to_production.json"
        try:
            response = self._call("POST", path)
        except ProviderError as exc:
            raise ProviderError(
                f"{self.who} created order {order_id} for {reference} but sending it to "
                f"production failed: {exc.message}",
                retryable=True,
            ) from exc
        if response.is_success:
            return ProviderOrder(
                order_id, reference, ProviderStatus.ACCEPTED, "sending-to-production"
            )
        if response.status_code in (401, 403):
            raise refusal(self.who, response, _reason)
        current = self._order(order_id)  # sent meanwhile (by us or by the shop's timer)?
        if not is_unsent(current):
            return self._parse(current, reference)
        raise ProviderError(
            f"{self.who} holds order {order_id} for {reference} but refused to send it to "
            f"production ({response.status_code}): {_reason(response)}; it waits on hold "
            "at Printify, and a retry sends it (never a second order)",
            retryable=False,
        )

    def find_by_reference(self, reference: str) -> ProviderOrder | None:
        """Page the shop's orders for ours. One left on hold by a halfway submit comes
        back `unfinished` and stays on hold: only the submission worker sends it
        (`finish_placement`), never a lookup made to cancel it."""
        found = self._search(reference)
        if found is None:
            return None
        order = self._parse(found, reference)
        return replace(order, unfinished=True) if is_unsent(found) else order

    def finish_placement(self, found: ProviderOrder, request: SubmitRequest) -> ProviderOrder:
        """Send to production an order the lookup found still on hold."""
        return self._send_to_production(found.provider_order_id, request.reference)

    def _search(self, reference: str) -> dict[str, Any] | None:
        since = datetime.now(UTC) - timedelta(days=LOOKUP_DAYS)
        for page in range(1, LOOKUP_MAX_PAGES + 1):
            params = {"page": str(page), "limit": str(PAGE_SIZE)}
            response = self._call("GET", f"{self.shop}/orders.json", params=params)
            if not response.is_success:
                raise refusal(self.who, response, _reason)
            listing = json_object(self.who, response)
            orders = listing.get("data")
            if not isinstance(orders, list):
                raise ProviderError(f"{self.who} listed orders without 'data'", retryable=False)
            for order in orders:
                if isinstance(order, dict) and our_reference(order) == reference:
                    return order
            last = listing.get("last_page")
            if not orders or (isinstance(last, int) and page >= last):
                return None
            if all(_created(o) < since for o in orders if isinstance(o, dict)):
                return None
        raise ProviderError(
            f"{self.who}: order {reference} is not among the shop's latest "
            f"{LOOKUP_MAX_PAGES * PAGE_SIZE} orders, which do not reach back {LOOKUP_DAYS} "
            "days; look for it in Printify before retrying (podops will not risk a double)",
            retryable=False,
        )

    # Follow-up ---------------------------------------------------------------

    def _order(self, order_id: str) -> dict[str, Any]:
        response = self._call("GET", f"{self.shop}/orders/{order_id}.json")
        if not response.is_success:
            raise refusal(self.who, response, _reason)
        return json_object(self.who, response)

    def _parse(self, order: Mapping[str, Any], reference: str) -> ProviderOrder:
        """The order as the core reads it; its charge in the configured `currency`
        (Printify's order JSON names none: docs/reports.md)."""
        return parse_order(self.who, order, reference, currency=self.config.currency)

    def get_status(self, provider_order_id: str, *, reference: str) -> ProviderOrder:
        return self._parse(self._order(provider_order_id), reference)

    def cancel(self, provider_order_id: str, *, reference: str) -> CancelOutcome:
        """Printify cancels only while an order is on hold or awaiting payment."""
        path = f"{self.shop}/orders/{provider_order_id}/cancel.json"
        return cancel_outcome(self.who, self._call("POST", path), _reason)

    def update_design(self, provider_order_id: str, request: SubmitRequest) -> ProviderOrder:
        raise OrderLocked(
            f"{self.who} takes no design changes once an order is sent to production "
            f"(order {provider_order_id}); cancel it while Printify still allows and submit "
            "again, or ask Printify support"
        )

    def update_address(self, provider_order_id: str, request: SubmitRequest) -> ProviderOrder:
        raise OrderLocked(
            f"order {request.order_number} is already in production at Printify: ask "
            f"Printify support to change the address of its order {provider_order_id} "
            "(Printify's API takes no changes after an order is sent to production)"
        )

    # Webhooks ----------------------------------------------------------------

    def webhook_references(self, token: str, headers: Mapping[str, str], body: bytes) -> list[str]:
        """Verify `X-Pfy-Signature`; the references an order event names (the URL token
        is unused: deliveries are signed)."""
        if not self._webhook_key:
            raise WebhookRefused(
                f"{self.who} has no webhook_secret (PODOPS_PROVIDERS__{self.name.upper()}"
                "__WEBHOOK_SECRET): deliveries cannot be verified"
            )
        given = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER), "")
        expected = "sha256=" + hmac.new(self._webhook_key, body, hashlib.sha256).hexdigest()
        if not given or not hmac.compare_digest(given.strip().lower().encode(), expected.encode()):
            raise WebhookRefused(f"{self.who}: webhook signature missing or wrong")
        try:
            event = json.loads(body)
        except ValueError as exc:
            raise WebhookRefused(f"{self.who}: signed webhook body is not JSON") from exc
        resource = event.get("resource") if isinstance(event, dict) else None
        if not isinstance(resource, dict) or event.get("type") not in ORDER_TOPICS:
            return []
        data = resource.get("data")
        if isinstance(data, dict) and str(data.get("shop_id", self.config.store_id)) != (
            self.config.store_id.strip()
        ):
            return []
        named = our_reference(data) if isinstance(data, dict) else ""
        if named:
            return [named]
        order_id = resource.get("id")
        if not isinstance(order_id, str) or not order_id:
            return []
        response = self._call("GET", f"{self.shop}/orders/{order_id}.json")
        if response.status_code == 404:
            return []  # not an order of this shop's API
        if not response.is_success:
            raise refusal(self.who, response, _reason)
        reference = our_reference(json_object(self.who, response))
        return [reference] if reference else []

    # Catalog -----------------------------------------------------------------

    def unknown_codes(self, codes: Collection[str]) -> dict[str, str]:
        """Each code's blueprint, print provider and variant checked in Printify's catalog."""
        unknown: dict[str, str] = {}
        variants: dict[tuple[int, int], set[int] | str] = {}
        for code in codes:
            parsed = parse_code(code)
            if parsed is None:
                unknown[code] = f"not a Printify product code; expected {CODE_FORM}"
                continue
            key = (parsed.blueprint_id, parsed.print_provider_id)
            if key not in variants:
                variants[key] = self._variants(*key)
            offered = variants[key]
            if isinstance(offered, str):
                unknown[code] = offered
            elif parsed.variant_id not in offered:
                unknown[code] = (
                    f"print provider {parsed.print_provider_id} offers no variant "
                    f"{parsed.variant_id} of blueprint {parsed.blueprint_id}"
                )
        return unknown

    def _variants(self, blueprint: int, provider: int) -> set[int] | str:
        path = f"/catalog/blueprints/{blueprint}/print_providers/{provider}/variants.json"
        response = self._call("GET", path, catalog=True)
        if response.status_code == 404:
            words = _reason(response)
            return f"print provider {provider} does not make blueprint {blueprint} ({words})"
        if not response.is_success:
            raise refusal(self.who, response, _reason)
        listed = json_object(self.who, response).get("variants")
        if not isinstance(listed, list):
            raise ProviderError(f"{self.who} listed variants without 'variants'", retryable=False)
        return {v["id"] for v in listed if isinstance(v, dict) and isinstance(v.get("id"), int)}


def _created(order: Mapping[str, Any]) -> datetime:
    """An order's `created_at` (`2017-04-18 13:24:28+00:00`); unreadable counts as new."""
    value = order.get("created_at")
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
