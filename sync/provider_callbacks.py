"""Provider callbacks: ShineOn's shipment notifications (unsigned, so tokened URLs).

`POST /providers/{provider}/shipments/{reference}/{token}`: the token is an
HMAC only we can make for that order; anything else answers 404. The body is
only a hint that something changed: we re-fetch the order from the provider
and record what *it* says, so a forged or replayed body cannot invent tracking.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from podops.errors import OrderNotFound, PodopsError
from podops.fulfillment.callbacks import CALLBACK_PREFIX

if TYPE_CHECKING:
    from podops.ports.context import Fulfillment

log = logging.getLogger("podops.fulfillment")

PATH = CALLBACK_PREFIX + "/{provider}/shipments/{reference}/{token}"
BODY_LIMITS = {PATH: 1024 * 1024}
"""A shipment notification names one order (its lines and parcels): a few KB. The
body is only a hint, so 1 MB is generous; more is refused with 413 before the
token's order is looked at."""


def routes(runtime: Fulfillment) -> list[BaseRoute]:
    async def shipment_notification(request: Request) -> Response:
        provider = request.path_params["provider"]
        reference = request.path_params["reference"]
        token = request.path_params["token"]
        follow_up = runtime.follow_up
        callbacks = follow_up.roster.callbacks
        if callbacks is None or not callbacks.verify(provider, reference, token):
            return PlainTextResponse("not found", status_code=404)
        body = await request.body()
        if not _names_order(body, reference):
            log.warning("callback for %s refused: the body does not name this order", reference)
            return PlainTextResponse("unexpected body", status_code=400)
        try:
            changes = await run_in_threadpool(follow_up.refresh, reference)
        except OrderNotFound:
            return PlainTextResponse("not found", status_code=404)
        except PodopsError as exc:
            log.warning("callback for %s: %s", reference, exc.message)
            return PlainTextResponse("try again later", status_code=503)
        return JSONResponse({"ok": True, "changes": changes})

    return [Route(PATH, shipment_notification, methods=["POST"])]


def _names_order(body: bytes, reference: str) -> bool:
    """The hint must be JSON; if it names a source_id, it must be this order's."""
    try:
        data = json.loads(body or b"{}")
    except (ValueError, RecursionError):
        return False
    if not isinstance(data, dict):
        return False
    order = data.get("order")
    if isinstance(order, dict) and order.get("source_id") not in (None, ""):
        return str(order["source_id"]) == reference
    return True
