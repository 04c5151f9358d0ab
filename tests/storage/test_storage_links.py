"""Links to files in a bucket outlive S3's 7-day cap on presigned URLs: when a web role
serves links, a provider gets the web role's signed link (valid render.link_ttl_hours,
30 days by default), which the web role checks and redirects to a presigned URL made
at that moment. Only without a web role are links presigned URLs, and then start-up
and `podops status` say that they die after storage.presign_hours.

Every file is in a real S3-compatible server (moto); the web role runs on a folder of
its own with none of the files; days pass by moving the clock the web role checks
links with."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from starlette.applications import Starlette

from podops.cli.main import main
from podops.links import sign_path, signed_url
from podops.runtime.root import Runtime
from podops.settings import Settings
from render.web import routes as file_routes
from tests.asgi_client import AsgiClient
from tests.fakes.s3_server import S3Server
from tests.storage.conftest import BASE, LINK_SECRET, s3_settings

DAY_S = 24 * 3600
KEY = LINK_SECRET.encode()
NAME = "main-3001-1-r001-0123456789ab.png"
DATA = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 400
WEB = {"public_base_url": BASE, "link_secret": LINK_SECRET}


def _host(folder: Path, s3: S3Server, prefix: str, *, web: bool, **storage: Any) -> Runtime:
    """One host's runtime (its own folder) on the shared bucket."""
    return Runtime(
        Settings(
            data_dir=folder,
            render=WEB if web else {},
            storage=s3_settings(s3, prefix=prefix, **storage),
        )  # type: ignore[arg-type]
    )


@pytest.fixture
def shop(tmp_path: Path, s3: S3Server) -> tuple[Runtime, Runtime]:
    """A worker that stored NAME in the bucket, and a web role on another host."""
    prefix = f"links-{tmp_path.name}"
    worker = _host(tmp_path / "worker", s3, prefix, web=True)
    worker.storage.put(NAME, DATA, "image/png")
    return worker, _host(tmp_path / "web", s3, prefix, web=True)


def _web_role(web: Runtime, *, days_later: float = 0) -> AsgiClient:
    """The web role's `/files/` route, checking links `days_later` days from now."""

    def now() -> float:
        return time.time() + days_later * DAY_S

    return AsgiClient(Starlette(routes=file_routes(web, now=now)))


def _path(url: str) -> str:
    assert url.startswith(BASE + "/files/"), url
    return url.removeprefix(BASE)


