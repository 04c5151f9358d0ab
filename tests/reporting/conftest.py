"""A shop's month, built through the services, then given the times and charges a
real month would have (a test may set what providers report)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from podops import services
from podops.db import Database
from podops.models import Fulfillment, Order
from podops.reporting.period import Period, local_days
from podops.routing import ShopPolicy
from podops.settings import DatabaseConfig, FeesConfig, ProviderConfig, Settings, StoreConfig
from tests.factories import STAFF, received_order, shipped_order, submitted_order

DAY0 = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)  # a Monday
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def november() -> Period:
    return local_days(date(2026, 11, 1), date(2026, 11, 30), UTC)


def report_settings(db_url: str, *, fees: bool = True) -> Settings:
    store = StoreConfig(platform="csv", default_provider="manual")
    if fees:
        store = StoreConfig(
            platform="csv", default_provider="manual", fees=FeesConfig(percent=3, fixed=0.30)
        )
    return Settings(
        database=DatabaseConfig(url=db_url),
        stores={"main": store, "second": StoreConfig(platform="csv", default_provider="manual")},
        providers={"manual": ProviderConfig(kind="manual", promised_days=5)},
    )


def set_times(
    db: Database,
    number: str,
    *,
    submitted: float | None,
    shipped: float | None,
    cost: str | None = None,
    currency: str = "USD",
) -> None:
    """Days after placing; None leaves the time missing (imported history)."""
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        part: Fulfillment = order.parts[0]
        part.submitted_at = (
            None if submitted is None else order.placed_at + timedelta(days=submitted)
        )
        part.shipped_at = None if shipped is None else order.placed_at + timedelta(days=shipped)
        part.cost = None if cost is None else Decimal(cost)
        part.cost_currency = None if cost is None else currency


@pytest.fixture
def month(db: Database, policy: ShopPolicy) -> dict[str, str]:
    """Given November: 4 orders shipped in 2, 3, 4 and 9 days (one charged nothing
    reported), one submitted and stuck, one cancelled before submission, one pending and
    late, one shipped with no submitted time, one in EUR."""
    names: dict[str, str] = {}
    for index, (submitted, shipped, cost) in enumerate(
        [(1, 2, "20.00"), (1, 3, "20.00"), (2, 4, "20.00"), (3, 9, None)]
    ):
        names[f"shipped{index}"] = shipped_order(db, policy, placed_at=DAY0 + timedelta(days=index))
        set_times(db, names[f"shipped{index}"], submitted=submitted, shipped=shipped, cost=cost)
    names["stuck"] = submitted_order(db, policy, placed_at=DAY0 + timedelta(days=5))
    set_times(db, names["stuck"], submitted=1, shipped=None, cost="20.00")
    names["cancelled"] = received_order(db, policy, placed_at=DAY0 + timedelta(days=6))
    with db.unit_of_work() as session:
        services.cancel(session, names["cancelled"], STAFF, "out of stock")
    names["late"] = received_order(db, policy, placed_at=NOW - timedelta(days=10))
    names["untimed"] = shipped_order(db, policy, placed_at=DAY0 + timedelta(days=7))
    set_times(db, names["untimed"], submitted=None, shipped=3, cost="20.00")
    names["euro"] = shipped_order(db, policy, placed_at=DAY0 + timedelta(days=8), currency="EUR")
    set_times(db, names["euro"], submitted=1, shipped=2, cost="18.00", currency="EUR")
    with db.unit_of_work() as session:
        for number in names.values():
            order = services.get_order(session, number)
            assert isinstance(order, Order)
    return names
