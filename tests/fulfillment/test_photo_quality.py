"""A photo under its template's minimum resolution stops the order for staff, whatever
else happens to it: the countdown never sends it, a hold is kept apart from it, a
new photo or a crop is checked again, and a crop nobody could check before its
render is refused there and waits until it changes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from podops import services
from podops.db import Database
from podops.errors import InvalidInput
from podops.events import EventName
from podops.fulfillment.printfiles import PrintFiles
from podops.incoming import IncomingLineItem
from podops.models import Event
from podops.photos import Crop, PhotoFit, crops_of
from podops.routing import ShopPolicy, StorePolicy
from podops.settings import RoutingRule
from podops.status import OrderStatus
from render.images import FetchPolicy
from render.renderer import PrintFileRenderer
from tests.factories import STAFF, SYSTEM, incoming, received_order, submitted_order
from tests.fulfillment.conftest import Shop, build_service
from tests.render.render_test_support import (
    SMALL_TEE,
    Reply,
    local_server,
    sample_jpeg,
    slow_name_server,
)
from tests.rendered import Rendered

SMALL, LARGE = "https://photos.example/small.jpg", "https://photos.example/large.jpg"
PIXELS = {SMALL: 400, LARGE: 1500}


class MeasuringRenderer:
    """The renderer port: 'renders' and reports each photo as a 9-inch frame holds it
    (400 px for SMALL, 1500 for LARGE); `during` runs while a render is under way."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.calls = 0
        self.during: Any = None

    def render_item(  # type: ignore[no-untyped-def]
        self,
        order_ref,
        line_position,
        product_key,
        personalization,
        image_urls,
        crops=None,
        revision=None,
    ):
        self.calls += 1
        if self.during is not None:
            self.during()
        fits = tuple(
            PhotoFit(field, PIXELS[url], PIXELS[url], 9.0, 9.0)
            for field, url in image_urls.items()
            if url in PIXELS
        )
        path = self.folder / f"{order_ref}-{line_position}-r{self.calls}.png"
        return Rendered(path, path.with_suffix(".jpg"), "ab" * 32, self.calls, photos=fits)

    def check_templates(self) -> list[tuple[str, bool, str]]:
        return []


def _photo(db: Database, number: str, url: str) -> None:
    """The customer's photo on the tee line (a new one, as a replaced photo would be)."""
    with db.unit_of_work() as session:
        item = services.get_order(session, number).items[0]
        item.image_urls = {"photo": url}
        item.print_file_current = False


def _order(db: Database, number: str) -> tuple[OrderStatus, str | None, list[str]]:
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        return OrderStatus(order.status), order.held_from, [str(p) for p in order.problems]


def test_the_countdown_never_sends_a_small_photo_until_staff_accept_it(
    shop: Shop, tmp_path: Path
) -> None:
    print_files = PrintFiles(shop.db, MeasuringRenderer(tmp_path))
    submitter = build_service(
        shop.settings, shop.db, shop.service.roster, print_file_source=print_files
    )
    routed = ShopPolicy(
        {"main": StorePolicy(1, "cc")},
        [
            RoutingRule(sku="TEE-*", provider="cc", provider_sku="T1", product_key="tee-front"),
            RoutingRule(sku="MUG-*", provider="cc", provider_sku="M1", product_key="mug-11oz"),
        ],
    )
    placed = datetime.now(UTC) - timedelta(hours=2)  # due: the countdown ran out
    number = received_order(shop.db, routed, placed_at=placed, customer_phone="+1 217 555 0100")
    _photo(shop.db, number, SMALL)

    for _ in range(2):
        assert submitter.tick().submitted == []
    status, _, problems = _order(shop.db, number)
    assert status == OrderStatus.NEEDS_DESIGN
    assert problems == ["line 1: print file: photo is 44 DPI at this size (at least 150 wanted)"]

    with shop.db.unit_of_work() as session:
        services.accept_photo(session, number, 1, STAFF)
    assert _order(shop.db, number)[0] == OrderStatus.PENDING
    assert submitter.tick().submitted == [number]


