"""The print-file link route for the web server (signed, expiring URLs).

With a bucket (`[storage] kind = "s3"`), a signed link whose file is not in this
host's folder is answered with a redirect to a fresh presigned URL, so links made
before `podops storage migrate` (and the sheet's day-stable preview links) keep
working from any host."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from starlette.routing import BaseRoute

from render.links import print_file_routes

if TYPE_CHECKING:
    from podops.ports.context import Storing

log = logging.getLogger(__name__)


def routes(runtime: Storing) -> list[BaseRoute]:
    """`GET /files/{name}` when a link secret is set; providers download from here."""
    config = runtime.settings.render
    if config.link_secret is None:
        log.info("print-file links are off (set PODOPS_RENDER__LINK_SECRET to serve them)")
        return []
    folder = runtime.settings.resolve(config.output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    elsewhere = None
    if runtime.settings.storage.kind != "local":
        storage = runtime.storage

        def elsewhere(name: str) -> str | None:
            location = storage.location_of(name)
            return storage.url_for(location) if storage.exists(location) else None

    key = config.link_secret.get_secret_value().encode()
    return list(print_file_routes(folder, key, elsewhere=elsewhere))
