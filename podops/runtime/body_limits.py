"""Request bodies are bounded before anyone reads them, whoever sent them.

Every inbound route reads its body before it can check who sent it (a
signature is over the body), so an unsigned 400 MB POST used to be read whole.
This ASGI middleware sits in front of every route of the one web server and
refuses a body larger than the route's limit with 413, by `Content-Length`
when the sender declares it and, for a chunked body without one, as soon as
the bytes received pass the limit; nothing past the limit is ever buffered.

Limits are contributed per route by the module that contributes the route: a
route module may define `BODY_LIMITS = {path template: bytes}` (see
`sync/webhooks.py`, `bot/http.py`); a route without one gets
`DEFAULT_MAX_BODY_BYTES`, which fits requests that carry no body at all.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("podops.web")

DEFAULT_MAX_BODY_BYTES = 64 * 1024
"""Routes that declare no limit (health check, print-file links) take no body: a
GET has none, so 64 KB is only headroom for a client that sends one anyway."""


def declared_limits(factories: Iterable[Callable[..., Any]]) -> dict[str, int]:
    """The `BODY_LIMITS` of the modules the route factories come from."""
    limits: dict[str, int] = {}
    for factory in factories:
        module = importlib.import_module(factory.__module__)
        limits.update(getattr(module, "BODY_LIMITS", {}))
    return limits


def _size(count: int) -> str:
    return f"{count / (1024 * 1024):g} MB" if count >= 1024 * 1024 else f"{count // 1024} KB"


class BodyLimits:
    """Starlette middleware: 413 for a body over its route's limit, 400 for a bad length."""

    def __init__(
        self,
        app: ASGIApp,
        routes: list[BaseRoute],
        limits: Mapping[str, int],
        default: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        self.app = app
        self.routes = routes
        self.limits = dict(limits)
        self.default = default

    def limit_for(self, scope: Scope) -> int:
        for route in self.routes:
            if isinstance(route, Route) and route.matches(scope)[0] != Match.NONE:
                return self.limits.get(route.path, self.default)
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = _content_length(scope)
        if declared == "bad":
            await self._refuse(scope, send, 400, "Content-Length is not a number of bytes")
            return
        if isinstance(declared, int) and declared > limit:
            await self._refuse(scope, send, 413, self._too_large(limit), declared)
            return
        chunks: list[bytes] = []
        received = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away before sending its body
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > limit:
                await self._refuse(scope, send, 413, self._too_large(limit), received)
                return
            chunks.append(chunk)
            more = bool(message.get("more_body", False))
        await self.app(scope, _replay(b"".join(chunks), receive), send)

    @staticmethod
    def _too_large(limit: int) -> str:
        return f"request body larger than {_size(limit)}, the most this address accepts"

    async def _refuse(
        self, scope: Scope, send: Send, status: int, reason: str, size: int | None = None
    ) -> None:
        seen = f" ({_size(size)} or more)" if size is not None else ""
        log.warning("refused %s %s%s: %s", scope.get("method"), scope.get("path"), seen, reason)
        response = JSONResponse(
            {"error": reason}, status_code=status, headers={"Connection": "close"}
        )
        await response(scope, _no_body, send)


def _content_length(scope: Scope) -> int | str | None:
    """The declared length; "bad" when it is not plain ASCII digits (`'²'.isdigit()` is True)."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.strip()
            if not text or not text.isdigit() or len(text) > 18:
                return "bad"
            return int(text)
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the app the buffered body, then the client's own messages."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


async def _no_body() -> Message:
    return {"type": "http.disconnect"}
