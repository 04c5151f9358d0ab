"""Customer photos: fetched only from where it is safe, decoded only when sound."""

from __future__ import annotations

import io
import os
import socket
import struct
import time
import zlib

import pytest
from PIL import Image, ImageCms

from podops.errors import RenderRefused
from render.images import FetchPolicy, decode_image, fetch_image
from render.sample_photo import make_sample_photo
from tests.render.render_test_support import (
    Reply,
    jpeg_bytes,
    local_server,
    png_bytes,
    sample_jpeg,
    slow_name_server,
)

LOOPBACK_OK = FetchPolicy(allow_loopback=True, timeout_s=3)
PHOTO = sample_jpeg((120, 80))
JPEG = {"Content-Type": "image/jpeg"}


def refusal(url: str, policy: FetchPolicy = LOOPBACK_OK) -> str:
    with pytest.raises(RenderRefused) as refused:
        fetch_image(url, policy)
    return refused.value.message


def test_a_photo_is_downloaded_from_the_local_test_server() -> None:
    with local_server({"/photo.jpg": Reply(body=PHOTO, headers=JPEG)}) as base:
        assert fetch_image(f"{base}/photo.jpg", LOOPBACK_OK) == PHOTO


def test_loopback_is_refused_by_default() -> None:
    with local_server({"/photo.jpg": Reply(body=PHOTO, headers=JPEG)}) as base:
        message = refusal(f"{base}/photo.jpg", FetchPolicy())
    assert message == (
        f"the photo at {base}/photo.jpg resolves to a loopback address (127.0.0.1); "
        "photos are only fetched from public addresses"
    )


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://10.0.0.5/p.jpg", "a private address (10.0.0.5)"),
        ("http://192.168.1.20/p.jpg", "a private address (192.168.1.20)"),
        ("http://169.254.169.254/latest/meta-data", "a link-local address (169.254.169.254)"),
        ("http://[::1]/p.jpg", "a loopback address (::1)"),
        ("http://[::ffff:10.1.2.3]/p.jpg", "a private address (::ffff:a01:203)"),
        ("http://224.0.0.1/p.jpg", "a multicast address (224.0.0.1)"),
        ("http://0.0.0.0/p.jpg", "a reserved address (0.0.0.0)"),
        ("http://localhost/p.jpg", "a loopback address"),
    ],
)
def test_internal_addresses_are_refused_before_connecting(url: str, kind: str) -> None:
    assert f"resolves to {kind}" in refusal(url, FetchPolicy())


def test_only_http_and_https_are_fetched() -> None:
    assert "is not an http(s) web address" in refusal("file:///etc/passwd")
    assert "is not an http(s) web address" in refusal("ftp://example.com/p.jpg")


def test_a_redirect_to_a_private_address_is_refused() -> None:
    routes = {"/r": Reply(status=302, headers={"Location": "http://10.0.0.5/secret.jpg"})}
    with local_server(routes) as base:
        assert "http://10.0.0.5/secret.jpg resolves to a private address" in refusal(f"{base}/r")


def test_redirects_are_followed_up_to_three_times() -> None:
    routes = {
        "/a": Reply(status=301, headers={"Location": "/b"}),
        "/b": Reply(status=302, headers={"Location": "/c"}),
        "/c": Reply(status=307, headers={"Location": "/photo.jpg"}),
        "/photo.jpg": Reply(body=PHOTO, headers=JPEG),
        "/loop": Reply(status=302, headers={"Location": "/loop"}),
    }
    with local_server(routes) as base:
        assert fetch_image(f"{base}/a", LOOPBACK_OK) == PHOTO
        assert "redirects more than 3 times" in refusal(f"{base}/loop")


def test_a_photo_larger_than_the_cap_is_refused_by_its_declared_size() -> None:
    policy = FetchPolicy(allow_loopback=True, max_bytes=20 * 1024 * 1024)
    headers = {**JPEG, "Content-Length": str(25 * 1024 * 1024)}
    with local_server({"/huge.jpg": Reply(body=b"", headers=headers)}) as base:
        assert refusal(f"{base}/huge.jpg", policy).endswith("is larger than 20 MB")


