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
from pathlib import Path
from typing import Protocol, runtime_checkable

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

__all__ = [
    "DEFAULT_TTL_S",
    "StoredElsewhere",
    "print_file_routes",
    "sign_path",
    "signature",
    "signed_url",
    "verify",
]

_MEDIA_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".pdf": "application/pdf",  # packing slips and shipping labels
}


@runtime_checkable
class StoredElsewhere(Protocol):
    """Where files not in this host's folder are kept (a bucket: `S3Storage`)."""

    def fresh_link(self, name: str) -> str | None:
        """A short-lived download URL for the stored file `name`; None when there is no
        such file (nothing is signed for it); ValueError for a name no storage holds."""
        ...

    def stored_size(self, name: str) -> int | None:
        """The stored file's size in bytes, None when there is no such file."""
        ...


def print_file_routes(
    storage_dir: Path,
    key: bytes,
    *,
    now: Clock = time.time,
    elsewhere: StoredElsewhere | None = None,
) -> list[Route]:
    """Starlette routes serving `GET /files/{name}?exp=..&sig=..` (and HEAD, which
    providers may probe with) from `storage_dir`; a file not there is redirected to a
    fresh download URL from `elsewhere` (a bucket), minted only after the link's
    signature and expiry are checked and only for a file that is stored."""
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
            if request.method == "HEAD":
                return await _probe(name, elsewhere)
            return await _redirect(name, elsewhere)
        return FileResponse(path, media_type=_media_type(name), headers=_PRIVATE)

    return [Route(f"{FILES_PREFIX}{{name}}", serve_print_file, methods=["GET", "HEAD"])]


_PRIVATE = {"Cache-Control": "private"}


def _media_type(name: str) -> str:
    return _MEDIA_TYPES.get(Path(name).suffix.lower(), "application/octet-stream")


def _plain(name: str) -> bool:
    return bool(name) and not name.startswith(".") and not any(c in name for c in "/\\\x00")


async def _redirect(name: str, elsewhere: StoredElsewhere | None) -> Response:
    """307 to where the file is kept now; 404 when it is nowhere (or a bad name)."""
    if elsewhere is None or not _plain(name):
        return _not_found()
    try:
        url = await run_in_threadpool(elsewhere.fresh_link, name)
    except ValueError:  # not a name a storage holds
        return _not_found()
    except StorageUnavailable:
        return _unavailable()
    if url is None:
        return _not_found()
    return RedirectResponse(url, status_code=307, headers={"Cache-Control": "no-store"})


async def _probe(name: str, elsewhere: StoredElsewhere | None) -> Response:
    """HEAD: answered here (size and type, no body) rather than redirected, since a
    presigned GET URL refuses a HEAD request (the method is part of its signature)."""
    if elsewhere is None or not _plain(name):
        return _not_found()
    try:
        size = await run_in_threadpool(elsewhere.stored_size, name)
    except ValueError:
        return _not_found()
    except StorageUnavailable:
        return _unavailable()
    if size is None:
        return _not_found()
    headers = {"Content-Length": str(size), **_PRIVATE}
    return Response(status_code=200, media_type=_media_type(name), headers=headers)


def _file_inside(root: Path, name: str) -> Path | None:
    """The regular, visible file `name` directly inside `root`, else None."""
    if not _plain(name):
        return None
    path = (root / name).resolve()
    if path.parent != root or not path.is_file():
        return None
    return path


def _not_found() -> Response:
    return PlainTextResponse("not found", status_code=404)


def _unavailable() -> Response:
    return PlainTextResponse("storage unavailable, try again", status_code=503)
