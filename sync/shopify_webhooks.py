"""Shopify webhooks: `POST /webhooks/shopify/{store}` (orders/create, orders/updated,
orders/cancelled).

- `X-Shopify-Hmac-Sha256` must be base64(HMAC-SHA256(raw body, the app's client
  secret)), compared in constant time; anything else gets 401 and nothing is stored.
- A delivery is applied once: what identifies its content (the topic and a
  digest of the signed bytes, `deliveries.content_key`) is remembered
  (InboundDelivery) in the transaction that stores the order, so a replay (Shopify
  retries with the original payload) answers "duplicate delivery" and changes
  nothing. `X-Shopify-Webhook-Id` alone is not the key: a different body under an
  id already seen (a cancellation after a creation) is applied, never dropped; a
  body applied twice changes nothing (the newer-`updated_at` rule below).
- Shopify waits 5 seconds: the body is mapped (no outside call: the REST body
  carries `current_quantity` and the properties), stored, then answered 200.
- Out-of-order retries: an older `updated_at` than the one applied is ignored
  (IncomingOrder.modified_at), like WooCommerce's.
- 404 for a store that is not a configured Shopify store, 400 for a body that is
  not a JSON order; a collision with a poll is retried, then left to the next poll.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from podops.errors import DatabaseUnavailable
from podops.incoming import IncomingOrder
from podops.intake.deliveries import claim_delivery, content_key
from podops.intake.isolation import reason, stub, unstorable
from podops.intake.passes import (
    CONFLICTS,
    conflict_text,
    receive_batch,
    retry_conflicts,
    store_is_watched,
)
from podops.models import utcnow
from podops.ports.store import WebhookStore

if TYPE_CHECKING:
    from podops.ports.context import Stores

log = logging.getLogger(__name__)

PATH = "/webhooks/shopify/{store}"
PLATFORM = "shopify"
DEFERRED = "deferred to the next poll"
ORDER_TOPICS = frozenset({"orders/create", "orders/updated", "orders/cancelled"})
BODY_LIMITS = {PATH: 2 * 1024 * 1024}
"""One order in the REST shape: a few KB plus about 2 KB per line; 2 MB is headroom."""


def signature_for(raw: bytes, secret: str) -> str:
    """The value Shopify puts in X-Shopify-Hmac-Sha256 for this body."""
    return base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()


def signature_ok(raw: bytes, signature: str, secret: str) -> bool:
    given = signature.strip().encode("utf-8", "surrogateescape")
    return hmac.compare_digest(signature_for(raw, secret).encode(), given)


def _answer(status: int, **body: Any) -> JSONResponse:
    return JSONResponse(body, status_code=status)


def _is_order_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def routes(runtime: Stores) -> list[BaseRoute]:
    async def shopify(request: Request) -> JSONResponse:
        store = request.path_params["store"]
        config = runtime.settings.stores.get(store)
        if config is None or config.platform != PLATFORM:
            return _answer(404, error=f"no Shopify store named {store!r}")
        raw = await request.body()
        if config.client_secret is None:
            log.warning("webhook for store %s refused: no client secret configured", store)
            return _answer(401, error="client secret not configured")
        signature = request.headers.get("x-shopify-hmac-sha256")
        if signature is None or not signature_ok(
            raw, signature, config.client_secret.get_secret_value()
        ):
            log.warning("webhook for store %s refused: bad signature", store)
            return _answer(401, error="bad signature")
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            return _answer(400, error="body is not JSON")
        if not isinstance(body, dict) or not _is_order_id(body.get("id")):
            log.warning("webhook for store %s refused: the signed body is not an order", store)
            return _answer(400, error="body is not an order")
        topic = request.headers.get("x-shopify-topic", "")
        key = content_key(topic, raw)
        try:
            result = await run_in_threadpool(apply_delivery, runtime, store, topic, body, key)
        except DatabaseUnavailable as exc:
            log.warning("webhook for store %s refused: %s", store, exc.message)
            return _answer(503, error=exc.message)
        return _answer(200, ok=True, result=result)

    return [Route(PATH, shopify, methods=["POST"])]


def apply_delivery(runtime: Stores, store: str, topic: str, body: dict[str, Any], key: str) -> str:
    """`handle_delivery`, run again on a collision; still colliding, leave it to the poll."""
    try:
        return retry_conflicts(lambda: handle_delivery(runtime, store, topic, body, key))
    except CONFLICTS as exc:
        log.warning("webhook for store %s, order %s %s: %s",
                    store, body.get("id"), DEFERRED, conflict_text(exc))  # fmt: skip
        return DEFERRED


def handle_delivery(runtime: Stores, store: str, topic: str, body: dict[str, Any], key: str) -> str:
    """Apply one verified delivery in one transaction; an order the database refuses as
    sent is stored as a stub held for staff, and only if that fails too refused."""
    client = runtime.store_client(store)
    if not isinstance(client, WebhookStore):
        return f"ignored: store {store} takes no webhooks"
    incoming = client.order_from_webhook(body) if topic in ORDER_TOPICS else None
    try:
        return _apply(runtime, store, topic, key, incoming)
    except Exception as exc:
        if incoming is None or not unstorable(exc):
            raise
        first = exc
    try:
        return _apply(runtime, store, topic, key, stub(incoming, first, utcnow()))
    except Exception as exc:
        if not unstorable(exc):
            raise
    return f"refused: {reason(first)}"


def _apply(
    runtime: Stores, store: str, topic: str, key: str, incoming: IncomingOrder | None
) -> str:
    config = runtime.settings.stores[store]
    with runtime.db.unit_of_work() as session:
        if not claim_delivery(session, f"{PLATFORM}:{store}", key):
            return "duplicate delivery"
        if incoming is None:
            return f"ignored topic {topic or '(none)'}"
        report = receive_batch(
            session,
            store,
            [incoming],
            runtime.policy,
            fulfil_statuses=config.fulfil_statuses,
            platform=PLATFORM,
            hold_overdue=not store_is_watched(session, store),
        )
    if report.created:
        return "created"
    if report.updated:
        return "updated"
    if report.skipped:
        return f"skipped (status {next(iter(report.skipped))})"
    return "unchanged"
