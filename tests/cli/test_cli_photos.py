"""Photo quality from the terminal, with the real renderer and the shipped tee template
(a 9-inch round frame): a small photo stops the order with its resolution in words,
`podops accept-photo` lets it go, a crop moves the photo in the print file and the
preview, and a crop that cannot be printed is refused with nothing changed."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from podops import services
from podops.cli.main import main
from podops.db import Database
from podops.incoming import IncomingLineItem
from podops.models import Event, OutboxMessage
from podops.photos import PhotoFit, photo_statuses
from podops.routing import ShopPolicy
from podops.status import OrderStatus
from podops.wording import describe_event
from tests.factories import SYSTEM, incoming
from tests.render.render_test_support import Reply, jpeg_bytes, local_server, sample_jpeg

SMALL = "photo is 44 DPI at this size (at least 150 wanted)"


def _halves(size: tuple[int, int]) -> bytes:
    """A landscape photo, red on its left half and blue on its right."""
    image = Image.new("RGB", size, (220, 20, 20))
    image.paste((20, 20, 220), (size[0] // 2, 0, size[0], size[1]))
    return jpeg_bytes(image, quality=95)


@pytest.fixture
def photos() -> Iterator[str]:
    """Customer photos on a web server on this machine."""
    routes = {
        "/small.jpg": Reply(headers={"Content-Type": "image/jpeg"}, body=sample_jpeg((400, 400))),
        "/large.jpg": Reply(headers={"Content-Type": "image/jpeg"}, body=sample_jpeg((1500, 1500))),
        "/halves.jpg": Reply(headers={"Content-Type": "image/jpeg"}, body=_halves((3000, 1500))),
    }
    with local_server(routes) as base_url:
        yield base_url


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str) -> Path:
    """A shop folder on the test database (shipped templates), fetching from 127.0.0.1."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PODOPS_DATABASE__URL", db_url)
    monkeypatch.setenv("PODOPS_RENDER__ALLOW_LOOPBACK_IMAGE_HOSTS", "true")
    monkeypatch.delenv("PODOPS_CONFIG", raising=False)
    assert main(["init"]) == 0
    return tmp_path


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()


def _tee_order(db: Database, policy: ShopPolicy, number: str, photo_url: str) -> None:
    """A pending order of one tee with the customer's photo in its round frame."""
    tee = IncomingLineItem(
        "li-1",
        "TEE-BLK-M",
        "Custom Tee",
        1,
        Decimal("19.00"),
        personalization={"name": "ANA"},
        image_urls={"photo": photo_url},
    )
    with db.unit_of_work() as session:
        services.receive_orders(session, [incoming(number, items=[tee])], policy, SYSTEM)


def _state(db: Database, number: str) -> tuple[OrderStatus, list[str], list[int | None]]:
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        item = order.items[0]
        dpis = [s.dpi for s in photo_statuses(item.photos, item.image_urls)]
        return OrderStatus(order.status), [str(p) for p in order.problems], dpis


def _events(db: Database, action: str) -> int:
    with db.unit_of_work() as session:
        query = select(func.count()).select_from(Event).where(Event.action == action)
        return int(session.scalar(query) or 0)


