"""A real S3-compatible server (moto's server mode, its own process on 127.0.0.1) and
runtimes whose storage is its bucket."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from podops.db import Database
from podops.runtime.root import Runtime
from podops.settings import RoutingRule, Settings
from tests.fakes.s3_server import S3Server

LINK_SECRET = "storage-test-link-secret-0123456789"
BASE = "https://podops.example"  # where the web role is reached (render.public_base_url)


@pytest.fixture(scope="session")
def photo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A customer photo served over HTTP on 127.0.0.1."""
    folder = tmp_path_factory.mktemp("www")
    Image.new("RGB", (2400, 2400), (200, 120, 40)).save(folder / "photo.jpg", quality=90)
    handler = partial(SimpleHTTPRequestHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/photo.jpg"
    server.shutdown()


@pytest.fixture(scope="session")
def s3() -> Iterator[S3Server]:
    with S3Server() as server:
        yield server


def s3_settings(s3: S3Server, **storage: Any) -> dict[str, Any]:
    return {
        "kind": "s3",
        "bucket": s3.bucket,
        "endpoint_url": s3.endpoint,
        "access_key_id": s3.keys.access_key_id,
        "secret_access_key": s3.keys.secret_access_key,
        "timeout_s": 5,
    } | storage


def shop_runtime(db: Database, data_dir: Path, storage: dict[str, Any] | None) -> Runtime:
    """A shop with the manual provider and the example tee template, on `storage`
    (None: the local folder)."""
    settings = Settings(
        data_dir=data_dir,
        stores={"main": {"platform": "sandbox", "default_provider": "manual"}},
        providers={"manual": {"kind": "manual"}},
        routing=[RoutingRule(sku="TEE-*", provider="manual", product_key="tee-front")],
        render={
            "public_base_url": BASE,
            "link_secret": LINK_SECRET,
            "allow_loopback_image_hosts": True,
        },
        **({"storage": storage} if storage is not None else {}),
    )  # type: ignore[arg-type]
    runtime = Runtime(settings)
    runtime.__dict__["db"] = db
    return runtime
