"""Bolt's Starlette handler for the Slack endpoints (`bot/http.py`), run in the
thread pool and behind our own signature check.

Bolt's Starlette handler calls the synchronous `App.dispatch` on the event
loop; we run it in the thread pool instead, so one slow ack never holds up
the others (every request still gets Bolt's signature check).

Bolt parses the body before it checks the signature, and a body that is not
UTF-8, not JSON or not an object, or a timestamp that is not a number, made it
raise (a 500 with a traceback). So the signature is checked here first: an
unsigned request answers 401, a signed body Bolt cannot read 400, each with
one log line.

Apart from bot/http.py so that a service without Slack over HTTP never loads
Bolt and the Slack SDK (about 8 MB of the idle service's memory).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.starlette import SlackRequestHandler
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk.signature import SignatureVerifier
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

log = logging.getLogger("podops.slack")


class ThreadedSlackRequestHandler(SlackRequestHandler):
    def __init__(self, app: App, signing_secret: str) -> None:
        super().__init__(app)
        self.verifier = SignatureVerifier(signing_secret)

    async def handle(
        self, req: Request, addition_context_properties: dict[str, Any] | None = None
    ) -> Response:
        if req.method != "POST":
            return await super().handle(req, addition_context_properties)
        body = await req.body()
        if not self.signed(req, body) and not _ssl_check(body):
            # Bolt would say the same, but parses the body first and raises on a body
            # that is not UTF-8 or JSON, or on a timestamp that is not a number.
            log.warning("refused an unsigned request to %s", req.url.path)
            return JSONResponse({"error": "invalid request"}, status_code=401)
        try:
            bolt_request = to_bolt_request(req, body, addition_context_properties)
        except (ValueError, TypeError, AttributeError):  # not UTF-8, not JSON, not an object
            log.warning("refused a request to %s: the body is not a Slack payload", req.url.path)
            return JSONResponse({"error": "the body is not a Slack payload"}, status_code=400)
        bolt_response = await run_in_threadpool(self.app.dispatch, bolt_request)
        return to_starlette_response(bolt_response)

    def signed(self, req: Request, body: bytes) -> bool:
        """Slack's signature check, answering "no" to any header it cannot read."""
        timestamp = req.headers.get("x-slack-request-timestamp", "")
        if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
            return False
        return self.verifier.is_valid(body, timestamp, req.headers.get("x-slack-signature"))


def _ssl_check(body: bytes) -> bool:
    """Slack's certificate check on a slash command URL, which Bolt answers unverified."""
    return body.startswith(b"ssl_check=1") or b"&ssl_check=1" in body