def _amz(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def test_a_link_handed_out_today_still_downloads_the_file_ten_days_later(
    shop: tuple[Runtime, Runtime],
) -> None:
    worker, web = shop
    link = worker.storage.url_for(worker.storage.location_of(NAME))

    expires_at = int(_amz(link)["exp"])
    assert expires_at >= time.time() + 30 * DAY_S - 60  # render.link_ttl_hours: 720
    ten_days_later = _web_role(web, days_later=10).get(_path(link))

    assert ten_days_later.status_code == 307
    fresh = ten_days_later.headers["location"]
    signed = _amz(fresh)
    assert int(signed["X-Amz-Expires"]) <= 15 * 60  # short-lived: made for this download
    made = datetime.strptime(signed["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert abs(made.timestamp() - time.time()) < 120  # minted at download time
    download = httpx.get(fresh, timeout=10)
    assert download.status_code == 200
    assert hashlib.sha256(download.content).digest() == hashlib.sha256(DATA).digest()
    assert download.headers["content-type"] == "image/png"

    month_later = _web_role(web, days_later=31).get(_path(link))
    assert month_later.status_code == 404
    assert "location" not in month_later.headers


def test_a_provider_probing_with_head_gets_the_size_and_type_without_a_redirect(
    shop: tuple[Runtime, Runtime],
) -> None:
    worker, web = shop
    link = worker.storage.url_for(worker.storage.location_of(NAME))

    probe = _web_role(web, days_later=10).request("HEAD", _path(link))

    assert probe.status_code == 200
    assert probe.headers["content-length"] == str(len(DATA))
    assert probe.headers["content-type"] == "image/png"
    assert "location" not in probe.headers and probe.content == b""


def _tampered(link: str) -> list[str]:
    parts = urlsplit(link)
    query = _amz(link)
    sig, exp = query["sig"], query["exp"]
    flipped = sig[:-1] + ("0" if sig[-1] != "0" else "1")

    def with_query(**changes: str) -> str:
        return f"{parts.path}?{urlencode({'exp': exp, 'sig': sig} | changes)}"

    return [
        with_query(sig=flipped),
        with_query(exp=str(int(exp) + 30 * DAY_S)),  # a longer life, same signature
        with_query(sig=""),
        parts.path,  # no signature at all
        # another file's name with this link's signature
        f"/files/main-3001-1-r002-0123456789ab.png?{urlencode({'exp': exp, 'sig': sig})}",
        # signed with another secret
        sign_path(NAME, b"another-secret-0123456789abcdef", ttl_s=3600),
    ]


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_tampered_or_expired_link_is_refused_and_nothing_is_presigned(
    shop: tuple[Runtime, Runtime], method: str
) -> None:
    worker, web = shop
    worker.storage.put("main-3001-1-r002-0123456789ab.png", b"other", "image/png")
    link = worker.storage.url_for(worker.storage.location_of(NAME))
    client = _web_role(web)

    for path in _tampered(link):
        answer = client.request(method, path)
        assert (path, answer.status_code) == (path, 404)
        assert "location" not in answer.headers
    expired = sign_path(NAME, KEY, ttl_s=3600, now=lambda: time.time() - 2 * 3600)
    assert client.request(method, expired).status_code == 404
    assert client.request(method, _path(link)).status_code in (200, 307)  # the real one


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_signed_link_to_a_file_not_in_the_storage_is_404_never_a_presigned_url(
    shop: tuple[Runtime, Runtime], s3: S3Server, tmp_path: Path, method: str
) -> None:
    _, web = shop
    outside = _host(tmp_path / "other", s3, "", web=False)  # the bucket's top level
    outside.storage.put("customer-list.png", b"not a print file of this shop", "image/png")
    client = _web_role(web)

    for name in (
        "main-9999-1-r001-000000000000.png",  # never stored
        "customer-list.png",  # in the bucket, but not under storage.prefix
        ".podops-storage-check",  # not a name storage holds
    ):
        answer = client.request(method, _path(signed_url(BASE, name, KEY)))
        assert (name, answer.status_code) == (name, 404)
        assert "location" not in answer.headers


def test_an_unreachable_bucket_is_503_try_again(tmp_path: Path, s3: S3Server) -> None:
    web = _host(tmp_path, s3, "links", web=True, endpoint_url="http://127.0.0.1:9", timeout_s=2)
    answer = _web_role(web).get(_path(signed_url(BASE, NAME, KEY)))
    assert answer.status_code == 503
    assert "try again" in answer.text


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_without_a_web_role_links_are_presigned_for_presign_hours_and_start_up_says_so(
    tmp_path: Path, s3: S3Server, caplog: pytest.LogCaptureFixture
) -> None:
    alone = _host(tmp_path, s3, f"direct-{tmp_path.name}", web=False, presign_hours=48)
    location = alone.storage.put(NAME, DATA, "image/png")

    link = alone.storage.url_for(location)

    assert link.startswith(s3.endpoint) and _amz(link)["X-Amz-Expires"] == str(48 * 3600)
    assert httpx.get(link, timeout=10).content == DATA
    with caplog.at_level(logging.WARNING):
        alone.storage.check()
    (warning,) = _warnings(caplog)
    assert "expire after storage.presign_hours = 48 h" in warning
    assert "S3 allows at most 168 h" in warning
    assert "PODOPS_RENDER__LINK_SECRET and render.public_base_url" in warning


def test_with_a_web_role_start_up_does_not_warn(
    shop: tuple[Runtime, Runtime], caplog: pytest.LogCaptureFixture
) -> None:
    _, web = shop
    with caplog.at_level(logging.WARNING):
        web.storage.check()
    assert _warnings(caplog) == []


@pytest.fixture
def shop_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str, s3: S3Server
) -> Callable[..., None]:
    """`podops init` in a folder on the test database; `use(**storage)` sets the bucket
    (and `web=True` the web role's link settings) in the environment."""
    monkeypatch.chdir(tmp_path)
    for name in ("PODOPS_CONFIG", "PODOPS_RENDER__LINK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PODOPS_DATABASE__URL", db_url)
    assert main(["init"]) == 0

    def use(*, web: bool = False, **storage: Any) -> None:
        for key, value in s3_settings(s3, prefix="cli", **storage).items():
            monkeypatch.setenv(f"PODOPS_STORAGE__{key.upper()}", str(value))
        if web:
            monkeypatch.setenv("PODOPS_RENDER__LINK_SECRET", LINK_SECRET)
            monkeypatch.setenv("PODOPS_RENDER__PUBLIC_BASE_URL", BASE)

    return use


def test_storage_check_and_status_say_presigned_links_expire(
    shop_folder: Callable[..., None], capsys: pytest.CaptureFixture[str]
) -> None:
    shop_folder(presign_hours=72)
    capsys.readouterr()

    assert main(["storage", "check"]) == 0
    checked = capsys.readouterr()
    assert "storage s3: ok" in checked.out
    assert "expire after storage.presign_hours = 72 h" in checked.err
    assert main(["status"]) == 0
    status = " ".join(capsys.readouterr().out.split())
    assert "expire after storage.presign_hours = 72 h (S3 allows at most 168 h" in status
    assert "PODOPS_RENDER__LINK_SECRET" in status


def test_with_a_web_role_status_says_links_go_through_it(
    shop_folder: Callable[..., None], capsys: pytest.CaptureFixture[str]
) -> None:
    shop_folder(web=True)
    capsys.readouterr()

    assert main(["storage", "check"]) == 0
    assert "presign_hours" not in capsys.readouterr().err
    assert main(["status"]) == 0
    status = " ".join(capsys.readouterr().out.split())
    assert f"links go through the web role at {BASE}, valid 720 h" in status
    assert "expire after" not in status


@pytest.mark.parametrize(
    ("hours", "why"), [("169", "at most 168 (7 days)"), ("0", "more than 0"), ("-5", "more than 0")]
)
def test_presign_hours_beyond_s3s_limit_is_a_config_error_naming_it(
    shop_folder: Callable[..., None], capsys: pytest.CaptureFixture[str], hours: str, why: str
) -> None:
    shop_folder(presign_hours=hours)
    capsys.readouterr()

    assert main(["storage", "check"]) == 2
    err = capsys.readouterr().err
    assert "storage.presign_hours" in err and why in err
