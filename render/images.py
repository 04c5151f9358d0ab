"""Customer photos: fetched safely from the outside, decoded safely.

A photo URL comes from a store order, that is, from anyone on the internet. So
fetching it must not become a way into our own network (server-side request
forgery): every address a host resolves to is checked, the connection goes to
the checked address (no second DNS answer can swap it), and redirects are
followed by hand, each hop checked again. Size, time and content are capped;
the time limit covers the whole fetch, each hop's name lookup and redirects
included (`fetch_deadline`).
Decoding (`photo_decode`) guards against decompression bombs, damaged files and
photos too large to decode in the memory a render may take. Every refusal
says, in words staff can pass on, what was wrong with the photo.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass

import httpx

from podops.errors import RenderRefused
from render.address_rules import IPAddress, forbidden_reason, is_metadata, metadata_host
from render.fetch_deadline import LookupTimeout, resolve_until, transport_until
from render.photo_decode import (
    ACCEPTED_FORMATS,
    DEFAULT_MAX_PIXELS,
    decode_image,
    unprintable_advice,
    unprintable_kind,
)

MEGABYTE = 1024 * 1024
DEFAULT_MAX_BYTES = 20 * MEGABYTE
DEFAULT_TIMEOUT_S = 15.0
DEFAULT_MAX_REDIRECTS = 3
_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*")
_REDIRECTS = {301, 302, 303, 307, 308}
__all__ = [
    "ACCEPTED_FORMATS",
    "DEFAULT_MAX_PIXELS",
    "FetchPolicy",
    "checked_address",
    "decode_image",
    "fetch_image",
    "forbidden_reason",
]


@dataclass(frozen=True)
class FetchPolicy:
    """Limits for downloading one customer photo.

    `allow_loopback` exists for tests against a server on 127.0.0.1 and
    `allow_private` for a shop whose image server lives on its own network;
    cloud metadata services (`address_rules.METADATA_ADDRESSES`), link-local,
    multicast and reserved addresses are never allowed.
    """

    max_bytes: int = DEFAULT_MAX_BYTES
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_redirects: int = DEFAULT_MAX_REDIRECTS
    max_pixels: int = DEFAULT_MAX_PIXELS
    allow_loopback: bool = False
    allow_private: bool = False
    user_agent: str = "podops-render"


def fetch_image(
    url: str, policy: FetchPolicy, *, transport: httpx.BaseTransport | None = None
) -> bytes:
    """The bytes of the photo at `url`, or RenderRefused saying why not.

    `policy.timeout_s` bounds the whole fetch (every hop's name lookup, connection,
    headers and body): each waits at most until the one deadline."""
    deadline = time.monotonic() + policy.timeout_s
    timeout = httpx.Timeout(policy.timeout_s)
    transport = transport or transport_until(deadline)
    with httpx.Client(timeout=timeout, transport=transport, follow_redirects=False) as client:
        current = _parse(url)
        for _ in range(policy.max_redirects + 1):
            address = checked_address(current, policy, deadline)
            _check_time(current, policy, deadline)
            next_url = _download(client, current, address, policy, deadline)
            if isinstance(next_url, bytes):
                return next_url
            current = next_url
    raise RenderRefused(
        f"the photo at {display_url(url)} redirects more than {policy.max_redirects} times"
    )


def checked_address(
    url: httpx.URL, policy: FetchPolicy, deadline: float | None = None
) -> IPAddress:
    """The address to connect to, after checking EVERY address the host resolves to;
    the lookup is given up at `deadline` (monotonic; default: `policy.timeout_s` on)."""
    host = url.host
    if deadline is None:
        deadline = time.monotonic() + policy.timeout_s
    if metadata_host(host):
        raise RenderRefused(
            f"the photo at {display_url(url)} names a cloud metadata service ('{host}'); "
            "photos are only fetched from public addresses"
        )
    try:
        infos = resolve_until(host, url.port or _default_port(url), deadline)
    except LookupTimeout as error:
        raise RenderRefused(
            f"the photo at {display_url(url)} took longer than {policy.timeout_s:g} s to "
            f"download (the address of '{host}' could not be looked up in time)"
        ) from error
    except (OSError, UnicodeError, ValueError) as error:  # socket.gaierror mostly
        raise RenderRefused(
            f"the photo at {display_url(url)} cannot be fetched: the host '{host}' was not found"
        ) from error
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    for address in addresses:
        reason = forbidden_reason(address, policy)
        if reason:
            if is_metadata(address) and "metadata" not in reason:
                reason = f"{reason} ({address}), a cloud metadata service"
            else:
                reason = f"{reason} ({address})"
            raise RenderRefused(
                f"the photo at {display_url(url)} resolves to {reason}; "
                "photos are only fetched from public addresses"
            )
    if not addresses:
        raise RenderRefused(f"the photo at {display_url(url)} has no address")
    return addresses[0]


def display_url(url: str | httpx.URL) -> str:
    """A URL safe to show people: no credentials, no query string, at most 100 characters."""
    try:
        parsed = httpx.URL(str(url))
        shown = str(parsed.copy_with(userinfo=b"", query=None, fragment=None))
    except (httpx.InvalidURL, TypeError, ValueError):
        shown = str(url).split("?")[0]
    return shown if len(shown) <= 100 else shown[:97] + "..."


def _parse(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as error:
        raise RenderRefused(f"'{display_url(url)}' is not a web address") from error
    if parsed.scheme not in {"http", "https"} or not parsed.host:
        raise RenderRefused(f"the photo address {display_url(url)} is not an http(s) web address")
    return parsed


def _default_port(url: httpx.URL) -> int:
    return 443 if url.scheme == "https" else 80


def _download(
    client: httpx.Client,
    url: httpx.URL,
    address: IPAddress,
    policy: FetchPolicy,
    deadline: float,
) -> bytes | httpx.URL:
    """One hop: the photo's bytes, or the checked-later URL a redirect points to."""
    pinned = url.copy_with(host=str(address), userinfo=b"")
    host_header = url.netloc.decode("ascii").rpartition("@")[2]
    extensions = {"sni_hostname": url.host} if url.scheme == "https" else {}
    headers = {"Host": host_header, "User-Agent": policy.user_agent, "Accept": "image/*"}
    shown = display_url(url)
    left = httpx.Timeout(max(0.001, deadline - time.monotonic()))
    try:
        with client.stream(
            "GET", pinned, headers=headers, extensions=extensions, timeout=left
        ) as response:
            if response.status_code in _REDIRECTS and "location" in response.headers:
                return _parse(str(url.join(response.headers["location"])))
            if response.status_code != 200:
                raise RenderRefused(
                    f"the photo at {shown} could not be downloaded (HTTP {response.status_code})"
                )
            _check_headers(response, policy, shown)
            return _read_capped(response, policy, shown, deadline)
    except httpx.TimeoutException as error:
        raise RenderRefused(
            f"the photo at {shown} took longer than {policy.timeout_s:g} s to download"
        ) from error
    except httpx.HTTPError as error:
        raise RenderRefused(
            f"the photo at {shown} could not be downloaded ({type(error).__name__})"
        ) from error


