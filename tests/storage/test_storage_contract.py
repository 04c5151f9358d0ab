"""The storage port, kept by both kinds alike: the local folder and a real
S3-compatible server's bucket."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.applications import Starlette

from podops.links import verify
from podops.ports.storage import FileStorage
from podops.settings import StorageConfig
from providers.storage_local import LocalStorage
from providers.storage_s3 import S3Storage
from render.links import print_file_routes
from tests.asgi_client import AsgiClient
from tests.fakes.s3_server import S3Server
from tests.storage.conftest import LINK_SECRET, s3_settings

KEY = LINK_SECRET.encode()


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FileStorage]:
    local = LocalStorage(tmp_path / "files", "https://podops.example", KEY, 3600)
    if request.param == "local":
        yield local
        return
    s3: S3Server = request.getfixturevalue("s3")
    prefix = f"contract-{tmp_path.name}"
    yield S3Storage(StorageConfig(**s3_settings(s3, prefix=prefix)), local)


def test_a_stored_file_reads_back_whole_and_its_revisions_are_listed(
    storage: FileStorage,
) -> None:
    data = bytes(range(256)) * 4096  # 1 MB
    first = storage.put("1001-01-r001-aaaaaaaaaaaa.png", data, "image/png")
    storage.put("1001-01-r002-bbbbbbbbbbbb.png", b"second", "image/png")
    storage.put("1001-02-r001-cccccccccccc.png", b"other line", "image/png")

    assert storage.read(first) == data
    assert storage.exists(first)
    assert storage.owns(first)
    assert storage.location_of("1001-01-r001-aaaaaaaaaaaa.png") == first
    assert storage.names_starting("1001-01-r") == [
        "1001-01-r001-aaaaaaaaaaaa.png",
        "1001-01-r002-bbbbbbbbbbbb.png",
    ]


def test_a_deleted_file_is_gone_and_deleting_again_is_fine(storage: FileStorage) -> None:
    location = storage.put("packing-slip-main-1001.pdf", b"%PDF-1.4", "application/pdf")
    storage.delete(location)
    storage.delete(location)
    assert not storage.exists(location)
    with pytest.raises(FileNotFoundError):
        storage.read(location)


def test_names_that_are_not_plain_file_names_are_refused(storage: FileStorage) -> None:
    for name in ("../escape.png", "a/b.png", ".hidden.png", ""):
        with pytest.raises(ValueError):
            storage.put(name, b"x", "image/png")


def test_the_link_downloads_the_very_bytes(storage: FileStorage) -> None:
    """Through the web role, as a provider follows it: the local folder's file is served
    there; a bucket's link is checked there and redirected to the bucket."""
    data = b"\x89PNG print file " * 1000
    location = storage.put("1002-01-r001-dddddddddddd.png", data, "image/png")
    url = storage.url_for(location)

    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert url.startswith("https://podops.example/files/1002-01-r001-dddddddddddd.png?")
    assert verify(parts.path.rsplit("/", 1)[1], query["exp"][0], query["sig"][0], KEY)
    answer = follow(storage, url)
    assert answer.status_code == 200
    assert hashlib.sha256(answer.content).digest() == hashlib.sha256(data).digest()
    assert answer.headers["content-type"] == "image/png"


def follow(storage: FileStorage, url: str) -> httpx.Response:
    """GET a link the way a provider does: the web role (its route, in process) and,
    when it redirects, the bucket over HTTP."""
    local = storage.local if isinstance(storage, S3Storage) else storage
    assert isinstance(local, LocalStorage)
    bucket = storage if isinstance(storage, S3Storage) else None
    web = AsgiClient(Starlette(routes=print_file_routes(local.folder, KEY, elsewhere=bucket)))
    answer = web.get(url.removeprefix("https://podops.example"))
    if answer.status_code == 307:
        return httpx.get(answer.headers["location"], timeout=10)
    return answer


def test_a_bucket_still_reads_and_links_files_written_before_it(
    s3: S3Server, tmp_path: Path
) -> None:
    local = LocalStorage(tmp_path, "https://podops.example", KEY, 3600)
    old = local.put("1003-01-r001-eeeeeeeeeeee.png", b"old", "image/png")
    bucket = S3Storage(StorageConfig(**s3_settings(s3)), local)
    assert bucket.read(old) == b"old"
    assert bucket.url_for(old).startswith("https://podops.example/files/")
