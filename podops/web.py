"""The one web server: an ASGI app assembled from the routes each adapter contributes.

Part of the composition root (like app.py): Starlette is imported here, never
in the core's domain modules.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.routing import BaseRoute

    from podops.app import Runtime

RouteFactory = Callable[["Runtime"], "Sequence[BaseRoute]"]


def build_asgi_app(runtime: Runtime, factories: Sequence[RouteFactory] = ()) -> Starlette:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def healthz(_request: Request) -> JSONResponse:
        try:
            runtime.db.check()
        except Exception as exc:  # report, never raise, from a health check
            return JSONResponse({"ok": False, "error": str(exc)}, status_code=503)
        return JSONResponse({"ok": True})

    routes: list[Any] = [Route("/healthz", healthz, methods=["GET"])]
    for factory in factories:
        routes.extend(factory(runtime))
    return Starlette(routes=routes)
