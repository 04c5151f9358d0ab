"""Requests to a Starlette app in-process, through httpx's ASGI transport (no sockets).

Starlette's own TestClient is deprecated with the httpx this project uses.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from starlette.types import ASGIApp


class AsgiClient:
    """A blocking client for tests: each call runs one request to the app."""

    def __init__(self, app: ASGIApp, base_url: str = "http://podops.test") -> None:
        self.transport = httpx.ASGITransport(app=app)
        self.base_url = base_url

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def send() -> httpx.Response:
            async with httpx.AsyncClient(transport=self.transport, base_url=self.base_url) as c:
                response = await c.request(method, url, **kwargs)
                await response.aread()
                return response

        return asyncio.run(send())

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)
