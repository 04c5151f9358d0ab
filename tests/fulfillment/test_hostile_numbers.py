"""Every hostile but legal order number (`tests/hostile_numbers.py`) goes the whole
way: print files named with safe characters and never shared, signed links that
download them, one CustomCat order per number under a reference that reads back
as that order, and the tracking CustomCat hands back recorded on it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from podops import services
from podops.fulfillment.printfiles import PrintFiles
from podops.refs import FulfillmentRef, OrderRef, print_file_stem
from render.links import print_file_routes, sign_path
from tests.fulfillment.conftest import Shop
from tests.fulfillment.test_late_design import FileRenderer
from tests.hostile_numbers import HOSTILE_NUMBERS, store_id
from tests.render.test_render_links import KEY, Client, clock

SAFE_NAME = re.compile(r"[A-Za-z0-9_-]+(\.[a-z]+)?")


def _order(shop: Shop, number: str) -> Any:
    with shop.db.unit_of_work() as session:
        order = services.get_order(session, OrderRef("main", number))
        _ = [order.shipments, order.items]
        return order


def test_every_number_is_rendered_sent_once_and_tracked(shop: Shop, tmp_path: Path) -> None:
    folder = tmp_path / "print-files"
    folder.mkdir()
    print_files = PrintFiles(shop.db, FileRenderer(folder))
    for number in HOSTILE_NUMBERS:
        shop.order("cc", print_files=False, number=number, external_id=store_id(number))
        with shop.db.unit_of_work() as session:
            for item in services.get_order(session, OrderRef("main", number)).items:
                item.product_key = "tee-front"
        print_files.ensure_current(OrderRef("main", number))

    stems = {print_file_stem(OrderRef("main", n).print_name, 1) for n in HOSTILE_NUMBERS}
    assert len(stems) == len(HOSTILE_NUMBERS) and all(SAFE_NAME.fullmatch(s) for s in stems)
    files = {
        n: [Path(str(i.print_file)).name for i in _order(shop, n).items] for n in HOSTILE_NUMBERS
    }
    names = [name for listed in files.values() for name in listed]
    assert len(set(names)) == len(names) == 2 * len(HOSTILE_NUMBERS)
    assert all(SAFE_NAME.fullmatch(name) for name in names), names
    client = Client(Starlette(routes=print_file_routes(folder, KEY, now=clock)))
    for name in names:
        response = client.get(sign_path(name, KEY, now=clock))
        assert response.status_code == 200 and response.content == (folder / name).read_bytes()

    submitted = shop.service.tick().submitted
    assert sorted(submitted) == sorted(HOSTILE_NUMBERS)
    references = {n: FulfillmentRef(OrderRef("main", n), 1).provider for n in HOSTILE_NUMBERS}
    assert dict(shop.customcat.created) == {ref: 1 for ref in references.values()}
    for number, reference in references.items():
        assert FulfillmentRef.parse_provider(reference).order == OrderRef("main", number)
        assert _order(shop, number).provider_order_id

    for serial, reference in enumerate(references.values()):
        shop.customcat.ship(reference, f"94001000000000000{serial:05d}", items=2)
    shop.follow_up.poll_tracking()
    for serial, number in enumerate(references):
        tracked = [s.tracking_number for s in _order(shop, number).shipments]
        assert tracked == [f"94001000000000000{serial:05d}"], number
