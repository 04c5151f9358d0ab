"""Shared steps of the fault scenarios: a shop full of orders, orders taken
in, given print files, submitted and shipped, and the counts that prove
nothing was lost or doubled."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from podops.db import Database
from podops.models import Event, Fulfillment, LineItem, Order
from tests.fakes.customcat import FakeCustomCat
from tests.fakes.woocommerce import FakeWooCommerce
from tests.fakes.woocommerce_orders import gmt, sample_order
from tests.reliability.conftest import Deployment

FIRST_ID = 5000


def fill_shop(
    shop: FakeWooCommerce, count: int, *, hours_ago: float = 3, first: int = FIRST_ID
) -> list[str]:
    start = datetime.now(UTC) - timedelta(hours=hours_ago)
    orders = [sample_order(first + i, created=start + timedelta(seconds=i)) for i in range(count)]
    shop.add(*orders)
    for order in orders:  # it just became "processing": modified now
        shop.state.touch(int(order["id"]))
    return [str(o["id"]) for o in orders]


def nothing_changed_for(shop: FakeWooCommerce, hours: float) -> None:
    """Every order in the shop was last modified `hours` ago (time passes at the shop)."""
    earlier = gmt(datetime.now(UTC) - timedelta(hours=hours))
    with shop.state.lock:
        for order_id, order in shop.state.orders.items():
            order["date_modified_gmt"] = order["date_modified"] = earlier
            shop.state.cache.pop(order_id, None)


def pages_read_by_next_pass(deployment: Deployment, shop: FakeWooCommerce) -> int:
    """The pages of the changes listing one more intake pass reads once nothing has
    changed: one (an empty page) when the cursor moved, every page again when it did
    not. (The trash listing every pass also reads is counted apart by the fake.)"""
    nothing_changed_for(shop, hours=1)
    before = len(shop.state.pages)
    deployment.run("intake.main", rounds=1)
    return len(shop.state.pages) - before


def external_ids(db: Database) -> Counter[str]:
    with db.unit_of_work() as session:
        return Counter(session.scalars(select(Order.external_id)))


def receive_events(db: Database) -> Counter[int | None]:
    with db.unit_of_work() as session:
        rows = session.scalars(select(Event.order_id).where(Event.action == "receive"))
        return Counter(rows)


def doubled_receives(db: Database) -> int:
    """Orders received more than once: `receive` events beyond one per order. (Counting
    order rows would prove nothing: a unique index on (store, external id) already
    refuses a second row, so a double intake shows only as a second receive.)"""
    return sum(count - 1 for count in receive_events(db).values() if count > 1)


def statuses(db: Database) -> Counter[str]:
    with db.unit_of_work() as session:
        rows = session.execute(select(Order.status, func.count()).group_by(Order.status))
        return Counter({str(status): count for status, count in rows})


def give_print_files(db: Database) -> None:
    """The renderer's result, written straight to the lines (rendering is not under test here)."""
    with db.unit_of_work() as session:
        for item in session.scalars(select(LineItem)):
            item.print_file = f"/srv/print-files/{item.id}-r001.png"
            item.print_file_revision = 1
            item.print_file_current = True


def take_in(deployment: Deployment, shop: FakeWooCommerce, count: int) -> list[str]:
    ids = fill_shop(shop, count)
    deployment.run("intake.main", rounds=1)
    return ids


def submitted_at_provider(db: Database, customcat: FakeCustomCat) -> tuple[int, int, int]:
    """(orders we hold as submitted, orders the provider has, provider duplicates)."""
    with db.unit_of_work() as session:
        ours = session.scalar(
            select(func.count(func.distinct(Fulfillment.order_id))).where(
                Fulfillment.provider_order_id.is_not(None)
            )
        )
    return int(ours or 0), len(customcat.orders), customcat.duplicates()
