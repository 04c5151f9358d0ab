"""Orders the shop fulfilled by hand before podops watched it: recorded as done, with
nothing sent to a provider and nothing (or only the tracking) told to the store."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from podops import services
from podops.db import Database
from podops.errors import IllegalTransition, InvalidInput
from podops.models import OutboxMessage
from podops.outbox import Topic
from podops.routing import ShopPolicy
from podops.status import OrderStatus
from tests.factories import STAFF, received_order, submitted_order


def _held(db: Database, policy: ShopPolicy) -> str:
    number = received_order(db, policy)
    with db.unit_of_work() as session:
        services.hold(session, number, STAFF, "placed before podops watched this store")
    return number


def _store_topics(db: Database) -> list[str]:
    with db.unit_of_work() as session:
        return [
            t
            for t in session.scalars(select(OutboxMessage.topic))
            if t in (Topic.STORE_STATUS, Topic.STORE_TRACKING)
        ]


def test_without_tracking_it_completes_and_tells_the_store_nothing(
    db: Database, policy: ShopPolicy
) -> None:
    number = _held(db, policy)
    with db.unit_of_work() as session:
        order = services.record_fulfilled_by_shop(session, number, STAFF)
        assert order.status == OrderStatus.COMPLETED and order.completed_at is not None
        assert order.hold_reason is None and order.held_by is None
        assert order.shipments == []
    assert _store_topics(db) == []


def test_with_tracking_only_the_tracking_goes_to_the_store(
    db: Database, policy: ShopPolicy
) -> None:
    number = _held(db, policy)
    with db.unit_of_work() as session:
        services.record_fulfilled_by_shop(
            session, number, STAFF, carrier="ups", number="1z999aa10123456784"
        )
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        [parcel] = order.shipments
        assert (parcel.carrier, parcel.tracking_number) == ("UPS", "1Z999AA10123456784")
        assert [i.quantity_open for i in order.items] == [0, 0]
        assert order.status == OrderStatus.COMPLETED
    assert _store_topics(db) == [Topic.STORE_TRACKING]


def test_it_is_refused_after_submission_and_without_a_whole_parcel(
    db: Database, policy: ShopPolicy
) -> None:
    sent = submitted_order(db, policy)
    with db.unit_of_work() as session, pytest.raises(IllegalTransition, match="no longer"):
        services.record_fulfilled_by_shop(session, sent, STAFF)
    held = _held(db, policy)
    with db.unit_of_work() as session, pytest.raises(InvalidInput, match="both the carrier"):
        services.record_fulfilled_by_shop(session, held, STAFF, carrier="UPS")
