"""`Database.reading()`: a status query or an order card never waits behind a writer.

On SQLite every unit of work begins IMMEDIATE (writers queue for the lock); a
read in one waited up to the 30 s busy timeout behind an intake page or a
burst of webhooks, then failed with "database is locked". A reading unit
begins deferred and reads the last committed state at once.
"""

from __future__ import annotations

import time

from sqlalchemy import select

from podops.db import Database
from podops.models import Order
from podops.routing import ShopPolicy
from tests import factories


def test_a_read_is_answered_while_a_writer_holds_the_database(
    db: Database, policy: ShopPolicy
) -> None:
    factories.received_order(db, policy, number="7001")
    with db.unit_of_work() as writer:  # holds the write lock until the block ends
        writer.scalars(select(Order)).one().note = "being written"
        writer.flush()
        started = time.monotonic()
        with db.reading() as session:
            numbers = list(session.scalars(select(Order.number)))
        waited = time.monotonic() - started
    assert numbers == ["7001"]
    assert waited < 1.0, f"the read waited {waited:.1f} s for the writer"


def test_a_reading_unit_commits_nothing(db: Database, policy: ShopPolicy) -> None:
    factories.received_order(db, policy, number="7002")
    with db.reading() as session:
        order = session.scalars(select(Order)).one()
        order.note = "changed in a read"
    assert order.number == "7002"  # loaded objects stay usable after the block
    with db.reading() as session:
        assert session.scalars(select(Order.note)).one() != "changed in a read"
