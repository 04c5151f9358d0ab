"""Print files: each edit renders a new revision; a refusal becomes work for staff."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PIL import Image, ImageCms

from podops import queries, services
from podops.db import Database
from podops.errors import OrderLocked, RenderRefused
from podops.fulfillment.printfiles import PrintFiles
from podops.routing import ShopPolicy
from podops.status import OrderStatus
from render.color_profile import srgb_profile
from render.images import FetchPolicy
from render.renderer import PrintFileRenderer
from tests.factories import STAFF, received_order, submitted_order
from tests.rendered import Rendered

TEMPLATES = Path(__file__).parents[2] / "render" / "templates"


class ScriptedRenderer:
    """A renderer port fake: refuses texts containing '!', else 'renders'."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.calls: list[tuple[str, int, dict[str, str]]] = []

    def render_item(
        self,
        order_ref,
        line_position,
        product_key,
        personalization,
        image_urls,
        crops=None,
        revision=None,
    ):  # type: ignore[no-untyped-def]
        self.calls.append((order_ref, line_position, personalization))
        if any("!" in v for v in personalization.values()):
            raise RenderRefused("the font cannot draw '!' in field 'name'")
        revision = len(self.calls)
        return Rendered(
            self.folder / f"r{revision}.png", self.folder / f"r{revision}.jpg", "ab" * 32, revision
        )

    def check_templates(self) -> list[tuple[str, bool, str]]:
        return []


