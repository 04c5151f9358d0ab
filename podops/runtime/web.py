"""The one web server: an ASGI app assembled from the routes each adapter contributes,
behind the body limits each route module declares (`body_limits.py`).

Part of the composition root (like app.py): Starlette is imported here, never
in the core's domain modules.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.routing import BaseRoute

    from podops.runtime.root import Runtime

RouteFactory = Callable[["Runtime"], "Sequence[BaseRoute]"]
HEALTH_TIMEOUT_S = 2.0
log = logging.getLogger("podops.web")


def ping(runtime: Runtime) -> None:
    """SELECT 1 on a plain pooled connection: no transaction, so on SQLite no write
    lock (the unit of work's BEGIN IMMEDIATE would queue behind a long write)."""
    connection = runtime.db.engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT 1")
        cursor.fetchone()
        cursor.close()
        connection.rollback()  # PostgreSQL opened a read transaction; close it
    finally:
        connection.close()


def build_asgi_app(runtime: Runtime, factories: Sequence[RouteFactory] = ()) -> Starlette:
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from podops.runtime.body_limits import BodyLimits, declared_limits

    # Its own small pool: stalled checks never take the threads other handlers use.
    checks = ThreadPoolExecutor(max_workers=2, thread_name_prefix="podops-healthz")

    async def healthz(_request: Request) -> JSONResponse:
        """Answers within HEALTH_TIMEOUT_S whatever the database does; the event loop
        (webhooks, Slack) never waits on it."""
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(
                loop.run_in_executor(checks, ping, runtime), timeout=HEALTH_TIMEOUT_S
            )
        except TimeoutError:
            error = f"the database did not answer within {HEALTH_TIMEOUT_S:g} s"
            return JSONResponse({"ok": False, "error": error}, status_code=503)
        except Exception as exc:  # report, never raise, from a health check
            # The page is public: the reason goes to the log, not to the caller.
            log.warning("health check: database unreachable: %s", str(exc).split("\n")[0])
            return JSONResponse({"ok": False, "error": "database unreachable"}, status_code=503)
        return JSONResponse({"ok": True})

    routes: list[Any] = [Route("/healthz", healthz, methods=["GET"])]
    for factory in factories:
        routes.extend(factory(runtime))
    # Outermost of ours: a body over its route's limit is refused before any route runs.
    limits = Middleware(BodyLimits, routes=routes, limits=declared_limits(factories))
    return Starlette(routes=routes, middleware=[limits])
