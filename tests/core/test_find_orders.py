"""`/order find` and `podops` look-ups: what staff type is matched literally."""

from __future__ import annotations

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