@pytest.fixture
def photo_url(tmp_path: Path) -> Iterator[str]:
    """A customer photo served over HTTP on 127.0.0.1."""
    folder = tmp_path / "www"
    folder.mkdir()
    Image.new("RGB", (1600, 1400), (200, 120, 40)).save(folder / "photo.jpg", quality=90)
    handler = partial(SimpleHTTPRequestHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/photo.jpg"
    server.shutdown()


def test_real_render_of_a_tee_records_a_300_dpi_revision(
    db: Database, policy: ShopPolicy, tmp_path: Path, photo_url: str
) -> None:
    number = received_order(db, policy)
    with db.unit_of_work() as session:
        services.get_order(session, number).items[0].image_urls = {"photo": photo_url}
    renderer = PrintFileRenderer(TEMPLATES, tmp_path, FetchPolicy(allow_loopback=True))
    print_files = PrintFiles(db, renderer)
    [tee] = print_files.render_order(number, STAFF, positions=[1])
    assert tee.ok and tee.path is not None and tee.preview_path is not None
    with Image.open(tee.path) as image:
        assert image.info["dpi"] == pytest.approx((300, 300), abs=0.01)
        assert image.size == (4500, 5400)
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        assert order.items[0].print_file_current
        assert order.items[0].print_file == str(tee.path)
        assert queries.timeline(session, order)[-1].action == "render"


def test_edit_then_render_makes_a_new_current_revision(
    db: Database, policy: ShopPolicy, tmp_path: Path
) -> None:
    number = received_order(db, policy)
    renderer = ScriptedRenderer(tmp_path)
    print_files = PrintFiles(db, renderer)
    print_files.ensure_current(number)
    with db.unit_of_work() as session:
        services.edit_personalization(session, number, 1, {"name": "LEA"}, STAFF)
    [outcome] = print_files.render_order(number, STAFF, positions=[1])
    assert outcome.ok and outcome.message == "revision 3"
    print_files.ensure_current(number)  # nothing stale: nothing rendered again
    assert len(renderer.calls) == 3
    with db.unit_of_work() as session:
        item = services.get_order(session, number).items[0]
        assert (item.print_file_revision, item.print_file_current) == (3, True)


def test_refused_design_waits_for_staff_with_the_reason(
    db: Database, policy: ShopPolicy, tmp_path: Path
) -> None:
    number = received_order(db, policy)
    print_files = PrintFiles(db, ScriptedRenderer(tmp_path))
    with db.unit_of_work() as session:
        services.edit_personalization(session, number, 1, {"name": "HI!"}, STAFF)
    [outcome] = print_files.render_order(number, STAFF, positions=[1])
    assert not outcome.ok and "cannot draw '!'" in outcome.message
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        assert order.status == OrderStatus.NEEDS_DESIGN
        assert order.problems == ["line 1: print file: the font cannot draw '!' in field 'name'"]
        services.edit_personalization(session, number, 1, {"name": "HI"}, STAFF)
    print_files.ensure_current(number)
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        assert order.status == OrderStatus.PENDING
        assert order.problems == []


def test_submitted_order_cannot_be_rendered_again(
    db: Database, policy: ShopPolicy, tmp_path: Path
) -> None:
    number = submitted_order(db, policy)
    with pytest.raises(OrderLocked, match="can no longer change"):
        PrintFiles(db, ScriptedRenderer(tmp_path)).render_order(number, STAFF)


def test_a_refused_design_fixed_by_staff_is_rendered_again_by_the_maintenance_pass(
    db: Database, policy: ShopPolicy, tmp_path: Path
) -> None:
    """needs_design after a refusal; staff fix the text in the sheet; the periodic
    pass re-renders it and the order returns to the countdown. Unchanged, it is
    not rendered again on every pass."""
    number = received_order(db, policy)
    renderer = ScriptedRenderer(tmp_path)
    print_files = PrintFiles(db, renderer)
    with db.unit_of_work() as session:
        services.edit_personalization(session, number, 1, {"name": "HI!"}, STAFF)
    print_files.ensure_current(number)
    with db.unit_of_work() as session:
        assert services.get_order(session, number).status == OrderStatus.NEEDS_DESIGN
    calls = len(renderer.calls)
    for _ in range(3):  # nothing changed: the refused design is not retried
        for reference in print_files.stale_orders():
            print_files.ensure_current(reference)
    assert len(renderer.calls) == calls
    assert print_files.stale_orders() == []
    with db.unit_of_work() as session:
        services.edit_personalization(session, number, 1, {"name": "HI"}, STAFF)
    assert [str(r) for r in print_files.stale_orders()] == [f"main:{number}"]
    for reference in print_files.stale_orders():
        print_files.ensure_current(reference)
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        assert order.status == OrderStatus.PENDING
        assert order.problems == []
        assert all(item.print_file_current for item in order.items)


@pytest.mark.slow
def test_the_embedded_srgb_profile_is_the_same_in_every_process() -> None:
    """Identical renders must have identical sha256 (the audit trail and re-render
    checks compare them): the profile carries no creation time."""
    first = srgb_profile()
    time.sleep(1.1)  # LittleCMS stamps the profile to the second
    srgb_profile.cache_clear()
    second = srgb_profile()
    assert first == second
    loaded = ImageCms.ImageCmsProfile(io.BytesIO(second))
    assert "sRGB" in ImageCms.getProfileDescription(loaded)


def test_renders_of_one_line_at_once_get_distinct_rising_revisions(
    db: Database, policy: ShopPolicy, tmp_path: Path, photo_url: str
) -> None:
    # given a line rendered once (revision 1), and two renders whose files were never
    # recorded (a design sent to a provider first; an edit made while rendering)
    number = received_order(db, policy)
    with db.unit_of_work() as session:
        services.get_order(session, number).items[1].image_urls = {"photo": photo_url}
    photos = {"photo": photo_url}
    renderer = PrintFileRenderer(TEMPLATES, tmp_path, FetchPolicy(allow_loopback=True))
    print_files = PrintFiles(db, renderer)
    [first] = print_files.render_order(number, STAFF, positions=[2])
    with db.reading() as session:
        order = services.get_order(session, number)
        mug = order.items[1]
        staff, key, fields = f"{order.store.key}:{number}", mug.product_key, mug.personalization
    detached = [print_files.render_detached(staff, 2, key, fields, photos) for _ in range(2)]

    # when six workers render it at the same moment (each its own database connection)
    def render(name: str) -> int:
        changed = {**fields, "message": f"Love you {name}"}
        return print_files.render_detached(staff, 2, key, changed, photos).revision

    with ThreadPoolExecutor(6) as pool:
        revisions = list(pool.map(render, ["A", "B", "C", "D", "E", "F"]))

    # then no two renders share a number, and numbers only go up: 1, 2, 3, then 4 to 9
    assert first.message == "revision 1"
    assert [d.revision for d in detached] == [2, 3]
    assert sorted(revisions) == [4, 5, 6, 7, 8, 9]
    [later] = print_files.render_order(number, STAFF, positions=[2])
    assert later.message == "revision 10"
    assert [p.name for p in tmp_path.rglob(".*")] == []  # no lock or part-written file