def test_a_small_photo_waits_for_staff_until_accepted_and_a_new_crop_checks_again(
    workdir: Path,
    database: Database,
    policy: ShopPolicy,
    photos: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _tee_order(database, policy, "6001", f"{photos}/small.jpg")
    assert main(["render", "6001"]) == 0
    out = capsys.readouterr().out
    assert "44 DPI at this size (at least 150 wanted)" in out
    status, problems, dpis = _state(database, "6001")
    assert status == OrderStatus.NEEDS_DESIGN and dpis == [44]
    assert problems == [f"line 1: print file: {SMALL}"]

    assert main(["accept-photo", "6001"]) == 0
    out = capsys.readouterr().out
    assert "6001-01: the photo prints as it is." in out and "is now: pending" in out
    assert _state(database, "6001")[:2] == (OrderStatus.PENDING, [])
    assert _events(database, "photo_accepted") == 1
    with database.unit_of_work() as session:  # the order's Slack thread hears of it
        accepted = session.scalars(select(Event).where(Event.action == "photo_accepted")).one()
        keys = set(session.scalars(select(OutboxMessage.dedup_key)))
        assert f"notify:event:{accepted.id}" in keys
        assert describe_event(accepted, "6001").startswith("cli:")
        assert "accepted the photo of 6001-01 at 44 DPI (at least 150 wanted)" in (
            describe_event(accepted, "6001")
        )
    assert main(["render", "6001"]) == 0  # the same photo at the same crop: still accepted
    assert "(accepted)" in capsys.readouterr().out
    assert _state(database, "6001")[0] == OrderStatus.PENDING
    assert main(["accept-photo", "6001"]) == 1
    assert "nothing to accept on line 6001-01" in capsys.readouterr().err

    assert main(["edit", "6001", "photo.zoom=1.25"]) == 0  # a new crop is checked again
    out = capsys.readouterr().out
    assert "35 DPI at this size" in out and "is now: needs design" in out
    status, problems, dpis = _state(database, "6001")
    assert status == OrderStatus.NEEDS_DESIGN and dpis == [35]
    assert problems == ["line 1: print file: photo is 35 DPI at this size (at least 150 wanted)"]


def test_a_large_photo_passes_and_zoom_2_halves_its_resolution(
    workdir: Path,
    database: Database,
    policy: ShopPolicy,
    photos: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _tee_order(database, policy, "6002", f"{photos}/large.jpg")
    assert main(["render", "6002"]) == 0
    assert "166 DPI at this size" in capsys.readouterr().out
    assert _state(database, "6002") == (OrderStatus.PENDING, [], [166])
    assert main(["edit", "6002", "photo.zoom=2", "photo.x=-25%"]) == 0
    out = capsys.readouterr().out
    assert "83 DPI at this size (at least 150 wanted), zoom=2 x=-25% y=0%" in out
    assert _state(database, "6002")[::2] == (OrderStatus.NEEDS_DESIGN, [83])
    assert main(["orders", "show", "6002"]) == 0
    shown = capsys.readouterr().out
    assert "6002-01 photo       83 DPI at this size (at least 150 wanted), zoom=2" in shown
    assert _events(database, "photo_crop") == 1


def test_a_crop_moves_the_photo_in_the_print_file_and_the_preview(
    workdir: Path,
    database: Database,
    policy: ShopPolicy,
    photos: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _tee_order(database, policy, "6003", f"{photos}/halves.jpg")
    assert main(["render", "6003"]) == 0
    before = _files(database, "6003")
    assert main(["edit", "6003", "photo.x=50%"]) == 0  # the photo's left (red) half fills it
    after = _files(database, "6003")
    assert str(after["preview"]) in capsys.readouterr().out
    assert _state(database, "6003") == (OrderStatus.PENDING, [], [166])
    # The frame is a 9-inch circle from (3, 1.5) in: look at a point right of its centre.
    with Image.open(before["print file"]) as old, Image.open(after["print file"]) as new:
        right, left = (round(9.75 * 300), 6 * 300), (round(5.25 * 300), 6 * 300)
        assert _blue(old.getpixel(right)) and _red(new.getpixel(right))
        assert _red(old.getpixel(left)) and _red(new.getpixel(left))  # red before and after
    with Image.open(before["preview"]) as old, Image.open(after["preview"]) as new:
        scale = new.height / 18
        at = (round(9.75 * scale), round(6 * scale))
        assert _blue(old.convert("RGB").getpixel(at)) and _red(new.convert("RGB").getpixel(at))


def _files(db: Database, number: str) -> dict[str, Path]:
    with db.unit_of_work() as session:
        item = services.get_order(session, number).items[0]
        return {"print file": Path(str(item.print_file)), "preview": Path(str(item.preview_file))}


def _red(pixel: object) -> bool:
    red, green, blue = tuple(pixel)[:3]  # type: ignore[arg-type]
    return red > 180 and blue < 80 and green < 80


def _blue(pixel: object) -> bool:
    red, green, blue = tuple(pixel)[:3]  # type: ignore[arg-type]
    return blue > 180 and red < 80 and green < 80


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        (["photo.x=0.1"], "x=10% would leave part of the photo frame empty"),
        (["photo.zoom=2", "photo.y=0.6"], "at zoom 2 the photo moves at most 50% up or down"),
        (["photo.zoom=abc"], "zoom 'abc' is not a number"),
        (["photo.zoom=nan"], "zoom 'nan' is not a number"),
        (["photo.x=inf"], "x 'inf' is not a number"),
        (["photo.zoom=0.5"], "zoom '0.5' is out of range"),
        (["photo.zoom=20"], "zoom '20' is out of range"),
        (["name=BEA", "photo.x=-0.3"], "would leave part of the photo frame empty"),
        (["logo.zoom=2"], "line 6004-01 has no photo 'logo' (its photos: photo)"),
    ],
)
def test_a_crop_that_cannot_be_printed_is_refused_and_nothing_changes(
    workdir: Path,
    database: Database,
    policy: ShopPolicy,
    photos: str,
    capsys: pytest.CaptureFixture[str],
    typed: list[str],
    reason: str,
) -> None:
    _tee_order(database, policy, "6004", f"{photos}/large.jpg")
    with database.unit_of_work() as session:  # as a render measured it (the tee's frame)
        order = services.get_order(session, "6004")
        fit = PhotoFit("photo", 1500, 1500, 9.0, 9.0)
        services.record_photo_fits(session, order, order.items[0], [fit], SYSTEM)
    with database.unit_of_work() as session:
        item = services.get_order(session, "6004").items[0]
        before = (dict(item.personalization), dict(item.photos), item.print_file_current)
    events = _events(database, "edit_personalization") + _events(database, "photo_crop")

    assert main(["edit", "6004", *typed]) == 1
    assert reason in capsys.readouterr().err

    with database.unit_of_work() as session:
        item = services.get_order(session, "6004").items[0]
        assert (dict(item.personalization), dict(item.photos), item.print_file_current) == before
    assert _events(database, "edit_personalization") + _events(database, "photo_crop") == events


def test_a_crop_needs_a_value_and_an_order_at_its_provider_keeps_its_photo(
    workdir: Path,
    database: Database,
    policy: ShopPolicy,
    photos: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _tee_order(database, policy, "6005", f"{photos}/large.jpg")
    assert main(["edit", "6005", "photo.zoom="]) == 2
    assert "photo.zoom needs a value" in capsys.readouterr().err
    assert main(["submit", "6005"]) == 0
    capsys.readouterr()
    assert main(["edit", "6005", "photo.zoom=1.5"]) == 1
    assert "can no longer" in capsys.readouterr().err
    assert main(["accept-photo", "6005"]) == 1
    assert "can no longer be changed" in capsys.readouterr().err
