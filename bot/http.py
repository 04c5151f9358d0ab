"""The Slack endpoints of the one web server: events, commands, interactions.

Bolt's handler runs in the thread pool, behind our own signature check
(`bot/http_handler.py`, loaded only when Slack is on over HTTP). Bodies are
bounded before this (`BODY_LIMITS`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

if TYPE_CHECKING:
    from bot.context import SlackRuntime

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


def routes(runtime: SlackRuntime) -> list[BaseRoute]:
    """Starlette routes for Slack over HTTP; none when Slack is off or in Socket Mode."""
    settings = runtime.settings.slack
    if not settings.enabled or settings.socket_mode:
        return []
    from bot.app import create_app
    from bot.http_handler import ThreadedSlackRequestHandler

    secret = settings.signing_secret.get_secret_value() if settings.signing_secret else ""
    handler = ThreadedSlackRequestHandler(create_app(runtime), secret)

    async def slack_endpoint(request: Request) -> Response:
        return await handler.handle(request)

    return [Route(path, slack_endpoint, methods=["POST"]) for path in PATHS]
