"""The Slack endpoints of the one web server: events, commands, interactions.

Bolt's Starlette handler calls the synchronous `App.dispatch` on the event
loop; we run it in the thread pool instead, so one slow ack never holds up
the others (every request still gets Bolt's signature check).

Bolt parses the body before it checks the signature, and a body that is not
UTF-8, not JSON or not an object, or a timestamp that is not a number, made it
raise (a 500 with a traceback). So the signature is checked here first: an
unsigned request answers 401, a signed body Bolt cannot read 400, each with
one log line. Bodies are bounded before this (`BODY_LIMITS`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_bolt.adapter.starlette import SlackRequestHandler
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk.signature import SignatureVerifier
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

if TYPE_CHECKING:
    from bot.context import SlackRuntime

log = logging.getLogger("podops.slack")

PATHS = ("/slack/events", "/slack/commands", "/slack/interactions")
BODY_LIMITS = {
    "/slack/commands": 64 * 1024,
    "/slack/events": 512 * 1024,
    "/slack/interactions": 1024 * 1024,
}
"""What Slack sends, with headroom: a slash command is a short form (its text is a
few KB at most); an event carries one message (40,000 characters of text and its
blocks); an interaction carries the whole modal (100 blocks of up to 3,000
characters, JSON inside a form field, so escaped). Larger bodies are refused
with 413 before the signature is checked."""


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


def routes(runtime: SlackRuntime) -> list[BaseRoute]:
    """Starlette routes for Slack over HTTP; none when Slack is off or in Socket Mode."""
    settings = runtime.settings.slack
    if not settings.enabled or settings.socket_mode:
        return []
    from bot.app import create_app

    secret = settings.signing_secret.get_secret_value() if settings.signing_secret else ""
    handler = ThreadedSlackRequestHandler(create_app(runtime), secret)

    async def slack_endpoint(request: Request) -> Response:
        return await handler.handle(request)

    return [Route(path, slack_endpoint, methods=["POST"]) for path in PATHS]