def test_a_held_order_keeps_its_hold_while_its_photo_waits_for_staff(
    db: Database, policy: ShopPolicy, tmp_path: Path
) -> None:
    number = received_order(db, policy)
    _photo(db, number, SMALL)
    with db.unit_of_work() as session:
        services.hold(session, number, STAFF, "customer asked to wait")
    PrintFiles(db, MeasuringRenderer(tmp_path)).render_order(number, SYSTEM)
    assert _order(db, number)[:2] == (OrderStatus.ON_HOLD, "needs_design")

    with db.unit_of_work() as session:
        services.accept_photo(session, number, 1, STAFF, "photo")
    assert _order(db, number) == (OrderStatus.ON_HOLD, "pending", [])
    with db.unit_of_work() as session:
        services.release(session, number, STAFF)
    assert _order(db, number)[0] == OrderStatus.PENDING


def test_a_new_photo_is_checked_again_and_a_good_one_releases_the_order(
    db: Database, policy: ShopPolicy, tmp_path: Path
) -> None:
    number = received_order(db, policy)
    print_files = PrintFiles(db, MeasuringRenderer(tmp_path))
    _photo(db, number, SMALL)
    print_files.render_order(number, SYSTEM)
    with db.unit_of_work() as session:
        services.accept_photo(session, number, 1, STAFF)
    _photo(db, number, SMALL + "?v=2")  # another small photo: accepting one is not both
    PIXELS[SMALL + "?v=2"] = 400
    print_files.ensure_current(number)
    assert _order(db, number)[0] == OrderStatus.NEEDS_DESIGN
    _photo(db, number, LARGE)
    print_files.ensure_current(number)
    assert _order(db, number) == (OrderStatus.PENDING, None, [])


def test_a_crop_changed_while_rendering_is_rendered_again_not_recorded(
    db: Database, policy: ShopPolicy, tmp_path: Path
) -> None:
    number = received_order(db, policy)
    _photo(db, number, LARGE)
    renderer = MeasuringRenderer(tmp_path)
    print_files = PrintFiles(db, renderer)

    def crop_meanwhile() -> None:
        renderer.during = None
        with db.unit_of_work() as session:
            services.set_crops(session, number, 1, {"photo": Crop(1.2)}, STAFF)

    renderer.during = crop_meanwhile
    [outcome, _] = print_files.render_order(number, SYSTEM)
    assert not outcome.ok and "changed while rendering" in outcome.message
    with db.unit_of_work() as session:
        item = services.get_order(session, number).items[0]
        assert not item.print_file_current and crops_of(item.photos) == {"photo": Crop(1.2)}
    print_files.ensure_current(number)
    with db.unit_of_work() as session:
        assert services.get_order(session, number).items[0].print_file_current


def test_after_submission_a_render_records_the_fit_and_stops_nothing(
    db: Database, policy: ShopPolicy
) -> None:
    number = submitted_order(db, policy)
    _photo(db, number, SMALL)
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        fit = PhotoFit("photo", 400, 400, 9.0, 9.0)
        services.record_photo_fits(session, order, order.items[0], [fit], SYSTEM)
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        assert (order.status, order.problems, order.items[0].problems) == ("submitted", [], [])
        assert order.items[0].photos["photo"]["fit"]["width_px"] == 400


def test_a_needs_design_order_hears_of_its_small_photo_in_its_history(
    db: Database, policy: ShopPolicy
) -> None:
    number = received_order(db, policy)
    _photo(db, number, SMALL)
    with db.unit_of_work() as session:
        services.flag_design(session, number, STAFF, "waiting for the customer's text")
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        fit = PhotoFit("photo", 400, 400, 9.0, 9.0)
        services.record_photo_fits(session, order, order.items[0], [fit], SYSTEM)
    with db.unit_of_work() as session:
        event = session.query(Event).filter(Event.action == EventName.PHOTO_LOW_DPI).one()
        assert event.detail["problems"] == [
            "print file: photo is 44 DPI at this size (at least 150 wanted)"
        ]


@pytest.fixture
def real_tee(tmp_path: Path) -> Iterator[tuple[PrintFileRenderer, str]]:
    """The real renderer with a small tee template, and a 400 x 400 photo to fetch."""
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "tee-front.toml").write_text(SMALL_TEE)
    renderer = PrintFileRenderer(
        tmp_path / "templates", tmp_path / "out", FetchPolicy(allow_loopback=True, timeout_s=5)
    )
    reply = Reply(headers={"Content-Type": "image/jpeg"}, body=sample_jpeg((400, 400)))
    with local_server({"/p.jpg": reply}) as base:
        yield renderer, f"{base}/p.jpg"


