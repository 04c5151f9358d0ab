"""Signed, expiring links to print files.

Fulfillment providers download print files from a URL we give them. The files
show customers' faces and names, so a link must be unguessable and die after a
while: it carries its expiry and an HMAC-SHA256 over path and expiry, checked in
constant time. Anything wrong (bad or expired signature, a name that is not a
plain file in the storage folder) answers 404, revealing nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

FILES_PREFIX = "/files/"
DEFAULT_TTL_S = 7 * 24 * 3600
MIN_KEY_BYTES = 16
_MEDIA_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}

Clock = Callable[[], float]


def _require_key(key: bytes) -> None:
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"the print-file link key must be at least {MIN_KEY_BYTES} bytes")


def signature(name: str, expires_at: int, key: bytes) -> str:
    """HMAC-SHA256 (hex) over the file's path and the expiry time."""
    _require_key(key)
    message = f"{FILES_PREFIX}{name}\n{expires_at}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def sign_path(name: str, key: bytes, *, ttl_s: int = DEFAULT_TTL_S, now: Clock = time.time) -> str:
    """The signed path (with query) for the file `name`, valid for `ttl_s` seconds."""
    expires_at = int(now()) + ttl_s
    query = urlencode({"exp": expires_at, "sig": signature(name, expires_at, key)})
    return f"{FILES_PREFIX}{quote(name)}?{query}"


def signed_url(
    base_url: str, name: str, key: bytes, *, ttl_s: int = DEFAULT_TTL_S, now: Clock = time.time
) -> str:
    """A full signed URL, e.g. for a provider's order payload."""
    return base_url.rstrip("/") + sign_path(name, key, ttl_s=ttl_s, now=now)


def verify(name: str, expires: str, given: str, key: bytes, *, now: Clock = time.time) -> bool:
    """Whether the signature is ours and the link has not expired."""
    if not expires.isdigit() or len(expires) > 12:
        return False
    expires_at = int(expires)
    if expires_at < now():
        return False
    return hmac.compare_digest(signature(name, expires_at, key), given)


def print_file_routes(storage_dir: Path, key: bytes, *, now: Clock = time.time) -> list[Route]:
    """Starlette routes serving `GET /files/{name}?exp=..&sig=..` from `storage_dir`."""
    _require_key(key)
    root = storage_dir.resolve()

    async def serve_print_file(request: Request) -> Response:
        name = request.path_params["name"]
        expires = request.query_params.get("exp", "")
        given = request.query_params.get("sig", "")
        if not verify(name, expires, given, key, now=now):
            return _not_found()
        path = _file_inside(root, name)
        if path is None:
            return _not_found()
        media_type = _MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")
        return FileResponse(path, media_type=media_type, headers={"Cache-Control": "private"})

    return [Route(f"{FILES_PREFIX}{{name}}", serve_print_file, methods=["GET"])]


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
