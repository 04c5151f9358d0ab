"""A split order whose one part failed at its provider: staff fix that part's design
(its photo, its crop, its resolution) while the other part is at its provider, and
the part then leaves with the new files. The line already at a provider is refused
with the reason; a photo under the minimum on the part left behind waits for staff as
it would before submission."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from podops import services
from podops.cli.main import main
from podops.incoming import IncomingLineItem
from podops.models import Event, utcnow
from podops.runtime.root import Runtime
from podops.status import OrderStatus
from render.sample_photo import make_sample_photo
from tests.factories import SYSTEM, incoming
from tests.field_templates import MUG, TEE
from tests.render.render_test_support import Reply, jpeg_bytes, local_server

CONFIG = """
timezone = "UTC"
data_dir = "var"

[stores.main]
platform = "sandbox"
countdown_hours = 24
default_provider = "sandbox"

[providers.sandbox]
kind = "sandbox"

[providers.europe]
kind = "sandbox"
catalog = [CATALOG]

[[routing]]
sku = "TEE-*"
provider = "sandbox"
product_key = "tee"

[[routing]]
sku = "MUG-*"
provider = "europe"
product_key = "mug"

[render]
templates_dir = "templates"
output_dir = "print-files"
allow_loopback_image_hosts = true
"""

NUMBER = "T7101"


def _config(catalog: str) -> str:
    return CONFIG.replace("CATALOG", catalog)


@pytest.fixture
def photos() -> Iterator[str]:
    jpeg = {"Content-Type": "image/jpeg"}
    routes = {
        "/ana.jpg": Reply(headers=jpeg, body=jpeg_bytes(make_sample_photo((300, 300), seed=1))),
        "/small.jpg": Reply(headers=jpeg, body=jpeg_bytes(make_sample_photo((120, 120), seed=5))),
    }
    with local_server(routes) as base:
        yield base


@pytest.fixture
def shop(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    db_url: str,
    photos: str,
    capsys: pytest.CaptureFixture[str],
) -> Runtime:
    """Order T7101, submitted: its tee at the sandbox, its mug's part refused by the
    European sandbox (its catalog lacks the mug)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PODOPS_DATABASE__URL", db_url)
    monkeypatch.delenv("PODOPS_CONFIG", raising=False)
    Path("podops.toml").write_text(_config('"TEE-BLK-M"'))
    templates = Path("var/templates")
    templates.mkdir(parents=True)
    (templates / "tee.toml").write_text(TEE)
    # 300 px in a 2.8 in frame: 107 DPI passes; 120 px: 42 DPI does not
    (templates / "mug.toml").write_text(MUG.replace("min_dpi = 0", "min_dpi = 100"))
    rt = Runtime.from_config(Path("podops.toml"))
    items = [
        IncomingLineItem("li-1", "TEE-BLK-M", "Tee", 1, personalization={"name": "ANA"}),
        IncomingLineItem("li-2", "MUG-11OZ", "Mug", 1, personalization={"message": "Hej"}),
    ]
    for item in items:
        item.image_urls = {"photo": f"{photos}/ana.jpg"}
    with rt.db.unit_of_work() as session:
        services.receive_orders(
            session, [incoming(NUMBER, items=items, placed_at=utcnow())], rt.policy, SYSTEM
        )
    rt.print_files.render_order(NUMBER, SYSTEM)
    capsys.readouterr()
    assert main(["submit", NUMBER]) == 0
    assert _parts(rt) == [("sandbox", "submitted"), ("europe", "submit_failed")]
    return rt


