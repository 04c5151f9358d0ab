"""Signed, expiring links to print files.

Fulfillment providers download print files from a URL we give them. The files
show customers' faces and names, so a link must be unguessable and die after a
while: it carries its expiry and an HMAC-SHA256 over path and expiry, checked in
constant time (`podops.links` signs and verifies; this module serves). Anything
wrong (bad or expired signature, a name that is not a plain file in the storage
folder) answers 404, revealing nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from podops.errors import StorageUnavailable
from podops.links import (
    DEFAULT_TTL_S,
    FILES_PREFIX,
    Clock,
    require_key,
    sign_path,
    signature,
    signed_url,
    verify,
)

__all__ = ["DEFAULT_TTL_S", "print_file_routes", "sign_path", "signature", "signed_url", "verify"]

_MEDIA_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".pdf": "application/pdf",  # packing slips and shipping labels
}


def print_file_routes(
    storage_dir: Path,
    key: bytes,
    *,
    now: Clock = time.time,
    elsewhere: Callable[[str], str | None] | None = None,
) -> list[Route]:
    """Starlette routes serving `GET /files/{name}?exp=..&sig=..` from `storage_dir`;
    a file not there is redirected to `elsewhere(name)` (a bucket's presigned URL)."""
    require_key(key)
    root = storage_dir.resolve()

    async def serve_print_file(request: Request) -> Response:
        name = request.path_params["name"]
        expires = request.query_params.get("exp", "")
        given = request.query_params.get("sig", "")
        if not verify(name, expires, given, key, now=now):
            return _not_found()
        path = _file_inside(root, name)
        if path is None:
            return await _redirect(name, elsewhere)
        media_type = _MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")
        return FileResponse(path, media_type=media_type, headers={"Cache-Control": "private"})

    return [Route(f"{FILES_PREFIX}{{name}}", serve_print_file, methods=["GET"])]


async def _redirect(name: str, elsewhere: Callable[[str], str | None] | None) -> Response:
    """307 to where the file is kept now; 404 when it is nowhere (or a bad name)."""
    if elsewhere is None or not name or name.startswith(".") or "/" in name or "\\" in name:
        return _not_found()
    try:
        url = await run_in_threadpool(elsewhere, name)
    except ValueError:  # not a name a storage holds
        return _not_found()
    except StorageUnavailable:
        return PlainTextResponse("storage unavailable, try again", status_code=503)
    if url is None:
        return _not_found()
    return RedirectResponse(url, status_code=307, headers={"Cache-Control": "private"})


def _file_inside(root: Path, name: str) -> Path | None:
    """The regular, visible file `name` directly inside `root`, else None."""
    if not name or name.startswith(".") or "/" in name or "\\" in name or "\x00" in name:
        return None
    path = (root / name).resolve()
    if path.parent != root or not path.is_file():
        return None
    return path


def _not_found() -> Response:
    return PlainTextResponse("not found", status_code=404)