def test_a_crop_nobody_could_check_before_its_render_waits_until_it_changes(
    db: Database, real_tee: tuple[PrintFileRenderer, str]
) -> None:
    renderer, url = real_tee
    policy = ShopPolicy(
        {"main": StorePolicy(24, "manual")},
        [RoutingRule(sku="TEE-*", provider="manual", product_key="tee-front")],
    )
    tee = IncomingLineItem(
        "li-1", "TEE-BLK-M", "Tee", 1, Decimal("19"), {"name": "ANA"}, {"photo": url}
    )
    with db.unit_of_work() as session:
        services.receive_orders(session, [incoming("7001", items=[tee])], policy, SYSTEM)
    with db.unit_of_work() as session:  # never rendered: the photo's size is not known yet
        services.set_crops(session, "7001", 1, {"photo": Crop(1.0, 0.2, 0.0)}, STAFF)
    print_files = PrintFiles(db, renderer)
    [outcome] = print_files.render_order("7001", SYSTEM)
    assert not outcome.ok and "x=20% would leave part of the photo frame empty" in outcome.message
    assert _order(db, "7001")[0] == OrderStatus.NEEDS_DESIGN
    assert print_files.stale_orders() == []  # the refused crop is not tried again
    # Measured now: a crop is checked as it is typed.
    with (
        db.unit_of_work() as session,
        pytest.raises(InvalidInput, match="at zoom 1 the photo cannot move left or right"),
    ):
        services.set_crops(session, "7001", 1, {"photo": Crop(1.0, 0.1, 0.0)}, STAFF)
    with db.unit_of_work() as session:
        services.set_crops(session, "7001", 1, {"photo": Crop(2.0, 0.2, 0.0)}, STAFF)
    assert [str(r) for r in print_files.stale_orders()] == ["main:7001"]
    print_files.ensure_current("7001")
    status, _, problems = _order(db, "7001")
    assert status == OrderStatus.NEEDS_DESIGN  # printable now, but 22 DPI
    assert problems == ["line 1: print file: photo is 22 DPI at this size (at least 150 wanted)"]


def test_a_photo_whose_name_server_never_answers_waits_for_staff_with_the_reason(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "tee-front.toml").write_text(SMALL_TEE)
    fetching = FetchPolicy(allow_loopback=True, timeout_s=0.5)
    renderer = PrintFileRenderer(tmp_path / "templates", tmp_path / "out", fetching)
    print_files = PrintFiles(db, renderer)
    policy = ShopPolicy(
        {"main": StorePolicy(24, "manual")},
        [RoutingRule(sku="TEE-*", provider="manual", product_key="tee-front")],
    )
    reply = Reply(headers={"Content-Type": "image/jpeg"}, body=sample_jpeg((1400, 1400)))
    with local_server({"/p.jpg": reply}) as base:
        url = base.replace("127.0.0.1", "photos.slow.test") + "/p.jpg"
        tee = IncomingLineItem(
            "li-1", "TEE-BLK-M", "Tee", 1, Decimal("19"), {"name": "ANA"}, {"photo": url}
        )
        with db.unit_of_work() as session:
            services.receive_orders(session, [incoming("7002", items=[tee])], policy, SYSTEM)
        with slow_name_server(monkeypatch, {"photos.slow.test": "127.0.0.1"}, delay_s=30):
            started = time.monotonic()
            [outcome] = print_files.render_order("7002", SYSTEM)
            assert time.monotonic() - started < 0.5 + 0.5  # the render worker is free again
        reason = (
            f"the photo at {url} took longer than 0.5 s to download "
            "(the address of 'photos.slow.test' could not be looked up in time)"
        )
        assert not outcome.ok and outcome.message == reason
        assert _order(db, "7002") == (
            OrderStatus.NEEDS_DESIGN,
            None,
            [f"line 1: print file: {reason}"],
        )
        with db.unit_of_work() as session:  # nothing lost: the photo and text are kept
            item = services.get_order(session, "7002").items[0]
            assert item.image_urls == {"photo": url}
            assert item.personalization == {"name": "ANA"}
        # Once its name server answers, staff render it again and it goes on.
        with slow_name_server(monkeypatch, {"photos.slow.test": "127.0.0.1"}, delay_s=0):
            [again] = print_files.render_order("7002", STAFF)
    assert again.ok
    assert _order(db, "7002") == (OrderStatus.PENDING, None, [])
