"""A hold is a person's (or the shop's) decision, design readiness a fact about the
lines: neither overwrites the other, whatever the order of events.

The property drives one due order through every kind of step staff, the shop,
the renderer and the countdown take, in any order, and checks after each step,
against the fake provider's own record, that a held order is never sent and
that an order is held exactly when someone held it and nobody released it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from podops import reports, services
from podops.errors import DomainRefusal, IllegalTransition, OrderLocked
from podops.fulfillment.printfiles import PrintFiles
from podops.models import Order
from podops.refs import OrderRef
from podops.routing import ShopPolicy, StorePolicy
from podops.services.new_orders import UNWATCHED_REASON
from podops.services.store_changes import apply_store_update
from podops.settings import RoutingRule
from podops.status import OrderStatus
from tests import factories
from tests.factories import STAFF, SYSTEM
from tests.fulfillment.conftest import Shop, build_service
from tests.fulfillment.test_print_files import ScriptedRenderer

STEPS = ("hold", "release", "edit_good", "edit_refused", "render", "shop_hold", "shop_back", "tick")
HOLDABLE = {OrderStatus.PENDING, OrderStatus.NEEDS_DESIGN, OrderStatus.SUBMIT_FAILED}
FULFIL = frozenset({"processing"})
_serial = itertools.count(1)


def _policy() -> ShopPolicy:
    return ShopPolicy(
        {"main": StorePolicy(1, "cc")},
        [
            RoutingRule(sku="TEE-*", provider="cc", provider_sku="T1", product_key="tee-front"),
            RoutingRule(sku="MUG-*", provider="cc", provider_sku="M1", product_key="mug-11oz"),
        ],
    )


@dataclass
class World:
    """The order as the test expects it: who holds it (None: nobody), its store status."""

    held_by: str | None = None
    store_status: str = "processing"
    store_clock: datetime = datetime(2026, 1, 1, tzinfo=UTC)


class Driver:
    def __init__(self, shop: Shop, tmp_path: Path, *, first_sync: bool = False) -> None:
        self.shop = shop
        self.print_files = PrintFiles(shop.db, ScriptedRenderer(tmp_path))
        self.submitter = build_service(
            shop.settings, shop.db, shop.service.roster, print_file_source=self.print_files
        )
        placed = datetime.now(UTC) - timedelta(hours=2)  # due as soon as it may leave
        incoming = factories.incoming(placed_at=placed, customer_phone="+1 217 555 0100")
        with shop.db.unit_of_work() as session:
            services.receive_orders(session, [incoming], _policy(), SYSTEM, hold_overdue=first_sync)
        self.number = incoming.number
        self.received = incoming
        self.world = World(held_by="intake" if first_sync else None)

    def order(self) -> Order:
        with self.shop.db.unit_of_work() as session:
            order = services.get_order(session, self.number)
            session.expunge(order)
            return order

    def sent(self) -> int:
        with self.shop.db.unit_of_work() as session:
            reference = OrderRef.of(services.get_order(session, self.number)).provider
        return self.shop.customcat.created[reference]

    def step(self, name: str) -> None:
        status = OrderStatus(self.order().status)
        getattr(self, f"_{name}")(status)

    def _hold(self, status: OrderStatus) -> None:
        try:
            with self.shop.db.unit_of_work() as session:
                services.hold(session, self.number, STAFF, "customer asked to wait")
        except DomainRefusal:  # not holdable, or already held for this very reason
            assert self.world.held_by is not None or status not in HOLDABLE
            return
        self.world.held_by = "staff"

    def _release(self, status: OrderStatus) -> None:
        try:
            with self.shop.db.unit_of_work() as session:
                services.release(session, self.number, STAFF)
        except IllegalTransition:
            assert self.world.held_by is None
            return
        self.world.held_by = None

    def _edit(self, text: str) -> None:
        try:
            with self.shop.db.unit_of_work() as session:
                services.edit_personalization(session, self.number, 1, {"name": text}, STAFF)
        except OrderLocked:
            pass

    def _edit_good(self, status: OrderStatus) -> None:
        self._edit(f"ANA {next(_serial)}")

    def _edit_refused(self, status: OrderStatus) -> None:
        self._edit(f"ANA! {next(_serial)}")

    def _render(self, status: OrderStatus) -> None:
        for reference in self.print_files.stale_orders():
            self.print_files.ensure_current(reference)

    def _store(self, store_status: str) -> None:
        self.world.store_clock += timedelta(minutes=1)
        incoming = replace(  # the same order and items, as the shop sends it again
            self.received, store_status=store_status, modified_at=self.world.store_clock
        )
        with self.shop.db.unit_of_work() as session:
            order = services.get_order(session, self.number, for_update=True)
            apply_store_update(session, order, incoming, SYSTEM, FULFIL)
        self.world.store_status = store_status

    def _shop_hold(self, status: OrderStatus) -> None:
        stopping = self.world.store_status != "on-hold" and status in HOLDABLE
        if stopping and self.world.held_by is None:
            self.world.held_by = "shop"
        self._store("on-hold")

    def _shop_back(self, status: OrderStatus) -> None:
        if self.world.store_status != "processing" and self.world.held_by == "shop":
            self.world.held_by = None
        self._store("processing")

    def _tick(self, status: OrderStatus) -> None:
        before = self.sent()
        self.submitter.tick()
        if self.world.held_by is not None:
            assert self.sent() == before, "a held order was sent to the provider"

    def check(self) -> None:
        order = self.order()
        status = OrderStatus(order.status)
        held = status == OrderStatus.ON_HOLD
        if self.world.held_by is not None:
            assert held, f"nobody released it, but it is {status.label}"
            assert self.sent() == 0
            assert order.hold_reason and order.held_by
            assert order.held_from in (OrderStatus.PENDING, OrderStatus.NEEDS_DESIGN)
        else:
            assert not held, "held, but nobody holds it"


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(first_sync=st.booleans(), steps=st.lists(st.sampled_from(STEPS), max_size=10))
def test_no_sequence_sends_a_held_order_or_keeps_one_nobody_held(
    shop: Shop, tmp_path: Path, first_sync: bool, steps: list[str]
) -> None:
    driver = Driver(shop, tmp_path, first_sync=first_sync)
    for name in steps:
        driver.step(name)
        driver.check()


def test_hold_then_a_refused_edit_then_a_good_one_stays_held_until_released(
    shop: Shop, tmp_path: Path
) -> None:
    """The reported path: `podops hold`, a design the renderer refuses, a good edit."""
    driver = Driver(shop, tmp_path)
    for name in ("hold", "edit_refused", "render", "tick"):
        driver.step(name)
    held = driver.order()
    assert (held.status, held.held_from) == (OrderStatus.ON_HOLD, OrderStatus.NEEDS_DESIGN)
    with shop.db.unit_of_work() as session:
        card = reports.order_card(session, services.get_order(session, driver.number))
    assert card.hold_reason == "customer asked to wait" and card.held_by == "maria"
    assert card.design.startswith("needs design")
    for name in ("edit_good", "render", "tick"):
        driver.step(name)
    assert (driver.order().status, driver.order().held_from) == (OrderStatus.ON_HOLD, "pending")
    assert driver.sent() == 0
    driver.step("release")
    driver.step("tick")
    assert driver.sent() == 1 and driver.order().status == OrderStatus.SUBMITTED


def test_the_render_pass_keeps_first_sync_holds(shop: Shop, tmp_path: Path) -> None:
    """An old order held at its first sync, whose design the renderer refuses and staff
    then fix, is never sent by the background passes."""
    driver = Driver(shop, tmp_path, first_sync=True)
    assert driver.order().hold_reason == UNWATCHED_REASON
    for name in ("edit_refused", "render", "tick", "edit_good", "render", "tick", "render"):
        driver.step(name)
        driver.check()
    assert driver.sent() == 0
