"""An order a store numbered `2024/5001` goes the whole way: its print files are named
by the escaped reference, CustomCat gets `main--2024_2F5001`, the retry after an odd
answer finds that order instead of sending a second, and the tracking CustomCat and
staff hand back is recorded on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from podops import services
from podops.fulfillment.printfiles import PrintFiles
from podops.models import utcnow
from podops.refs import OrderRef
from podops.services.readiness import is_readiness_problem, readiness_problems
from podops.status import OrderStatus
from podops.tracking.bulk import record_trackings
from podops.tracking.rows import parse_tracking_row
from tests.factories import STAFF
from tests.fakes.customcat import Fault
from tests.fulfillment.conftest import Shop
from tests.fulfillment.test_late_design import FileRenderer

NUMBER = "2024/5001"
REFERENCE = "main--2024_2F5001"


@pytest.fixture
def print_files(shop: Shop, tmp_path: Path) -> PrintFiles:
    return PrintFiles(shop.db, FileRenderer(tmp_path))


def test_an_order_numbered_with_a_slash_is_rendered_submitted_and_tracked(
    shop: Shop, print_files: PrintFiles
) -> None:
    shop.order("cc", print_files=False, number=NUMBER)
    with shop.db.unit_of_work() as session:
        for item in services.get_order(session, NUMBER).items:
            item.product_key = "tee-front"
    print_files.ensure_current(NUMBER)
    files = [Path(str(item.print_file)).name for item in shop.get(NUMBER).items]
    assert files == [f"{REFERENCE}-1-r001.png", f"{REFERENCE}-2-r002.png"]

    shop.customcat.faults.append(Fault(weird=True))  # created, but answered oddly
    shop.service.tick()
    assert shop.get(NUMBER).status == OrderStatus.SUBMIT_FAILED
    shop.service.retry(NUMBER, STAFF)
    shop.service.tick()
    order = shop.get(NUMBER)
    assert order.status == OrderStatus.SUBMITTED, order.problems
    assert dict(shop.customcat.created) == {REFERENCE: 1}  # the retry looked it up first
    found = shop.service.roster.provider("cc").find_by_reference(REFERENCE)
    assert found is not None and found.provider_order_id == order.provider_order_id

    shop.customcat.ship(REFERENCE, "9400100000000000000001", items=1)
    shop.follow_up.poll_tracking()  # CustomCat names the order by our reference
    assert [s.tracking_number for s in shop.get(NUMBER).shipments] == ["9400100000000000000001"]


@pytest.mark.parametrize("typed", [NUMBER, f"main:{NUMBER}", f"{NUMBER}-02"])
def test_tracking_pasted_for_an_odd_number_is_recorded(shop: Shop, typed: str) -> None:
    shop.order("cc", number=NUMBER)
    assert shop.service.tick().submitted == [NUMBER]
    row = parse_tracking_row(2, [typed, "UPS", "1Z999AA10123456784"])
    with shop.db.unit_of_work() as session:
        (outcome,) = record_trackings(session, [row], STAFF, utcnow())
    assert outcome.ok, outcome.message
    assert [s.tracking_number for s in shop.get(NUMBER).shipments] == ["1Z999AA10123456784"]


def test_a_pasted_number_with_a_colon_is_the_number(shop: Shop) -> None:
    shop.order("cc", number="12:30")
    assert shop.service.tick().submitted == ["12:30"]
    assert dict(shop.customcat.created) == {"main--12_3A30": 1}
    row = parse_tracking_row(2, ["12:30", "UPS", "1Z999AA10123456784"])
    with shop.db.unit_of_work() as session:
        (outcome,) = record_trackings(session, [row], STAFF, utcnow())
    assert outcome.ok, outcome.message


@pytest.mark.parametrize("number", ["A 12", "2024/5001", "12:30 x"])
def test_readiness_problems_name_lines_of_any_number(shop: Shop, number: str) -> None:
    shop.order("cc", print_files=False, number=number)
    with shop.db.unit_of_work() as session:
        order = services.get_order(session, OrderRef("main", number))
        problems = readiness_problems(order, require_current=False)
        assert problems == [
            f"line {number}-01 has no print file",
            f"line {number}-02 has no print file",
        ]
        assert all(is_readiness_problem(p) for p in problems)
    assert not is_readiness_problem("line 1: the sku is unknown")
    assert is_readiness_problem("line 2: print file: the font cannot draw it")  # as before
