"""The Slack endpoints of the one web server: events, commands, interactions.

Bolt's Starlette handler calls the synchronous `App.dispatch` on the event
loop; we run it in the thread pool instead, so one slow ack never holds up
the others (every request still gets Bolt's signature check).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt.adapter.starlette import SlackRequestHandler
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

if TYPE_CHECKING:
    from bot.context import SlackRuntime

PATHS = ("/slack/events", "/slack/commands", "/slack/interactions")


class ThreadedSlackRequestHandler(SlackRequestHandler):
    async def handle(
        self, req: Request, addition_context_properties: dict[str, Any] | None = None
    ) -> Response:
        if req.method != "POST":
            return await super().handle(req, addition_context_properties)
        body = await req.body()
        bolt_request = to_bolt_request(req, body, addition_context_properties)
        bolt_response = await run_in_threadpool(self.app.dispatch, bolt_request)
        return to_starlette_response(bolt_response)


def routes(runtime: SlackRuntime) -> list[BaseRoute]:
    """Starlette routes for Slack over HTTP; none when Slack is off or in Socket Mode."""
    settings = runtime.settings.slack
    if not settings.enabled or settings.socket_mode:
        return []
    from bot.app import create_app

    handler = ThreadedSlackRequestHandler(create_app(runtime))

    async def slack_endpoint(request: Request) -> Response:
        return await handler.handle(request)

    return [Route(path, slack_endpoint, methods=["POST"]) for path in PATHS]
