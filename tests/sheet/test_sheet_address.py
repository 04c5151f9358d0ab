"""The shipping address in the Orders tab (`address.*` columns), on both adapters: a
row's address cells change the order's address together, the order held without
an address goes back to its countdown, CustomCat receives the new address, and
bad input or an order already at CustomCat leaves the reason beside the row."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from podops import services
from podops.fulfillment.address_change import AddressDesk
from podops.fulfillment.countdown import Submitter
from podops.models import Event
from podops.routing import ShopPolicy, StorePolicy
from podops.sheet.rows import ORDERS
from podops.status import OrderStatus
from sync.sheets.mirror import CycleReport, SheetMirror
from tests import factories
from tests.fakes.customcat import FakeCustomCat
from tests.fulfillment.conftest import (
    build_roster,
    build_service,
    fulfillment_settings,
    give_print_files,
)
from tests.sheet.conftest import SheetEnv

CC = ShopPolicy({"main": StorePolicy(1, "cc")}, [])


@pytest.fixture
def customcat() -> Iterator[FakeCustomCat]:
    fake = FakeCustomCat().start()
    yield fake
    fake.stop()


@pytest.fixture
def desk_and_submitter(
    env: SheetEnv, db_url: str, customcat: FakeCustomCat
) -> tuple[AddressDesk, Submitter]:
    settings = fulfillment_settings(db_url, env.settings.data_dir, customcat.base_url)
    roster = build_roster(settings)
    return AddressDesk(env.db, roster), build_service(settings, env.db, roster)


def cycle(env: SheetEnv, desk: AddressDesk) -> CycleReport:
    report = SheetMirror(env.db, env.sheet, env.settings, clock=lambda: env.now, addresses=desk)
    done = report.run_cycle()
    assert not done.problems, done.problems
    return done


def type_address(env: SheetEnv, reference: str, **fields: str) -> None:
    row = int(env.row_of(reference)["_row"])
    for name, value in fields.items():
        env.hands.set(ORDERS, row, env.col(f"address.{name}"), value)


def order_of(env: SheetEnv, number: str):  # type: ignore[no-untyped-def]
    with env.db.unit_of_work() as session:
        order = services.get_order(session, number)
        _ = order.items
        return order


def test_typing_the_address_in_a_row_releases_the_order_and_customcat_receives_it(
    env: SheetEnv,
    desk_and_submitter: tuple[AddressDesk, Submitter],
    customcat: FakeCustomCat,
) -> None:
    desk, submitter = desk_and_submitter
    placed = datetime.now(UTC) - timedelta(hours=2)
    number = factories.received_order(env.db, CC, shipping_address={}, placed_at=placed)
    give_print_files(env.db, number)
    cycle(env, desk)
    assert env.row_of(f"{number}-01")["problems"] == "no shipping address"
    assert env.row_of(f"{number}-01")["address.line1"] == ""

    type_address(
        env,
        f"{number}-02",
        name="Ana Smith",
        line1="350 5th Ave",
        line2="Apt 4",
        city="New York",
        state="NY",
        postcode="01234",
        country="US",
    )
    report = cycle(env, desk)

    assert report.edits_applied == 1
    order = order_of(env, number)
    assert order.status == OrderStatus.PENDING and order.problems == []
    assert order.shipping_address["postcode"] == "01234"  # a text cell: the zero stays
    for line in ("01", "02"):  # every line of the order shows its address
        row = env.row_of(f"{number}-{line}")
        assert (row["address.line2"], row["address.postcode"], row["status"]) == (
            "Apt 4",
            "01234",
            "pending",
        )
    with env.db.unit_of_work() as session:
        edits = session.scalars(select(Event).where(Event.action == "edit_address")).all()
        assert len(edits) == 1 and edits[0].channel == "sheet"  # one change for the row

    assert submitter.tick().submitted == [number]
    body = customcat.orders[f"main-{number}"]["body"]
    assert (body["shipping_address1"], body["shipping_address2"]) == ("350 5th Ave", "Apt 4")
    assert (body["shipping_zip"], body["shipping_state"]) == ("01234", "NY")


def test_a_refused_row_changes_nothing_and_says_why(
    env: SheetEnv, desk_and_submitter: tuple[AddressDesk, Submitter]
) -> None:
    desk, _ = desk_and_submitter
    number = factories.received_order(env.db, CC)
    cycle(env, desk)
    before = dict(order_of(env, number).shipping_address)
    type_address(env, f"{number}-01", line2="Apt 5", country="UK")

    report = cycle(env, desk)

    assert report.edits_refused == 1
    assert order_of(env, number).shipping_address == before  # not even line2
    row = env.row_of(f"{number}-01")
    assert "the address was not changed" in row["sheet message"]
    assert "use GB for the United Kingdom" in row["sheet message"]
    assert "address.line2='Apt 5'" in row["sheet message"]  # what was typed is kept
    assert (row["address.line2"], row["address.country"]) == ("", "US")


def test_an_order_already_at_customcat_is_refused_with_where_to_change_it(
    env: SheetEnv,
    desk_and_submitter: tuple[AddressDesk, Submitter],
    customcat: FakeCustomCat,
) -> None:
    desk, submitter = desk_and_submitter
    placed = datetime.now(UTC) - timedelta(hours=2)
    number = factories.received_order(env.db, CC, placed_at=placed)
    give_print_files(env.db, number)
    assert submitter.tick().submitted == [number]
    cycle(env, desk)
    type_address(env, f"{number}-01", line2="Apt 6")

    cycle(env, desk)

    message = env.row_of(f"{number}-01")["sheet message"]
    assert f"order {number} is already at CustomCat: change the address there" in message
    assert customcat.orders[f"main-{number}"]["body"]["shipping_address2"] == ""
    assert order_of(env, number).shipping_address["address_2"] == ""
