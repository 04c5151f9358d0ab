"""Returns: goods that came back, whole order or lines and units, with the reason;
refused in words (more than shipped, nothing shipped, cancelled) with nothing changed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from podops import queries, services
from podops.db import Database
from podops.errors import InvalidInput
from podops.events import EventName
from podops.models import OutboxMessage
from podops.outbox import Topic
from podops.routing import ShopPolicy
from podops.services import ReturnWanted
from podops.status import OrderStatus
from podops.wording import describe_event
from tests.factories import (
    STAFF,
    partially_shipped_order,
    received_order,
    shipped_order,
)


def give_back(db: Database, number: str, reason: str, *lines: ReturnWanted) -> None:
    with db.unit_of_work() as session:
        services.return_order(session, number, STAFF, reason, lines=lines)


def state(db: Database, number: str) -> tuple[str, list[int], list[str]]:
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        events = queries.timeline(session, order)
        return (
            order.status,
            [item.quantity_returned for item in order.items],
            [describe_event(e, number) for e in events if e.action.startswith("return")],
        )


def test_a_whole_order_comes_back_returned_with_the_reason(
    db: Database, policy: ShopPolicy
) -> None:
    number = shipped_order(db, policy)
    give_back(db, number, "  wrong   size ")
    status, returned, said = state(db, number)
    assert status == OrderStatus.RETURNED
    assert returned == [2, 1]
    assert said == [
        f"maria recorded order {number} as returned ({number}-01 x2, {number}-02 x1): wrong size"
    ]
    with db.unit_of_work() as session:
        pushes = session.scalars(
            select(OutboxMessage).where(OutboxMessage.topic == Topic.STORE_RETURN)
        ).all()
        assert len(pushes) == 1


def test_some_units_come_back_and_the_order_keeps_its_status(
    db: Database, policy: ShopPolicy
) -> None:
    number = shipped_order(db, policy)
    give_back(db, number, "damaged", ReturnWanted(1, 1))
    status, returned, said = state(db, number)
    assert (status, returned) == (OrderStatus.SHIPPED, [1, 0])
    assert said == [f"maria recorded part of order {number} as returned ({number}-01 x1): damaged"]
    give_back(db, number, "changed mind")  # the rest: every unit still out
    status, returned, _ = state(db, number)
    assert (status, returned) == (OrderStatus.RETURNED, [2, 1])
    with db.unit_of_work() as session:
        names = [e.action for e in queries.timeline(session, services.get_order(session, number))]
        assert names[-2:] == [EventName.RETURN_LINES, EventName.RETURN]


def test_a_partly_shipped_order_returns_only_what_shipped(db: Database, policy: ShopPolicy) -> None:
    number = partially_shipped_order(db, policy)  # 1 of line 1 shipped
    give_back(db, number, "damaged")
    status, returned, _ = state(db, number)
    assert (status, returned) == (OrderStatus.PARTIALLY_SHIPPED, [1, 0])


@pytest.mark.parametrize(
    ("given", "lines", "reason", "refusal"),
    [
        ("pending", (), "damaged", "cannot be returned: it is pending and nothing of it has"),
        ("cancelled", (), "damaged", "cannot be returned: it was cancelled"),
        ("shipped", (ReturnWanted(1, 3),), "damaged", "3 to return, but 2 of it shipped"),
        ("shipped", (ReturnWanted(7),), "damaged", r"has no line 7 \(its lines: 1, 2\)"),
        ("shipped", (ReturnWanted(1), ReturnWanted(1)), "damaged", "is named twice"),
        ("shipped", (), "   ", "say why the goods came back"),
        ("partial", (ReturnWanted(2),), "damaged", "has not shipped: nothing of it can come"),
    ],
)
def test_refusals_say_why_and_change_nothing(
    db: Database,
    policy: ShopPolicy,
    given: str,
    lines: tuple[ReturnWanted, ...],
    reason: str,
    refusal: str,
) -> None:
    if given == "pending":
        number = received_order(db, policy)
    elif given == "cancelled":
        number = received_order(db, policy)
        with db.unit_of_work() as session:
            services.cancel(session, number, STAFF, "out of stock")
    elif given == "partial":
        number = partially_shipped_order(db, policy)
    else:
        number = shipped_order(db, policy)
    before = state(db, number)
    with pytest.raises(InvalidInput, match=refusal):
        give_back(db, number, reason, *lines)
    assert state(db, number) == before


def test_what_came_back_cannot_come_back_twice(db: Database, policy: ShopPolicy) -> None:
    number = shipped_order(db, policy)
    give_back(db, number, "damaged", ReturnWanted(1, 2))
    with pytest.raises(InvalidInput, match="all 2 unit\\(s\\) that shipped have already come back"):
        give_back(db, number, "damaged", ReturnWanted(1, 1))
    give_back(db, number, "damaged")
    with pytest.raises(InvalidInput, match="it has already come back as a return"):
        give_back(db, number, "damaged")


def test_the_daily_summary_names_returned_orders_apart_from_remakes(
    db: Database, policy: ShopPolicy
) -> None:
    from datetime import UTC, datetime

    from podops import reports
    from podops.outbox.messages import summary_from_payload, summary_to_payload
    from sync.console_notifier import summary_text

    number, kept = shipped_order(db, policy), shipped_order(db, policy)
    today = datetime.now(UTC).date()
    with db.unit_of_work() as session:
        assert "Returns" not in summary_text(
            reports.daily_summary(session, today, UTC, late_after_days=5)
        )
    give_back(db, number, "wrong size", ReturnWanted(1, 1))
    give_back(db, number, "damaged", ReturnWanted(2))
    with db.unit_of_work() as session:
        summary = reports.daily_summary(session, today, UTC, late_after_days=5)
    told = summary_text(summary_from_payload(summary_to_payload(summary)))
    assert f"{number}-01 x1 (wrong size); {number}-02 x1 (damaged)" in told
    assert kept not in told.split("Returns")[-1]
    assert "remakes" not in told