def test_a_photo_larger_than_the_cap_is_cut_off_while_streaming() -> None:
    policy = FetchPolicy(allow_loopback=True, max_bytes=1024 * 1024)
    endless = Reply(
        body=PHOTO + os.urandom(3_000_000), headers=JPEG, chunks=30, declare_length=False
    )
    with local_server({"/stream.jpg": endless}) as base:
        assert refusal(f"{base}/stream.jpg", policy).endswith("is larger than 1 MB")


def test_a_web_page_is_refused_by_content_type() -> None:
    page = Reply(
        body=b"<html>Not found</html>", headers={"Content-Type": "text/html; charset=utf-8"}
    )
    with local_server({"/photo.jpg": page}) as base:
        assert "is a web page or document (text/html), not an image" in refusal(f"{base}/photo.jpg")


def test_a_file_that_is_not_an_image_is_refused_by_its_bytes() -> None:
    reply = Reply(
        body=b"%PDF-1.7 not a photo", headers={"Content-Type": "application/octet-stream"}
    )
    with local_server({"/p": reply}) as base:
        assert "is not a photo we can print" in refusal(f"{base}/p")


def test_a_server_error_is_reported_with_its_status() -> None:
    with local_server({}) as base:
        assert refusal(f"{base}/gone.jpg").endswith("could not be downloaded (HTTP 404)")


def test_a_slow_server_is_abandoned_after_the_timeout() -> None:
    policy = FetchPolicy(allow_loopback=True, timeout_s=0.5)
    slow = Reply(body=PHOTO, headers=JPEG, chunks=4, delay_s=0.4)
    with local_server({"/slow.jpg": slow}) as base:
        assert "took longer than 0.5 s" in refusal(f"{base}/slow.jpg", policy)


def test_a_name_server_that_never_answers_is_abandoned_at_the_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    policy = FetchPolicy(allow_loopback=True, timeout_s=0.5)
    with (
        local_server({"/p.jpg": Reply(body=PHOTO, headers=JPEG)}) as base,
        slow_name_server(monkeypatch, {"photos.slow.test": "127.0.0.1"}, delay_s=30) as asked,
    ):
        url = base.replace("127.0.0.1", "photos.slow.test") + "/p.jpg"
        started = time.monotonic()
        message = refusal(url, policy)
        took = time.monotonic() - started
    assert asked == ["photos.slow.test"]
    assert took < 0.5 + 0.25
    assert message == (
        f"the photo at {url} took longer than 0.5 s to download "
        "(the address of 'photos.slow.test' could not be looked up in time)"
    )


def test_a_redirect_to_a_slow_name_server_ends_within_the_one_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    policy = FetchPolicy(allow_loopback=True, timeout_s=1.0)
    with local_server({}) as base:
        port = base.rsplit(":", 1)[1]
        slow_hop = f"http://next.slow.test:{port}/p.jpg"
        routes = {"/r": Reply(status=302, headers={"Location": slow_hop}, delay_s=0.4)}
        with (
            local_server(routes) as first,
            slow_name_server(monkeypatch, {"next.slow.test": "127.0.0.1"}, delay_s=30),
        ):
            started = time.monotonic()
            message = refusal(f"{first}/r", policy)
            took = time.monotonic() - started
    assert took < 1.0 + 0.25  # the first hop's 0.4 s and the lookup share one second
    assert message.startswith(f"the photo at {slow_hop} took longer than 1 s to download")


