"""Signed print-file links: providers can download, nobody can guess or reuse them."""

from __future__ import annotations

from pathlib import Path

import anyio
import httpx
import pytest
from starlette.applications import Starlette

from render.links import print_file_routes, sign_path, signed_url, verify

KEY = b"k" * 32
NOW = 1_700_000_000.0


def clock() -> float:
    return NOW


@pytest.fixture
def storage(tmp_path: Path) -> Path:
    folder = tmp_path / "print-files"
    folder.mkdir()
    (folder / "1234-1-r001-abcdef012345.png").write_bytes(b"\x89PNG print file")
    (tmp_path / "secret.txt").write_text("outside the storage folder")
    return folder


class Client:
    """Requests to the ASGI app in-process (httpx's ASGI transport, no sockets)."""

    def __init__(self, app: Starlette) -> None:
        self.app = app

    def get(self, path: str) -> httpx.Response:
        async def fetch() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://pod") as client:
                response = await client.get(path)
                await response.aread()
                return response

        return anyio.run(fetch)


@pytest.fixture
def client(storage: Path) -> Client:
    return Client(Starlette(routes=print_file_routes(storage, KEY, now=clock)))


def test_a_signed_link_downloads_the_print_file(client: Client) -> None:
    response = client.get(sign_path("1234-1-r001-abcdef012345.png", KEY, now=clock))
    assert response.status_code == 200
    assert response.content == b"\x89PNG print file"
    assert response.headers["content-type"] == "image/png"


def test_an_expired_link_is_not_found(storage: Path) -> None:
    path = sign_path("1234-1-r001-abcdef012345.png", KEY, ttl_s=60, now=clock)
    later = Client(Starlette(routes=print_file_routes(storage, KEY, now=lambda: NOW + 61)))
    assert later.get(path).status_code == 404


def test_a_tampered_or_foreign_signature_is_not_found(client: Client) -> None:
    path = sign_path("1234-1-r001-abcdef012345.png", KEY, now=clock)
    assert client.get(path[:-1] + ("0" if path[-1] != "0" else "1")).status_code == 404
    other_key = sign_path("1234-1-r001-abcdef012345.png", b"x" * 32, now=clock)
    assert client.get(other_key).status_code == 404
    assert client.get("/files/1234-1-r001-abcdef012345.png").status_code == 404


def test_a_longer_expiry_cannot_be_grafted_onto_a_signature(client: Client) -> None:
    path = sign_path("1234-1-r001-abcdef012345.png", KEY, ttl_s=60, now=clock)
    stretched = path.replace(f"exp={int(NOW) + 60}", f"exp={int(NOW) + 10**8}")
    assert client.get(stretched).status_code == 404


@pytest.mark.parametrize("name", ["../secret.txt", "..%2Fsecret.txt", ".hidden", "%2e%2e"])
def test_paths_outside_the_storage_folder_are_never_served(client: Client, name: str) -> None:
    # Even with a valid signature for the crafted name.
    expires = int(NOW) + 60
    from render.links import signature

    response = client.get(f"/files/{name}?exp={expires}&sig={signature(name, expires, KEY)}")
    assert response.status_code == 404
    assert b"outside the storage folder" not in response.content


def test_signed_urls_are_unguessable_and_checkable() -> None:
    url = signed_url("https://pod.example.com/", "a.png", KEY, now=clock)
    assert url.startswith("https://pod.example.com/files/a.png?exp=")
    signature_hex = url.rsplit("sig=", 1)[1]
    assert len(signature_hex) == 64
    assert verify("a.png", str(int(NOW) + 7 * 24 * 3600), signature_hex, KEY, now=clock)
    assert not verify("b.png", str(int(NOW) + 7 * 24 * 3600), signature_hex, KEY, now=clock)


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        print_file_routes(Path("."), b"short")
