"""Helpers shared by the render tests: small templates, photos and a local web server.

Kept in a plainly named module (not a conftest.py) so it cannot clash with the
conftest files other packages' test folders may add.
"""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PIL import Image

from render.sample_photo import make_sample_photo

SHIPPED_TEMPLATES = Path(__file__).resolve().parents[2] / "render" / "templates"


def jpeg_bytes(image: Image.Image, quality: int = 90, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality, **options)
    return buffer.getvalue()


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def sample_jpeg(size: tuple[int, int] = (400, 400)) -> bytes:
    return jpeg_bytes(make_sample_photo(size))


def write_template(folder: Path, name: str, body: str) -> Path:
    """Write a template TOML file (and the folder) for a test."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(body, encoding="utf-8")
    return path


SMALL_TEE = """
name = "Test tee"
width_in = 15
height_in = 18
dpi = 20
background = "transparent"

[[layers]]
type = "image"
field = "photo"
box = { x = 3.0, y = 1.5, width = 9.0, height = 9.0 }
fit = "cover"
mask = "circle"

[[layers]]
type = "text"
field = "name"
font = "DejaVuSans-Bold.ttf"
size_pt = 110
min_size_pt = 30
color = "#183461"
box = { x = 0.75, y = 11.5, width = 13.5, height = 2.6 }
max_length = 30
case = "upper"
"""


@dataclass
class Reply:
    """What the local server answers on one path."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    chunks: int = 1
    delay_s: float = 0.0
    declare_length: bool = True


@contextmanager
def local_server(routes: dict[str, Reply]) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 answering `routes`; yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            reply = routes.get(self.path.split("?")[0], Reply(status=404, body=b"missing"))
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.declare_length and "Content-Length" not in reply.headers:
                self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            step = max(1, len(reply.body) // reply.chunks)
            for start in range(0, len(reply.body), step):
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                try:
                    self.wfile.write(reply.body[start : start + step])
                except (BrokenPipeError, ConnectionResetError):
                    return

        def log_message(self, format: str, *args: object) -> None:
            """Keep test output quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def ink_bounds(image: Image.Image) -> tuple[int, int, int, int] | None:
    """Bounding box of everything visible (non-transparent) in an RGBA image."""
    return image.getchannel("A").getbbox()


@contextmanager
def slow_name_server(
    monkeypatch: pytest.MonkeyPatch, answers: Mapping[str, str], delay_s: float
) -> Iterator[list[str]]:
    """The system resolver as a slow name server makes it: each name in `answers`
    resolves to its address only after `delay_s` (cut short when the block ends);
    other names resolve as usual. Yields the names looked up, in order."""
    real = socket.getaddrinfo
    released = threading.Event()
    asked: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host not in answers:
            return real(host, port, *args, **kwargs)
        asked.append(host)
        released.wait(delay_s)
        return real(answers[host], port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    try:
        yield asked
    finally:
        released.set()
