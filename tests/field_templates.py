"""Small product templates with photo and text fields, and a photo host, for the tests
of staff edits (CLI, Slack, sheet) that render for real: low DPI keeps them quick."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from render.sample_photo import make_sample_photo
from tests.render.render_test_support import Reply, jpeg_bytes, local_server

TEE = """
name = "Test tee (15 x 18 in)"
noun = "tee"
width_in = 15
height_in = 18
dpi = 20
min_dpi = 0  # small photos keep these field tests fast; photo quality has its own

[[layers]]
type = "image"
field = "photo"
box = { x = 3.0, y = 1.5, width = 9.0, height = 9.0 }
mask = "circle"

[[layers]]
type = "text"
field = "name"
size_pt = 110
min_size_pt = 30
box = { x = 0.75, y = 11.5, width = 13.5, height = 2.6 }

[[layers]]
type = "text"
field = "message"
size_pt = 56
min_size_pt = 20
box = { x = 0.75, y = 14.4, width = 13.5, height = 1.6 }
required = false
"""
MUG = """
name = "Test mug (8.5 x 3.5 in)"
noun = "mug"
width_in = 8.5
height_in = 3.5
dpi = 30
min_dpi = 0
background = "#ffffff"

[[layers]]
type = "image"
field = "photo"
box = { x = 0.35, y = 0.35, width = 2.8, height = 2.8 }

[[layers]]
type = "text"
field = "message"
size_pt = 40
min_size_pt = 10
box = { x = 3.6, y = 0.35, width = 4.55, height = 2.8 }
multiline = true
"""


def write_templates(folder: Path, tee: str = "tee", mug: str = "mug") -> Path:
    """The tee and the mug in `folder` (made if needed), under these product keys."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{tee}.toml").write_text(TEE)
    (folder / f"{mug}.toml").write_text(MUG)
    return folder


@contextmanager
def photo_host() -> Iterator[str]:
    """Two different photos (`/ana.jpg`, `/new.jpg`) and a web page (`/page.jpg`);
    any other path answers 404. Yields the base URL (on 127.0.0.1)."""
    jpeg = {"Content-Type": "image/jpeg"}
    routes = {
        "/ana.jpg": Reply(headers=jpeg, body=jpeg_bytes(make_sample_photo((300, 300), seed=1))),
        "/new.jpg": Reply(headers=jpeg, body=jpeg_bytes(make_sample_photo((300, 300), seed=5))),
        "/page.jpg": Reply(headers={"Content-Type": "text/html"}, body=b"<html>sold out</html>"),
    }
    with local_server(routes) as base:
        yield base