def test_submit_says_where_each_part_went_and_which_failed(
    shop: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    said = capsys.readouterr().out
    assert f"Order {NUMBER} is submitted:" in said
    assert f"part 1 at sandbox (main-{NUMBER}): submitted, SANDBOX-" in said
    assert (
        f"part 2 at europe (main--{NUMBER}_P2): submit failed, sandbox catalog has no "
        "product MUG-11OZ"
    ) in said
    assert f"the others go on; fix what was refused, then podops retry {NUMBER}" in said
    assert "at sandbox, europe" not in said  # europe never took it


def _parts(rt: Runtime) -> list[tuple[str, str]]:
    with rt.db.unit_of_work() as session:
        order = services.get_order(session, NUMBER)
        return [(f.provider, f.status.value) for f in order.fulfillments]


def _line(rt: Runtime, position: int) -> tuple[dict[str, str], dict[str, str], str | None]:
    with rt.db.unit_of_work() as session:
        item = services.get_order(session, NUMBER).items[position - 1]
        return dict(item.personalization), dict(item.image_urls), item.print_file


def _sent_files(rt: Runtime) -> list[dict[str, str]]:
    """The print files each attempt sent, oldest first (the begin_submit events)."""
    with rt.db.unit_of_work() as session:
        order = services.get_order(session, NUMBER)
        return [
            dict(e.detail.get("print_files") or {})
            for e in session.query(Event).filter_by(order_id=order.id, action="begin_submit")
        ]


def test_the_failed_parts_photo_is_replaced_checked_and_sent_with_the_retry(
    shop: Runtime, photos: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    tee_before, mug_sent = _line(shop, 1), _line(shop, 2)[2]

    # the tee is at the sandbox: its design stays, and the refusal says which line may change
    assert main(["edit", NUMBER, "--line", "1", "name=BEA"]) == 1
    err = capsys.readouterr().err
    assert f"line {NUMBER}-01 of order {NUMBER} is at its provider" in err
    assert f"only the lines not sent yet can: {NUMBER}-02" in err
    assert _line(shop, 1) == tee_before

    # the mug's part never reached a provider: its photo is replaced and rendered
    assert main(["edit", NUMBER, "--line", "2", f"photo={photos}/small.jpg"]) == 0
    out = capsys.readouterr().out
    assert f"{NUMBER}-02: saved and rendered" in out and "42 DPI at this size" in out
    _, images, mug_now = _line(shop, 2)
    assert images == {"photo": f"{photos}/small.jpg"} and mug_now not in (None, mug_sent)

    # the provider's refusal is fixed; the retried part waits for the small photo...
    Path("podops.toml").write_text(_config('"TEE-BLK-M", "MUG-11OZ"'))
    assert main(["retry", NUMBER]) == 0
    assert main(["fulfillment", "tick"]) == 0
    assert _parts(shop) == [("sandbox", "submitted"), ("europe", "waiting")]
    assert "photo is 42 DPI at this size" in capsys.readouterr().out
    assert main(["orders", "show", NUMBER, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert any("photo is 42 DPI at this size" in p for p in shown["problems"]), shown["problems"]

    # ...until staff accept it; then it leaves with the new file
    assert main(["accept-photo", NUMBER, "--line", "2"]) == 0
    assert main(["fulfillment", "tick"]) == 0
    assert _parts(shop) == [("sandbox", "submitted"), ("europe", "submitted")]
    assert _sent_files(shop)[-1] == {f"{NUMBER}-02": mug_now}
    with shop.db.unit_of_work() as session:
        assert OrderStatus(services.get_order(session, NUMBER).status) == OrderStatus.SUBMITTED


def test_a_crop_of_the_failed_parts_photo_is_rendered_and_the_tees_is_refused(
    shop: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    mug_sent = _line(shop, 2)[2]
    assert main(["edit", NUMBER, "--line", "1", "photo.zoom=1.5"]) == 1
    said = capsys.readouterr().err
    assert "is at its provider (sandbox, part 1); its photos can no longer be changed" in said

    assert main(["edit", NUMBER, "--line", "2", "photo.zoom=1.5"]) == 0
    assert "zoom=1.5" in capsys.readouterr().out
    assert _line(shop, 2)[2] not in (None, mug_sent)


def test_an_edit_saved_without_a_render_is_rendered_by_the_next_pass(shop: Runtime) -> None:
    """The sheet saves a field edit and leaves the render to the service's render pass:
    that pass finds the failed part's edited line (and only it)."""
    checked = shop.field_checks.check(NUMBER, 2, {"message": "Tack"})
    with shop.db.unit_of_work() as session:
        services.edit_fields(session, checked, SYSTEM)
    assert [str(r) for r in shop.print_files.stale_orders()] == [f"main:{NUMBER}"]
    shop.print_files.ensure_current(f"main:{NUMBER}")
    texts, _, _ = _line(shop, 2)
    assert texts == {"message": "Tack"}
    assert shop.print_files.stale_orders() == []


def test_a_new_address_goes_to_the_provider_with_a_part_and_the_failed_part_takes_it(
    shop: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["edit", NUMBER, "address.line2=Apt 4"]) == 0
    said = capsys.readouterr().out
    assert f"Changed the address of order {NUMBER} and sent it to sandbox" in said
    with shop.db.unit_of_work() as session:
        order = services.get_order(session, NUMBER)
        assert order.shipping_address["address_2"] == "Apt 4"
        failed = order.fulfillments[1]
        # the part that failed leaves with the new address when it is retried
        assert shop.roster.request_for(failed).address["address_2"] == "Apt 4"

    assert main(["edit", NUMBER, "address.line1="]) == 1
    assert "address.line1" in capsys.readouterr().err
    with shop.db.unit_of_work() as session:
        assert services.get_order(session, NUMBER).shipping_address["address_2"] == "Apt 4"
