"""EasyPost tracker webhooks: `POST /webhooks/easypost`.

EasyPost signs each delivery with the webhook's secret: `X-Hmac-Signature:
hmac-sha256-hex=<hex>` = HMAC-SHA256 of the raw body with the NFKD-normalised
UTF-8 secret (api-notes-providers.md section E). The header is looked up
whatever its case (the official client's `validate_webhook` reads it
case-sensitively, and proxies lower-case headers) and compared in constant
time. The secret only from the environment: PODOPS_EASYPOST__WEBHOOK_SECRET.

Answers: 401 when the signature is missing or wrong (or no secret is set:
nothing unsigned is believed), 400 for a body that is not an Event, 200
otherwise. `tracker.updated` / `tracker.created` move the parcel with that
tracking number (`services.labels.record_delivery`): its status, and the
delivery date once delivered. A number podops does not have is acknowledged and
skipped (EasyPost also tracks parcels made elsewhere on the account).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import unicodedata
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from podops.events import Actor, Channel
from podops.models import utcnow
from podops.services.labels import record_delivery

if TYPE_CHECKING:
    from podops.ports.context import Configured

log = logging.getLogger("podops.labels")

PATH = "/webhooks/easypost"
BODY_LIMITS = {PATH: 256 * 1024}
"""An Event carries one tracker with its tracking details: a few KB; 256 KB is headroom."""
HEADER = "x-hmac-signature"
PREFIX = "hmac-sha256-hex="
TRACKER_EVENTS = ("tracker.updated", "tracker.created")
ACTOR = Actor("easypost", Channel.PROVIDER)


def signature_ok(body: bytes, headers: dict[str, str], secret: str) -> bool:
    """Whether `headers` (any case) carry EasyPost's signature of `body`."""
    given = next((v for k, v in headers.items() if k.lower() == HEADER), "")
    if not given.startswith(PREFIX):
        return False
    key = unicodedata.normalize("NFKD", secret).encode()
    wanted = PREFIX + hmac.new(key, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(given.strip().encode(), wanted.encode())


def routes(runtime: Configured) -> list[BaseRoute]:
    async def easypost_webhook(request: Request) -> Response:
        secret = runtime.settings.easypost.webhook_secret
        body = await request.body()
        if secret is None or not signature_ok(
            body, dict(request.headers.items()), secret.get_secret_value()
        ):
            log.warning("EasyPost webhook refused: signature missing or wrong")
            return PlainTextResponse("unauthorized", status_code=401)
        try:
            event = json.loads(body)
        except ValueError:
            return PlainTextResponse("not JSON", status_code=400)
        if not isinstance(event, dict) or event.get("object") != "Event":
            return PlainTextResponse("not an Event", status_code=400)
        if event.get("description") not in TRACKER_EVENTS:
            return JSONResponse({"ignored": event.get("description")})
        tracker = event.get("result")
        if not isinstance(tracker, dict) or not isinstance(tracker.get("tracking_code"), str):
            return PlainTextResponse("no tracker", status_code=400)
        found = await run_in_threadpool(_record, runtime, tracker)
        return JSONResponse({"parcel": found})

    return [Route(PATH, easypost_webhook, methods=["POST"])]


def _record(runtime: Configured, tracker: dict[str, Any]) -> str | None:
    tracking = str(tracker["tracking_code"]).replace(" ", "").upper()[:128]
    status = str(tracker.get("status") or "unknown")[:32]
    with runtime.db.unit_of_work() as session:
        shipment = record_delivery(session, tracking, status, _when(tracker), ACTOR)
        return shipment.tracking_number if shipment is not None else None


def _when(tracker: dict[str, Any]) -> datetime:
    """When the tracker's last detail happened (else when it was updated, else now)."""
    details = tracker.get("tracking_details") or []
    last = details[-1] if details and isinstance(details[-1], dict) else {}
    for text in (last.get("datetime"), tracker.get("updated_at")):
        if isinstance(text, str):
            try:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                continue
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return utcnow()
