"""`podops render` and `podops templates check` as an operator runs them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from podops import services
from podops.cli.main import main
from podops.db import Database
from podops.routing import ShopPolicy
from tests.factories import STAFF, SYSTEM, incoming
from tests.render.render_test_support import Reply, local_server, sample_jpeg, write_template


@pytest.fixture
def photo_url() -> Iterator[str]:
    """A customer photo on a web server on this machine."""
    reply = Reply(headers={"Content-Type": "image/jpeg"}, body=sample_jpeg((900, 700)))
    with local_server({"/photo.jpg": reply}) as base_url:
        yield f"{base_url}/photo.jpg"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str) -> Path:
    """A shop folder on the test database, allowed to fetch photos from 127.0.0.1."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PODOPS_DATABASE__URL", db_url)
    monkeypatch.setenv("PODOPS_RENDER__ALLOW_LOOPBACK_IMAGE_HOSTS", "true")
    monkeypatch.delenv("PODOPS_CONFIG", raising=False)
    assert main(["init"]) == 0
    return tmp_path


def _order_with_photos(db_url: str, policy: ShopPolicy, number: str, photo_url: str) -> None:
    """A pending order: a tee (name) and a mug (message), both with the customer's photo."""
    database = Database(db_url)
    with database.unit_of_work() as session:
        services.receive_orders(session, [incoming(number)], policy, SYSTEM)
    with database.unit_of_work() as session:
        for item in services.get_order(session, number).items:
            item.image_urls = {"photo": photo_url}
    database.dispose()


def test_render_writes_a_print_file_per_line_and_prints_where(
    workdir: Path,
    db_url: str,
    policy: ShopPolicy,
    photo_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _order_with_photos(db_url, policy, "5001", photo_url)
    assert main(["render", "5001"]) == 0
    output = capsys.readouterr().out
    printed = [Path(line.split()[-1]) for line in output.splitlines() if "print file" in line]
    assert len(printed) == 2 and all(path.is_file() for path in printed)
    with Image.open(next(path for path in printed if "-1-r001-" in path.name)) as tee:
        assert tee.size == (4500, 5400) and tee.mode == "RGBA"
        assert tee.info["dpi"] == pytest.approx((300, 300), abs=0.01)
    assert "preview" in output and "revision 1" in output
    assert main(["render", "#5001", "--line", "2"]) == 0  # a new revision, nothing overwritten
    assert "revision 2" in capsys.readouterr().out
    assert all(path.is_file() for path in printed)


def test_a_refused_design_exits_1_with_the_reason_for_staff(
    workdir: Path,
    db_url: str,
    policy: ShopPolicy,
    photo_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _order_with_photos(db_url, policy, "5002", photo_url)
    database = Database(db_url)
    with database.unit_of_work() as session:
        services.edit_personalization(session, "5002", 1, {"name": "ANA 😀"}, STAFF)
    assert main(["render", "5002", "--line", "1"]) == 1
    output = capsys.readouterr().out
    assert "not rendered" in output and "contains emoji" in output
    with database.unit_of_work() as session:
        problems = services.get_order(session, "5002").problems
    database.dispose()
    assert any("contains emoji" in problem for problem in problems)


def test_an_unknown_order_is_one_line_and_exit_2(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["render", "999999"]) == 2  # a mistyped order number, as README says
    assert capsys.readouterr().err.strip().startswith("error: no order 999999")


@pytest.mark.slow
def test_templates_check_lists_the_shipped_templates(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["templates", "check"]) == 0
    output = capsys.readouterr().out
    for key in ("tee-front", "mug-11oz", "poster-12x18"):
        assert f"ok     {key}:" in output
    assert "4500 x 5400 px at 300 DPI" in output


def test_templates_check_names_a_broken_template_and_exits_1(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = workdir / "templates"
    write_template(
        folder,
        "sticker",
        'name = "Sticker"\nwidth_in = 3\nheight_in = 3\n\n[[layers]]\ntype = "text"\n'
        'field = "name"\nsize_pt = 20\ncolor = "blue-ish"\n'
        "box = { x = 0, y = 0, width = 3, height = 3 }\n",
    )
    monkeypatch.setenv("PODOPS_RENDER__TEMPLATES_DIR", str(folder))
    assert main(["templates", "check"]) == 1
    output = capsys.readouterr().out
    assert "BROKEN sticker:" in output and "'blue-ish' is not a colour" in output
