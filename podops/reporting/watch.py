"""Orders to look at now, whatever the report's period: late orders (open longer than
their state allows, `reports.late_after_days`) and stuck fulfillments (at their
provider `reports.stuck_after_days` days without tracking), with their references."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from podops.fulfillment_status import FulfillmentStatus
from podops.models import Fulfillment, Order, Store
from podops.refs import FulfillmentRef, OrderRef
from podops.status import OrderStatus

STUCK_STATES = (FulfillmentStatus.SUBMITTED, FulfillmentStatus.IN_PRODUCTION)


@dataclass(frozen=True, slots=True)
class Watched:
    reference: str
    """`main:1234` (an order) or `main-1234` (a fulfillment at its provider)."""
    status: str
    days: float
    """Days since placed (late) or since submitted (stuck)."""
    limit: float
    provider: str = ""
    provider_order_id: str = ""


def late_orders(
    session: Session, now: datetime, limits: Mapping[str, float], *, cap: int = 500
) -> list[Watched]:
    """Open orders older than their state's limit, oldest first."""
    found: list[Watched] = []
    for state, days in limits.items():
        query = (
            select(Store.key, Order.number, Order.placed_at)
            .join(Store, Store.id == Order.store_id)
            .where(
                Order.status == OrderStatus(state),
                Order.placed_at < now - timedelta(days=days),
            )
            .order_by(Order.placed_at)
            .limit(cap)
        )
        for store, number, placed in session.execute(query):
            age = (now - placed).total_seconds() / 86400
            found.append(Watched(f"{store}:{number}", OrderStatus(state).label, age, days))
    found.sort(key=lambda w: -w.days)
    return found[:cap]


def stuck_parts(
    session: Session, now: datetime, after_days: float, *, cap: int = 500
) -> list[Watched]:
    """Fulfillments at their provider for `after_days` without tracking, longest first."""
    query = (
        select(
            Store.key,
            Order.number,
            Fulfillment.seq,
            Fulfillment.status,
            Fulfillment.provider,
            Fulfillment.provider_order_id,
            Fulfillment.submitted_at,
        )
        .join(Order, Order.id == Fulfillment.order_id)
        .join(Store, Store.id == Order.store_id)
        .where(
            and_(
                Fulfillment.status.in_(STUCK_STATES),
                Fulfillment.submitted_at < now - timedelta(days=after_days),
            )
        )
        .order_by(Fulfillment.submitted_at)
        .limit(cap)
    )
    found = []
    for store, number, seq, status, provider, provider_id, submitted in session.execute(query):
        ref = FulfillmentRef(OrderRef(store, number), seq)
        found.append(
            Watched(
                ref.provider,
                FulfillmentStatus(status).label,
                (now - submitted).total_seconds() / 86400 if submitted else 0.0,
                after_days,
                provider,
                provider_id or "",
            )
        )
    return found
