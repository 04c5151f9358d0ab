"""WooCommerce webhooks: `POST /webhooks/woocommerce/{store}`.

- `X-WC-Webhook-Signature` must be base64(HMAC-SHA256(raw body, the store's
  webhook secret)); anything else gets 401 and nothing is stored.
- WooCommerce's unsigned ping on save (form body `webhook_id=N`) gets 200.
- What identifies a delivery's content (its topic and a digest of the signed
  bytes) is remembered (InboundDelivery) in the same transaction as the order,
  so a replayed delivery changes nothing. `X-WC-Webhook-Delivery-ID` is not
  used for that: WooCommerce derives it from the webhook id and the current
  second, so a bulk action's deliveries share it (it is only logged).
- order.created / order.updated / order.restored are received like a poll (a
  refunded order's refunds are read from the shop first; if it does not answer,
  the delivery is left to the next poll);
  order.deleted is treated like a cancellation in the shop.
- 404 for a store that is not a configured WooCommerce store, 400 for a body
  that is not a JSON order.
- A delivery that collides with a poll or another delivery storing the same
  order (duplicate key, changed version) is run again a few times; if it still
  collides it answers 200 "deferred to the next poll" and logs it: WooCommerce
  never redelivers and disables a webhook after 5 failures in a row, while the
  next poll (by modification time) applies the change. Only a database that is
  down answers 503.
Webhooks are the fast path; polling stays the safety net.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from podops.errors import DatabaseUnavailable, StoreError
from podops.incoming import IncomingOrder
from podops.intake.deliveries import claim_delivery, content_key, receive_deletion
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

PATH = "/webhooks/woocommerce/{store}"
DEFERRED = "deferred to the next poll"
ORDER_TOPICS = frozenset({"order.created", "order.updated", "order.restored"})
_PING = re.compile(rb"^webhook_id=\d+$")
BODY_LIMITS = {PATH: 2 * 1024 * 1024}
"""A delivery is one order as the REST API shows it: about 3 KB plus 1-2 KB per line
with its meta data, so even a 500-line wholesale order stays under 1 MB; 2 MB is
headroom. Larger bodies are refused with 413 before the signature is read."""


def signature_for(raw: bytes, secret: str) -> str:
    """The value WooCommerce puts in X-WC-Webhook-Signature for this body."""
    digest = hmac.new(secret.encode(), raw, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _is_order_id(value: Any) -> bool:
    """WooCommerce order ids are positive integers; anything else cannot be an order."""
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def signature_ok(raw: bytes, signature: str, secret: str) -> bool:
    given = signature.strip().encode("utf-8", "surrogateescape")
    return hmac.compare_digest(signature_for(raw, secret).encode(), given)


def _answer(status: int, **body: Any) -> JSONResponse:
    return JSONResponse(body, status_code=status)


def routes(runtime: Stores) -> list[BaseRoute]:
    async def woocommerce(request: Request) -> JSONResponse:
        store = request.path_params["store"]
        config = runtime.settings.stores.get(store)
        if config is None or config.platform != "woocommerce":
            return _answer(404, error=f"no WooCommerce store named {store!r}")
        raw = await request.body()
        signature = request.headers.get("x-wc-webhook-signature")
        if signature is None and _PING.match(raw.strip()):
            return _answer(200, ok=True, ping=True)
        if config.webhook_secret is None:
            log.warning("webhook for store %s refused: no webhook secret configured", store)
            return _answer(401, error="webhook secret not configured")
        if signature is None or not signature_ok(
            raw, signature, config.webhook_secret.get_secret_value()
        ):
            log.warning("webhook for store %s refused: bad signature", store)
            return _answer(401, error="bad signature")
        if _PING.match(raw.strip()):
            return _answer(200, ok=True, ping=True)
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):  # RecursionError: nested thousands deep
            log.warning("webhook for store %s refused: the signed body is not JSON", store)
            return _answer(400, error="body is not JSON")
        if not isinstance(body, dict) or not _is_order_id(body.get("id")):
            log.warning("webhook for store %s refused: the signed body is not an order", store)
            return _answer(400, error="body is not an order")
        topic = request.headers.get("x-wc-webhook-topic", "")
        delivery = request.headers.get("x-wc-webhook-delivery-id", "")
        key = content_key(topic, raw)
        try:
            result = await run_in_threadpool(
                apply_delivery, runtime, store, topic, delivery, body, key
            )
        except DatabaseUnavailable as exc:
            log.warning("webhook for store %s refused: %s", store, exc.message)
            return _answer(503, error=exc.message)
        return _answer(200, ok=True, result=result)

    return [Route(PATH, woocommerce, methods=["POST"])]


def apply_delivery(
    runtime: Stores, store: str, topic: str, delivery_id: str, body: dict[str, Any], key: str
) -> str:
    """`handle_delivery`, run again on a collision; still colliding, leave it to the poll.

    `key` identifies the delivery's content (deliveries.content_key)."""
    try:
        return retry_conflicts(lambda: handle_delivery(runtime, store, topic, body, key))
    except CONFLICTS as exc:
        log.warning(
            "webhook for store %s, order %s (delivery %s) %s: %s",
            store,
            body.get("id"),
            delivery_id or "-",
            DEFERRED,
            conflict_text(exc),
        )
        return DEFERRED


def handle_delivery(runtime: Stores, store: str, topic: str, body: dict[str, Any], key: str) -> str:
    """Apply one verified delivery in one transaction; return what happened.

    An order the database refuses as sent is received as a stub held for staff
    (podops.intake.isolation); only if that fails too is it refused, with the reason."""
    client = runtime.store_client(store)
    if not isinstance(client, WebhookStore):  # the route checks the platform first
        return f"ignored: store {store} takes no webhooks"
    try:
        incoming = client.order_from_webhook(body) if topic in ORDER_TOPICS else None
    except StoreError as exc:  # a refunded order's refunds could not be read
        log.warning("webhook for store %s, order %s %s: %s",
                    store, body.get("id"), DEFERRED, exc.message)  # fmt: skip
        return DEFERRED
    try:
        return _apply(runtime, store, topic, body, key, incoming)
    except Exception as exc:
        if incoming is None or not unstorable(exc):
            raise
        first = exc
    log.warning("webhook for store %s, order %s: %s; stored as a stub held for staff",
                store, body.get("id"), type(first).__name__)  # fmt: skip
    try:
        return _apply(runtime, store, topic, body, key, stub(incoming, first, utcnow()))
    except Exception as exc:
        if not unstorable(exc):
            raise
    return f"refused: {reason(first)}"


def _apply(
    runtime: Stores,
    store: str,
    topic: str,
    body: dict[str, Any],
    key: str,
    incoming: IncomingOrder | None,
) -> str:
    config = runtime.settings.stores[store]
    with runtime.db.unit_of_work() as session:
        if not claim_delivery(session, f"woocommerce:{store}", key):
            return "duplicate delivery"
        if topic == "order.deleted":
            gone = receive_deletion(
                session, store, str(body["id"]), runtime.policy, platform="woocommerce"
            )
            return "cancelled" if gone else "unknown order"
        if incoming is None:
            return f"ignored topic {topic or '(none)'}"
        report = receive_batch(
            session,
            store,
            [incoming],
            runtime.policy,
            fulfil_statuses=config.fulfil_statuses,
            platform="woocommerce",
            # Before the store's first poll an old order may be one staff sent by hand.
            hold_overdue=not store_is_watched(session, store),
        )
    if report.created:
        return "created"
    if report.updated:
        return "updated"
    if report.skipped:
        return f"skipped (status {next(iter(report.skipped))})"
    return "unchanged"
