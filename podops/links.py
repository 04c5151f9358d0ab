"""Signed, expiring links to print files.

Fulfillment providers download print files from a URL we give them. The files
show customers' faces and names, so a link must be unguessable and die after a
while: it carries its expiry and an HMAC-SHA256 over path and expiry, checked in
constant time. Signing is pure (the core, Slack previews and the sheet make
links); serving them is the web adapter's (`render.links`).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from urllib.parse import quote, urlencode

FILES_PREFIX = "/files/"
DEFAULT_TTL_S = 7 * 24 * 3600
MIN_KEY_BYTES = 16

Clock = Callable[[], float]


def require_key(key: bytes) -> None:
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"the print-file link key must be at least {MIN_KEY_BYTES} bytes")


def signature(name: str, expires_at: int, key: bytes) -> str:
    """HMAC-SHA256 (hex) over the file's path and the expiry time."""
    require_key(key)
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
    """Whether the signature is ours and the link has not expired.

    Anything a visitor can type is only "no": `exp` must be ASCII digits (`'²'.isdigit()`
    is True and `int('²')` raises) and the signature is compared as bytes
    (`compare_digest` raises on non-ASCII text)."""
    if not (expires.isascii() and expires.isdigit()) or len(expires) > 12:
        return False
    expires_at = int(expires)
    if expires_at < now():
        return False
    expected = signature(name, expires_at, key).encode()
    return hmac.compare_digest(expected, given.encode("utf-8", "surrogateescape"))
