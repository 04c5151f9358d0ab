"""The queries rewritten to read open orders through partial indexes (bench/scale.py)
answer exactly what they answered before: which orders the sheet shows, which it
archives, and the not-shipped list, newest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from podops import queries
from podops.db import Database
from podops.models import Order
from podops.routing import ShopPolicy
from podops.sheet.data import load_sheet_lines
from podops.status import FINISHED, NOT_SHIPPED, OrderStatus
from tests import factories

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
CUTOFF = NOW - timedelta(days=30)
OLD, RECENT = NOW - timedelta(days=40), NOW - timedelta(days=5)

# (status, completed_at, updated_at): each side of the cutoff, and a finished order
# changed after it finished (its last change is recent, its finish is not).
SHAPES: list[tuple[OrderStatus, datetime | None, datetime]] = [
    (OrderStatus.PENDING, None, OLD),
    (OrderStatus.SHIPPED, None, OLD),
    (OrderStatus.ON_HOLD, None, RECENT),
    (OrderStatus.COMPLETED, OLD, OLD),
    (OrderStatus.COMPLETED, OLD, RECENT),
    (OrderStatus.COMPLETED, RECENT, RECENT),
    (OrderStatus.CANCELLED, None, OLD),
    (OrderStatus.CANCELLED, None, RECENT),
    (OrderStatus.RETURNED, OLD, RECENT),
    (OrderStatus.RETURNED, RECENT, RECENT),
]


def _shop(db: Database, policy: ShopPolicy) -> dict[str, bool]:
    """Orders of every shape; number -> shown on the Orders tab (the old definition)."""
    shown = {}
    for hours, (status, completed, updated) in enumerate(SHAPES):
        number = factories.received_order(db, policy, placed_at=OLD + timedelta(hours=hours))
        with db.unit_of_work() as session:
            order = session.scalars(select(Order).where(Order.number == number)).one()
            order.status, order.completed_at, order.updated_at = status, completed, updated
        shown[number] = status not in FINISHED or (completed or updated) >= CUTOFF
    return shown


def test_the_sheet_shows_open_and_recently_finished_orders_and_archives_the_rest(
    db: Database, policy: ShopPolicy
) -> None:
    shown = _shop(db, policy)

    with db.unit_of_work() as session:
        current = {line.order_number for line in load_sheet_lines(session, cutoff=CUTOFF)}
        archived = {
            line.order_number for line in load_sheet_lines(session, cutoff=CUTOFF, archived=True)
        }

    assert current == {number for number, on_tab in shown.items() if on_tab}
    assert archived == {number for number, on_tab in shown.items() if not on_tab}


def test_the_not_shipped_list_is_every_open_order_newest_first(
    db: Database, policy: ShopPolicy
) -> None:
    _shop(db, policy)

    with db.unit_of_work() as session:
        everything = session.scalars(select(Order)).all()
        expected = sorted(
            (o for o in everything if o.status in NOT_SHIPPED),
            key=lambda o: (o.placed_at, o.id),
            reverse=True,
        )
        found = queries.list_orders(session, not_shipped=True)
        held = queries.list_orders(session, statuses=[OrderStatus.ON_HOLD], not_shipped=True)
        count = queries.count_not_shipped(session)

    assert [o.number for o in found] == [o.number for o in expected]
    assert [o.status for o in held] == [OrderStatus.ON_HOLD]
    assert count == len(expected) == 2  # pending and on hold (shipped has left)