def test_a_slow_lookup_within_the_deadline_still_fetches_the_photo(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with (
        local_server({"/p.jpg": Reply(body=PHOTO, headers=JPEG)}) as base,
        slow_name_server(monkeypatch, {"photos.slow.test": "127.0.0.1"}, delay_s=0.3),
    ):
        url = base.replace("127.0.0.1", "photos.slow.test") + "/p.jpg"
        assert fetch_image(url, LOOPBACK_OK) == PHOTO


def test_a_name_that_does_not_exist_is_reported_as_not_found(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_such_name(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_name)
    assert refusal("http://gone.test/p.jpg") == (
        "the photo at http://gone.test/p.jpg cannot be fetched: the host 'gone.test' was not found"
    )


def test_the_address_checked_is_the_address_connected_to(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DNS rebinding: a name that answers a harmless address when checked and the
    metadata service afterwards is only ever looked up once per hop."""
    real = socket.getaddrinfo
    answers = iter(["127.0.0.1"])

    def rebinding(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host != "rebind.test":
            return real(host, port, *args, **kwargs)
        return real(next(answers, "169.254.169.254"), port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with local_server({"/p.jpg": Reply(body=PHOTO, headers=JPEG)}) as base:
        url = base.replace("127.0.0.1", "rebind.test") + "/p.jpg"
        assert fetch_image(url, LOOPBACK_OK) == PHOTO  # connected to the checked 127.0.0.1
        assert "resolves to a link-local address (169.254.169.254)" in refusal(url)


def test_credentials_and_query_strings_never_appear_in_messages() -> None:
    message = refusal("http://user:secret@10.0.0.5/p.jpg?token=abc123", FetchPolicy())
    assert "secret" not in message and "abc123" not in message


# --- decoding --------------------------------------------------------------------------


def test_decoded_photos_are_rgb_or_rgba() -> None:
    assert decode_image(PHOTO).mode == "RGB"
    with_alpha = Image.new("RGBA", (10, 10), (1, 2, 3, 100))
    assert decode_image(png_bytes(with_alpha)).mode == "RGBA"
    grey = Image.new("L", (10, 10), 90)
    assert decode_image(png_bytes(grey)).getpixel((0, 0)) == (90, 90, 90)


def test_photos_over_the_pixel_limit_are_refused() -> None:
    with pytest.raises(RenderRefused, match=r"2000 x 1000 pixels \(2 megapixels\); at most 1"):
        decode_image(jpeg_bytes(Image.new("RGB", (2000, 1000))), max_pixels=1_000_000)


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that claims to be enormous: a decompression bomb's calling card."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
    )


@pytest.mark.parametrize("side", [20_000, 60_000])
def test_decompression_bombs_are_refused_without_decoding(side: int) -> None:
    with pytest.raises(RenderRefused) as refused:
        decode_image(png_header_only(side, side))
    assert "megapixels" in refused.value.message or "too large" in refused.value.message


def test_a_truncated_photo_is_refused() -> None:
    whole = jpeg_bytes(make_sample_photo((300, 300)))
    with pytest.raises(RenderRefused, match="damaged or incomplete"):
        decode_image(whole[: len(whole) // 2])


def test_garbage_is_refused_as_not_an_image() -> None:
    with pytest.raises(RenderRefused, match="not an image"):
        decode_image(b"Dear customer, your photo is attached." * 10)


def test_phone_photos_are_turned_upright_from_their_exif_orientation() -> None:
    picture = Image.new("RGB", (200, 100), (255, 0, 0))
    picture.paste((0, 0, 255), (0, 0, 100, 100))  # blue on the left, red on the right
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: rotate 90 degrees clockwise to view
    upright = decode_image(jpeg_bytes(picture, exif=exif.tobytes()))
    assert upright.size == (100, 200)
    red, _, blue = upright.getpixel((50, 20))
    assert blue > 200 and red < 60  # the left (blue) side is now on top


def test_large_jpegs_are_decoded_at_a_reduced_size_no_smaller_than_the_frame() -> None:
    big = jpeg_bytes(make_sample_photo((1600, 1200)))
    decoded = decode_image(big, needed=(300, 300))
    assert decoded.size == (400, 300)  # 1/4 scale: still covers a 300 x 300 frame
    assert decode_image(big).size == (1600, 1200)


def test_photos_with_an_embedded_profile_are_read_through_it() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    picture = Image.new("RGB", (8, 8), (10, 200, 30))
    tagged = io.BytesIO()
    picture.save(tagged, "PNG", icc_profile=srgb)
    assert decode_image(tagged.getvalue()).getpixel((0, 0)) == pytest.approx((10, 200, 30), abs=2)
    broken = io.BytesIO()
    picture.save(broken, "PNG", icc_profile=b"not a profile")
    assert decode_image(broken.getvalue()).getpixel((0, 0)) == (10, 200, 30)