def _check_time(url: httpx.URL, policy: FetchPolicy, deadline: float) -> None:
    if time.monotonic() >= deadline:
        raise RenderRefused(
            f"the photo at {display_url(url)} took longer than {policy.timeout_s:g} s to download"
        )


def _check_headers(response: httpx.Response, policy: FetchPolicy, shown: str) -> None:
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type.startswith("text/") or content_type in {"application/json", "application/xml"}:
        raise RenderRefused(
            f"the photo at {shown} is a web page or document ({content_type}), not an image"
        )
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) > policy.max_bytes:
        raise RenderRefused(f"the photo at {shown} is larger than {_megabytes(policy.max_bytes)}")


def _read_capped(
    response: httpx.Response, policy: FetchPolicy, shown: str, deadline: float
) -> bytes:
    buffer = bytearray()
    for chunk in response.iter_bytes():
        buffer += chunk
        if len(buffer) > policy.max_bytes:
            raise RenderRefused(
                f"the photo at {shown} is larger than {_megabytes(policy.max_bytes)}"
            )
        if time.monotonic() > deadline:
            raise RenderRefused(
                f"the photo at {shown} took longer than {policy.timeout_s:g} s to download"
            )
    data = bytes(buffer)
    kind = unprintable_kind(data)
    if kind:
        raise RenderRefused(f"the file at {shown} is a {kind} photo, {unprintable_advice(kind)}")
    if not looks_like_image(data):
        raise RenderRefused(
            f"the file at {shown} is not a photo we can print "
            "(expected JPEG, PNG, WebP, GIF or TIFF)"
        )
    return data


def looks_like_image(data: bytes) -> bool:
    """Whether the first bytes are those of an accepted image format."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return True
    return data.startswith(_MAGIC)


def _megabytes(count: int) -> str:
    return f"{count / MEGABYTE:g} MB"
