"""The print-file link route for the web server (signed, expiring URLs)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from starlette.routing import BaseRoute

from render.links import print_file_routes

if TYPE_CHECKING:
    from podops.ports.context import Configured

log = logging.getLogger(__name__)


def routes(runtime: Configured) -> list[BaseRoute]:
    """`GET /files/{name}` when a link secret is set; providers download from here."""
    config = runtime.settings.render
    if config.link_secret is None:
        log.info("print-file links are off (set PODOPS_RENDER__LINK_SECRET to serve them)")
        return []
    folder = runtime.settings.resolve(config.output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return list(print_file_routes(folder, config.link_secret.get_secret_value().encode()))
