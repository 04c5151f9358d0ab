"""Provider webhooks (Printful, Printify, Gelato): `POST /webhooks/providers/{provider}/{token}`.

Printful's v1 and Gelato's webhooks are unsigned, so they are accepted only on a
URL that carries the provider's `webhook_secret`; Printify's are signed
(`X-Pfy-Signature`), and its URL's token segment is not a secret. The adapter
verifies a delivery and names the orders in it (`ProviderWebhooks`); a delivery
is only a hint: each named order is re-read from the provider and what *it*
says is recorded, so a forged or replayed body cannot invent tracking.

Answers: 401 when the delivery is not verified (nothing changes), 404 for a
provider that is not configured, 200 with what changed, 503 when the provider
cannot be asked now (the provider retries, and the tracking poll is the safety
net). An order the delivery names that podops does not have is logged and
skipped: providers also notify about orders made in their own dashboards.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from podops.errors import OrderNotFound, PodopsError
from podops.ports.fulfillment import ProviderWebhooks, WebhookRefused

if TYPE_CHECKING:
    from podops.ports.context import Fulfillment

log = logging.getLogger("podops.fulfillment")

PATH = "/webhooks/providers/{provider}/{token}"
BODY_LIMITS = {PATH: 1024 * 1024}
"""A delivery describes one order (its items and shipments): tens of KB at most; 1 MB
is headroom, and more is refused with 413 before the adapter reads it."""
MAX_ORDERS_PER_DELIVERY = 20
"""A delivery names one order; a body naming more is not what these providers send,
and re-reading each costs a call within the provider's rate limit."""


def routes(runtime: Fulfillment) -> list[BaseRoute]:
    async def provider_webhook(request: Request) -> Response:
        name = request.path_params["provider"]
        provider = runtime.follow_up.roster.by_name.get(name)
        if provider is None or not isinstance(
            getattr(provider, "inner", provider), ProviderWebhooks
        ):
            return PlainTextResponse("not found", status_code=404)
        body = await request.body()
        headers = {key.lower(): value for key, value in request.headers.items()}
        try:
            references = provider.webhook_references(  # type: ignore[attr-defined]
                request.path_params["token"], headers, body
            )
        except WebhookRefused as exc:
            log.warning("webhook for %s refused: %s", name, exc.message)
            return PlainTextResponse("unauthorized", status_code=401)
        if len(references) > MAX_ORDERS_PER_DELIVERY:
            log.warning("webhook for %s names %d orders; refused", name, len(references))
            return PlainTextResponse("too many orders in one delivery", status_code=400)
        return await run_in_threadpool(_refresh_all, runtime, name, references)

    return [Route(PATH, provider_webhook, methods=["POST"])]


def _refresh_all(runtime: Fulfillment, provider: str, references: list[str]) -> Response:
    changes: dict[str, list[str]] = {}
    for reference in dict.fromkeys(references):
        try:
            changes[reference] = runtime.follow_up.refresh(reference, provider=provider)
        except OrderNotFound:
            log.info("webhook from %s names %s, which podops does not have", provider, reference)
        except PodopsError as exc:
            log.warning("webhook from %s for %s: %s", provider, reference, exc.message)
            return PlainTextResponse("try again later", status_code=503)
    return JSONResponse({"ok": True, "changes": changes})
