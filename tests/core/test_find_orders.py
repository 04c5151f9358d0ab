"""`/order find` and `podops` look-ups: what staff type is matched literally."""

from __future__ import annotations

from datetime import UTC, datetime

from podops import services
from podops.db import Database
from podops.routing import ShopPolicy
from tests.factories import received_order


def test_find_matches_underscores_and_percent_signs_literally(
    db: Database, policy: ShopPolicy
) -> None:
    wanted = received_order(db, policy, customer_email="ana_b@example.com")
    received_order(db, policy, customer_email="anaxb@example.com")  # `_` must not match x
    discount = received_order(db, policy, customer_name="Bea 100% Cotton")
    received_order(db, policy, customer_name="Bea 1000 Cotton")
    with db.unit_of_work() as session:
        assert [o.number for o in services.find_orders(session, "ana_b@")] == [wanted]
        assert [o.number for o in services.find_orders(session, "ANA_B")] == [wanted]
        assert [o.number for o in services.find_orders(session, "100%")] == [discount]
        assert services.find_orders(session, "a\\b") == []


def test_find_by_surname_full_name_or_email_newest_first(db: Database, policy: ShopPolicy) -> None:
    def order(name: str, email: str, day: int) -> str:
        placed = datetime(2026, 11, day, tzinfo=UTC)
        return received_order(
            db, policy, customer_name=name, customer_email=email, placed_at=placed
        )

    older = order("Ana Hartwell", "a@x.example", 1)
    newer = order("Ben Hartwell", "b@x.example", 2)
    other = order("Cara Oakley", "hartwell@y.example", 3)
    with db.unit_of_work() as session:
        assert [o.number for o in services.find_orders(session, "hartwell")] == [
            other,
            newer,
            older,
        ]
        assert [o.number for o in services.find_orders(session, "ben hartwell")] == [newer]
        assert [o.number for o in services.find_orders(session, "b@x.exa")] == [newer]
