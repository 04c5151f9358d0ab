"""Hostile customer images: private and metadata addresses (directly or by
redirect), other schemes, endless and oversized downloads, slow drips, web
pages, and decompression bombs. Each is refused with a reason and no request
reaches an address it should not."""

from __future__ import annotations

import io
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from typing import Any

import pytest
from PIL import Image

from podops.errors import RenderRefused
from render.address_rules import METADATA_ADDRESSES, METADATA_HOSTS
from render.images import FetchPolicy, decode_image, fetch_image, forbidden_reason
from tests.reliability.conftest import Outcome

MB = 1024 * 1024
LOCAL = FetchPolicy(max_bytes=1 * MB, timeout_s=1.5, allow_loopback=True)
PUBLIC_ONLY = FetchPolicy(max_bytes=1 * MB, timeout_s=1.5)


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width` x `height` pixels (a decompression bomb)."""
    raw = io.BytesIO()
    Image.new("L", (1, 1)).save(raw, "PNG")
    data = bytearray(raw.getvalue())
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return bytes(data)


class HostileServer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[str] = []

    def log_message(self, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        HostileServer.seen.append(self.path)
        port = int(self.server.server_address[1])  # type: ignore[index]
        redirects = {
            "/to-metadata": "http://169.254.169.254/latest/meta-data/iam/",
            "/to-private": "http://10.0.0.7/photo.jpg",
            "/to-file": "file:///etc/passwd",
            "/to-mapped": "http://[::ffff:169.254.169.254]/",
            "/loop": f"http://127.0.0.1:{port}/loop",
        }
        if self.path.startswith("/slow-hop/"):
            time.sleep(0.7)  # each hop answers just inside a per-read timeout
            hop = int(self.path.rsplit("/", 1)[1]) + 1
            location = f"http://127.0.0.1:{port}/slow-hop/{hop}"
            self._head(302, Location=location, **{"Content-Length": "0"})
        elif self.path == "/drip-headers":
            try:
                self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                for _ in range(60):  # a header byte every 0.1 s: no read ever times out
                    self.wfile.write(b"a")
                    self.wfile.flush()
                    time.sleep(0.1)
            except OSError:
                return
        elif self.path in redirects:
            self._head(302, Location=redirects[self.path], **{"Content-Length": "0"})
        elif self.path == "/endless":
            self._head(200, **{"Content-Type": "image/jpeg", "Transfer-Encoding": "chunked"})
            chunk = b"\xff\xd8\xff" + b"\0" * 65533
            try:
                for _ in range(2000):  # 128 MB if nobody stops reading
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except OSError:
                return
        elif self.path == "/declared-huge":
            self._head(200, **{"Content-Type": "image/png", "Content-Length": str(10 * 1024 * MB)})
        elif self.path == "/drip":
            self._head(200, **{"Content-Type": "image/png", "Content-Length": "100000"})
            try:
                for _ in range(100):
                    self.wfile.write(b"\x89" * 10)
                    self.wfile.flush()
                    time.sleep(0.1)
            except OSError:
                return
        elif self.path == "/page":
            body = b"<html><script>alert(1)</script></html>"
            self._head(200, **{"Content-Type": "text/html", "Content-Length": str(len(body))})
            self.wfile.write(body)
        elif self.path == "/bomb.png":
            body = png_claiming(30_000, 30_000)
            self._head(200, **{"Content-Type": "image/png", "Content-Length": str(len(body))})
            self.wfile.write(body)

    def _head(self, status: int, **headers: str) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()


@pytest.fixture
def hostile() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), HostileServer)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    HostileServer.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def refusal(url: str, policy: FetchPolicy) -> str:
    with pytest.raises(RenderRefused) as refused:
        data = fetch_image(url, policy)
        decode_image(data, max_pixels=50_000_000)
    return refused.value.message


@pytest.mark.slow
def test_hostile_image_urls_are_refused(hostile: str, record: list[Outcome]) -> None:
    direct = [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/photo.jpg",
        "http://192.168.1.1/photo.jpg",
        "http://[::1]/photo.jpg",
        "http://0.0.0.0/photo.jpg",
        f"{hostile}/direct-loopback",  # refused for a real shop, before any request
        "file:///etc/passwd",
        "ftp://example.com/photo.jpg",
        "gopher://127.0.0.1:25/",
        "javascript:alert(1)",
        "http://user:secret@[fe80::1]/photo.jpg",
        "not a url at all",
    ]
    reasons = {url: refusal(url, PUBLIC_ONLY) for url in direct}
    hostile_paths = [
        "/to-metadata", "/to-private", "/to-file", "/to-mapped", "/loop",
        "/endless", "/declared-huge", "/drip", "/page", "/bomb.png",
    ]  # fmt: skip
    served, took = {}, {}
    for path in hostile_paths:
        started = time.monotonic()
        served[path] = refusal(hostile + path, LOCAL)
        took[path] = time.monotonic() - started
    record.append(
        Outcome(
            "hostile image URLs and files (metadata/private/loopback addresses, redirects to "
            "them, other schemes, endless, huge, slow, HTML, a 900-megapixel PNG bomb)",
            "abuse",
            "refused with a reason; no request to a forbidden address; bounded time and memory",
            bad_inputs=len(direct) + len(hostile_paths),
        )
    )
    assert "/direct-loopback" not in HostileServer.seen
    assert set(HostileServer.seen) <= set(hostile_paths)
    assert "link-local" in served["/to-metadata"] and "private" in served["/to-private"]
    assert "larger than" in served["/endless"] and "larger than" in served["/declared-huge"]
    assert "longer than" in served["/drip"] and "not an image" in served["/page"]
    assert "too large" in served["/bomb.png"] or "megapixels" in served["/bomb.png"]
    assert "redirects more" in served["/loop"]
    assert all(reasons.values())
    assert "secret" not in " ".join(reasons.values())  # credentials never echoed
    # Bounded time is each fetch's own limit (a busy machine makes the ten together
    # slower, never one of them endless): the slowest ends soon after its limit.
    slowest = max(took, key=lambda path: took[path])
    assert took[slowest] < LOCAL.timeout_s + 1.0, (slowest, took[slowest])


SHOP_NETWORK = FetchPolicy(max_bytes=1 * MB, timeout_s=1.5, allow_private=True, allow_loopback=True)
EMBEDDED = [
    "http://[::ffff:100.100.100.200]/",  # IPv4-mapped
    "http://[64:ff9b::6464:64c8]/",  # NAT64 of 100.100.100.200
    "http://[2002:a9fe:a9fe::1]/",  # 6to4 of 169.254.169.254
    "http://[64:ff9b::a83f:8110]/",  # NAT64 of Azure's 168.63.129.16
]


def test_cloud_metadata_is_refused_even_on_a_shop_network(record: list[Outcome]) -> None:
    """With private and loopback hosts allowed (a shop's own image server), every
    cloud's metadata service stays out of reach: each address of the one list, the
    same addresses inside IPv6, and the names clouds give them (before any DNS)."""
    literal = [
        f"http://[{a}]/latest/meta-data/" if a.version == 6 else f"http://{a}/latest/meta-data/"
        for a in sorted(METADATA_ADDRESSES, key=str)
    ]
    named = [f"http://{host}/computeMetadata/v1/" for host in sorted(METADATA_HOSTS)]
    named.append("http://METADATA.google.internal./computeMetadata/v1/")
    reasons = {url: refusal(url, SHOP_NETWORK) for url in [*literal, *EMBEDDED, *named]}
    record.append(
        Outcome(
            "cloud metadata addresses with private image hosts allowed (AWS/GCP/Azure/Oracle/"
            "Alibaba/Tencent IPv4 and IPv6, inside IPv6, by name)",
            "abuse",
            "refused as a cloud metadata address whatever the settings; no request sent",
            bad_inputs=len(reasons),
        )
    )
    assert [url for url, reason in reasons.items() if "metadata" not in reason] == []
    assert {"100.100.100.200", "fd00:ec2::254", "169.254.169.254"} <= {
        str(a) for a in METADATA_ADDRESSES
    }
    assert forbidden_reason(ip_address("10.0.0.7"), SHOP_NETWORK) is None  # still a shop's own


def test_the_time_limit_covers_the_whole_fetch(hostile: str, record: list[Outcome]) -> None:
    """Four slow redirect hops, each well inside a per-read timeout, and headers
    dripped a byte at a time: the photo is refused once the one limit has passed
    (four hops under a 3 s limit used to take 11 s)."""
    timings: dict[str, tuple[float, str]] = {}
    for path in ("/slow-hop/0", "/drip-headers"):
        started = time.monotonic()
        reason = refusal(hostile + path, LOCAL)
        timings[path] = (time.monotonic() - started, reason)
    record.append(
        Outcome(
            "slow image servers (redirect hops 0.7 s each, headers dripped byte by byte) "
            "under a 1.5 s limit",
            "abuse",
            "refused as too slow once the limit has passed, whatever the hops",
            bad_inputs=len(timings),
        )
    )
    for path, (elapsed, reason) in timings.items():
        assert "longer than 1.5 s" in reason, (path, reason)
        assert elapsed < LOCAL.timeout_s + 0.5, (path, elapsed)
