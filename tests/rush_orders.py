"""Rush orders for tests and benches: a store whose Express orders have their own
countdown, orders whose customer paid for Express, and how many rush orders left late.

    settings = Settings(stores={"main": rush_store("cc")}, providers={"cc": ...})
    policy = ShopPolicy.from_settings(settings)       # receive with it
    roster = provider_roster(settings, providers)     # sends "Expedited" for express
    batch = [rush_incoming(placed_at=...) if i % 10 == 0 else factories.incoming(...)]
    ...
    late = rush_late(db, started=<when the countdown began>, slack=timedelta(seconds=5))
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select

from podops.db import Database
from podops.incoming import IncomingOrder
from podops.models import Fulfillment, Order
from tests import factories

RUSH_METHOD = "Express Shipping"
"""The store's shipping method (title) that makes an order rush in `rush_store`."""
RUSH_PROVIDER_METHOD = "Expedited"
"""What the provider is sent for a rush order of `rush_store`."""


def rush_store(
    provider: str = "cc", *, countdown_hours: float = 1.0, rush_hours: float = 0.0
) -> dict[str, Any]:
    """A `stores.NAME` config: standard orders wait `countdown_hours`, Express ones
    (`RUSH_METHOD`) `rush_hours`; `provider` gets Economy / Expedited."""
    return {
        "platform": "sandbox",
        "default_provider": provider,
        "countdown_hours": countdown_hours,
        "shipping": {
            "methods": {"Standard Shipping": "standard", RUSH_METHOD: "express"},
            "speeds": {"express": {"countdown_hours": rush_hours}},
            "providers": {provider: {"standard": "Economy", "express": RUSH_PROVIDER_METHOD}},
        },
    }


def rush_incoming(number: str | None = None, **fields: Any) -> IncomingOrder:
    """`factories.incoming`, paid for Express."""
    fields.setdefault("shipping_method", RUSH_METHOD)
    return factories.incoming(number, **fields)


def rush_late(db: Database, *, started: datetime, slack: timedelta) -> int:
    """Rush orders that left after their own countdown: not submitted, or submitted more
    than `slack` after their submit time (or after `started`, when the countdown began
    working, for orders already due then: none can leave before it)."""
    with db.unit_of_work() as session:
        # A split order is on time when its last part left in time, and every part left.
        unsent = func.count(Fulfillment.id) - func.count(Fulfillment.submitted_at)
        last_sent = case((unsent > 0, None), else_=func.max(Fulfillment.submitted_at))
        rows = session.execute(
            select(Order.submit_at, last_sent)
            .outerjoin(Fulfillment, Fulfillment.order_id == Order.id)
            .where(Order.rush.is_(True))
            .group_by(Order.id, Order.submit_at)
        ).all()
    late = 0
    for submit_at, submitted_at in rows:
        deadline = max(submit_at or started, started) + slack
        if submitted_at is None or submitted_at > deadline:
            late += 1
    return late
