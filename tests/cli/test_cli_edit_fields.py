"""`podops edit` changes what is printed or refuses with the reason: photo fields take a
link checked as the renderer fetches photos, fields the template lacks are refused,
and a field the customer filled that the product does not print stops the order."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from podops import services
from podops.cli.main import main
from podops.incoming import IncomingLineItem
from podops.models import Event, utcnow
from podops.runtime.root import Runtime
from podops.status import OrderStatus
from tests.factories import SYSTEM, incoming
from tests.field_templates import photo_host, write_templates

CONFIG = """
timezone = "UTC"
data_dir = "var"

[stores.main]
platform = "sandbox"
countdown_hours = 24
default_provider = "sandbox"

[providers.sandbox]
kind = "sandbox"

[[routing]]
sku = "TEE-*"
provider = "sandbox"
product_key = "tee"

[[routing]]
sku = "MUG-*"
provider = "sandbox"
product_key = "mug"

[render]
templates_dir = "templates"
output_dir = "print-files"
allow_loopback_image_hosts = true
"""

NUMBER = "T7001"


@pytest.fixture
def photos() -> Iterator[str]:
    with photo_host() as base:
        yield base


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str, photos: str) -> Runtime:
    """Order T7001: a tee with a name and a photo, and a mug whose customer also wrote a
    name (the mug prints none), both rendered once."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PODOPS_DATABASE__URL", db_url)
    monkeypatch.delenv("PODOPS_CONFIG", raising=False)
    Path("podops.toml").write_text(CONFIG)
    write_templates(Path("var/templates"))
    rt = Runtime.from_config(Path("podops.toml"))
    photo = {"photo": f"{photos}/ana.jpg"}
    items = [
        IncomingLineItem("li-1", "TEE-BLK-M", "Tee", 1, personalization={"name": "ANA"}),
        IncomingLineItem(
            "li-2", "MUG-11OZ", "Mug", 1, personalization={"message": "Hej", "name": "BJÖRN"}
        ),
    ]
    for item in items:
        item.image_urls = dict(photo)
    with rt.db.unit_of_work() as session:
        services.receive_orders(
            session, [incoming(NUMBER, items=items, placed_at=utcnow())], rt.policy, SYSTEM
        )
    rt.print_files.render_order(NUMBER, SYSTEM)
    return rt


def _line(rt: Runtime, position: int) -> tuple[dict[str, str], dict[str, str], str | None]:
    with rt.db.unit_of_work() as session:
        item = services.get_order(session, NUMBER).items[position - 1]
        return dict(item.personalization), dict(item.image_urls), item.print_file


def _edits(rt: Runtime) -> int:
    with rt.db.unit_of_work() as session:
        return sum(1 for e in session.query(Event) if e.action == "edit_personalization")


def test_a_name_the_mug_does_not_print_stops_the_order_until_staff_empty_it(
    shop: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    with shop.db.unit_of_work() as session:
        order = services.get_order(session, NUMBER)
        assert OrderStatus(order.status) == OrderStatus.NEEDS_DESIGN
        assert any(
            "the customer wrote a name; this mug prints no name" in p for p in order.problems
        ), order.problems

    assert main(["edit", NUMBER, "--line", "2", "name=BJÖRN B."]) == 1
    assert "this mug prints no name (its fields: message, photo" in capsys.readouterr().err

    assert main(["edit", NUMBER, "--line", "2", "name="]) == 0
    out = capsys.readouterr().out
    assert f"{NUMBER}-02: saved and rendered" in out and "is now: pending" in out
    texts, _, _ = _line(shop, 2)
    assert texts == {"message": "Hej"}


def test_a_photo_edit_with_a_good_link_changes_the_printed_photo(
    shop: Runtime, photos: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _, _, before = _line(shop, 1)
    assert before is not None

    assert main(["edit", NUMBER, "--line", "1", f"photo={photos}/new.jpg"]) == 0

    assert f"{NUMBER}-01: saved and rendered" in capsys.readouterr().out
    texts, images, after = _line(shop, 1)
    assert images == {"photo": f"{photos}/new.jpg"} and "photo" not in texts
    assert after is not None and after != before
    with Image.open(before) as old, Image.open(after) as new:
        # the photo's circle differs, the name under it does not
        changed = ImageChops.difference(old.convert("RGB"), new.convert("RGB")).getbbox()
        assert changed is not None and changed[3] <= old.height * 0.6


@pytest.mark.parametrize(
    ("link", "reason"),
    [
        ("/gone.jpg", "could not be downloaded (HTTP 404)"),
        ("/page.jpg", "is a web page or document (text/html), not an image"),
        ("http://10.1.2.3/photo.jpg", "resolves to a private address"),
        ("ftp://photos.example/photo.jpg", "is not an http(s) web address"),
    ],
)
def test_a_photo_link_that_would_not_print_is_refused_and_nothing_changes(
    shop: Runtime, photos: str, capsys: pytest.CaptureFixture[str], link: str, reason: str
) -> None:
    link = photos + link if link.startswith("/") else link
    before, edits = _line(shop, 1), _edits(shop)

    assert main(["edit", NUMBER, "--line", "1", f"photo={link}"]) == 1

    assert reason in capsys.readouterr().err
    assert _line(shop, 1) == before and _edits(shop) == edits


def test_a_field_the_template_lacks_is_refused_with_the_templates_fields(
    shop: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _line(shop, 1)
    assert main(["edit", NUMBER, "--line", "1", "name=BEA", "nickname=Bea"]) == 1
    err = capsys.readouterr().err
    assert "this tee prints no nickname (its fields: name, message, photo (a photo link))" in err
    assert _line(shop, 1) == before  # not even the name: nothing is half-saved


def test_a_new_photo_after_submission_goes_to_a_provider_that_takes_design_changes(
    shop: Runtime, photos: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["edit", NUMBER, "--line", "2", "name="]) == 0
    assert main(["submit", NUMBER]) == 0
    capsys.readouterr()
    assert main(["edit", NUMBER, "--line", "1", "nickname=Bo"]) == 1
    assert "this tee prints no nickname" in capsys.readouterr().err
    sent = _line(shop, 1)[2]

    assert main(["edit", NUMBER, "--line", "1", f"photo={photos}/new.jpg"]) == 0

    assert f"Sent the new design of order {NUMBER} to sandbox." in capsys.readouterr().out
    _, images, printed = _line(shop, 1)
    assert images == {"photo": f"{photos}/new.jpg"} and printed not in (None, sent)
    with shop.db.unit_of_work() as session:
        assert OrderStatus(services.get_order(session, NUMBER).status) == OrderStatus.SUBMITTED
