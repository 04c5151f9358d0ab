"""Builders for incoming orders and orders in a named state (given ... ).

Fixtures are named after the state they produce, so a test reads
`given a shipped order` rather than a page of setup.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from podops import services
from podops.db import Database
from podops.events import Actor, Channel
from podops.incoming import IncomingLineItem, IncomingOrder
from podops.refs import OrderRef
from podops.routing import ShopPolicy
from podops.services.shipping import ShipLine

SYSTEM = Actor("test", Channel.SYSTEM)
STAFF = Actor("slack:U1 (maria)", Channel.SLACK)
_ids = itertools.count(1)

ADDRESS = {
    "first_name": "Ana",
    "last_name": "Smith",
    "address_1": "12 Main St",
    "address_2": "",
    "city": "Springfield",
    "state": "IL",
    "postcode": "62701",
    "country": "US",
}


def incoming(
    number: str | None = None,
    *,
    store: str = "main",
    items: list[IncomingLineItem] | None = None,
    placed_at: datetime | None = None,
    **fields: object,
) -> IncomingOrder:
    serial = next(_ids)
    number = number or str(10000 + serial)
    order = IncomingOrder(
        store=store,
        external_id=f"ext-{number}",
        number=number,
        placed_at=placed_at or datetime(2026, 11, 20, 15, 0, tzinfo=UTC),
        customer_name="Ana Smith",
        customer_email="ana@example.com",
        shipping_address=dict(ADDRESS),
        total=Decimal("42.50"),
        items=items
        if items is not None
        else [
            IncomingLineItem(
                external_id=f"li-{serial}-1",
                sku="TEE-BLK-M",
                name="Custom Tee",
                quantity=2,
                unit_price=Decimal("19.00"),
                personalization={"name": "ANA"},
            ),
            IncomingLineItem(
                external_id=f"li-{serial}-2",
                sku="MUG-11OZ",
                name="Photo Mug",
                quantity=1,
                unit_price=Decimal("4.50"),
                personalization={"message": "Love you"},
            ),
        ],
    )
    for key, value in fields.items():
        setattr(order, key, value)
    return order


def received_order(db: Database, policy: ShopPolicy, **kwargs: object) -> str:
    """Given a pending order (countdown running); returns its number."""
    incoming_order = incoming(**kwargs)  # type: ignore[arg-type]
    with db.unit_of_work() as session:
        services.receive_order(session, incoming_order, policy, SYSTEM)
    return incoming_order.number


def submitted_order(db: Database, policy: ShopPolicy, **kwargs: object) -> str:
    """Given an order at its provider (one fulfillment per provider its lines go to)."""
    number = received_order(db, policy, **kwargs)
    ref = OrderRef(str(kwargs.get("store", "main")), number)  # any number, as stored
    with db.unit_of_work() as session:
        order = services.get_order(session, ref)
        services.begin_submit(session, order, services.plan_fulfillments(session, order), SYSTEM)
    with db.unit_of_work() as session:
        order = services.get_order(session, ref)
        for part in order.parts:
            ids = f"P-{number}" if part.seq == 1 else f"P-{number}-{part.seq}"
            services.mark_submitted(session, order, part, SYSTEM, provider_order_id=ids)
    return number


def partially_shipped_order(db: Database, policy: ShopPolicy) -> str:
    number = submitted_order(db, policy)
    with db.unit_of_work() as session:
        services.record_tracking(
            session, number, "ups", "1Z999AA10123456784", STAFF, lines=[ShipLine(1, 1)]
        )
    return number


def shipped_order(db: Database, policy: ShopPolicy, **kwargs: object) -> str:
    number = submitted_order(db, policy, **kwargs)
    with db.unit_of_work() as session:
        services.record_tracking(session, number, "UPS Ground", "1Z999AA10123456784", STAFF)
    return number


def at(hours: float) -> datetime:
    return datetime(2026, 11, 20, 15, 0, tzinfo=UTC) + timedelta(hours=hours)
