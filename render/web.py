"""The print-file link route for the web server (signed, expiring URLs).

With a bucket (`[storage] kind = "s3"`), a signed link whose file is not in this
host's folder is answered, once its signature and expiry are checked, with a
redirect to a presigned URL made at that moment and valid a few minutes: links
handed to providers live `render.link_ttl_hours` (longer than S3's 7-day cap on
presigned URLs), and links made before `podops storage migrate` (and the sheet's
day-stable preview links) keep working from any host."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from starlette.routing import BaseRoute

from podops.links import Clock
from render.links import StoredElsewhere, print_file_routes

if TYPE_CHECKING:
    from podops.ports.context import Storing

log = logging.getLogger(__name__)


def routes(runtime: Storing, *, now: Clock = time.time) -> list[BaseRoute]:
    """`GET /files/{name}` (and HEAD) when a link secret is set; providers download
    from here. `now` is the clock links are checked against."""
    config = runtime.settings.render
    if config.link_secret is None:
        log.info("print-file links are off (set PODOPS_RENDER__LINK_SECRET to serve them)")
        return []
    folder = runtime.settings.resolve(config.output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    elsewhere = None
    if runtime.settings.storage.kind != "local":
        storage = runtime.storage
        if isinstance(storage, StoredElsewhere):
            elsewhere = storage
    key = config.link_secret.get_secret_value().encode()
    return list(print_file_routes(folder, key, now=now, elsewhere=elsewhere))
