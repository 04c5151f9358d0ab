"""Unguessable per-order callback URLs for providers that push tracking unsigned.

ShineOn POSTs shipments to the URL we give it and signs nothing, so the URL
itself carries an HMAC of (provider, reference) under a key only we hold. A
valid token only says "look at this order again": the body is a hint and the
order is re-fetched from the provider before anything is recorded.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import quote

CALLBACK_PREFIX = "/providers"
TOKEN_CHARS = 40


def callback_key(secret: str) -> bytes:
    """A key for callback tokens derived from a provider secret (never the secret itself)."""
    return hashlib.sha256(b"podops-callback\x00" + secret.encode()).digest()


class CallbackSigner:
    def __init__(self, base_url: str, keys: Mapping[str, bytes]) -> None:
        self.base_url = base_url.rstrip("/")
        self.keys = dict(keys)

    def token(self, provider: str, reference: str) -> str:
        key = self.keys[provider]
        digest = hmac.new(key, f"{provider}\n{reference}".encode(), hashlib.sha256).hexdigest()
        return digest[:TOKEN_CHARS]

    def url_for(self, provider: str, reference: str) -> str:
        """The callback URL for one order, or "" when the provider has no key."""
        if provider not in self.keys:
            return ""
        path = f"{CALLBACK_PREFIX}/{quote(provider)}/shipments/{quote(reference)}"
        return f"{self.base_url}{path}/{self.token(provider, reference)}"

    def verify(self, provider: str, reference: str, token: str) -> bool:
        if provider not in self.keys or len(token) != TOKEN_CHARS:
            return False
        # As bytes: a token typed into the URL may be any text, and compare_digest
        # raises on non-ASCII str.
        expected = self.token(provider, reference).encode()
        return hmac.compare_digest(expected, token.encode("utf-8", "surrogateescape"))
