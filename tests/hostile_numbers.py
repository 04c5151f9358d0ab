"""Order numbers a store may legally send that break naive handling, for the sweeps
that send every one of them through every entry point (CLI, Slack, sheet, provider
reference, print-file names, links). All are in store `main`.

`AMBIGUOUS` maps typed text that names two of these orders to what staff type
instead for the order numbered exactly that text (the other one keeps its plain
form, `1001`); such text must be refused, never guessed. ` 17` beside `17` and
`A  12` beside `A 12` are not ambiguous: text is read as typed first."""

from __future__ import annotations

from sqlalchemy import func, select

from podops.db import Database
from podops.models import Event, Order
from podops.status import OrderStatus

LONGEST = "Ø-" + "9" * 62
"""The store's longest number (the `orders.number` column: 64 characters)."""

HOSTILE_NUMBERS: tuple[str, ...] = (
    "-17",
    "--5",
    "--help",
    "-r",
    "A 12",
    "A  12",
    " 17",
    "17",
    "#1001",
    "1001",
    "2024/5001",
    "a\\b",
    "50%off",
    "Ø-12",
    LONGEST,
    "-" + "x" * 63,
    "..",
    "main:1001",
)

AMBIGUOUS: dict[str, str] = {
    "#1001": "main:##1001",  # also order 1001, as staff type #1234 for 1234
    "main:1001": "main:main:1001",  # also order 1001 of store main
}


def store_id(number: str) -> str:
    """A store order id for `number` that fits its column (`ext-` + the longest does not)."""
    return f"hostile-{HOSTILE_NUMBERS.index(number)}"


def orders_snapshot(db: Database) -> dict[str, tuple[str, int, int]]:
    """Number -> (status, version, events) of every order: what "changed" compares."""
    with db.unit_of_work() as session:
        events = dict(
            session.execute(select(Event.order_id, func.count()).group_by(Event.order_id)).all()
        )
        return {
            o.number: (o.status, o.version, int(events.get(o.id, 0)))
            for o in session.scalars(select(Order))
        }


def status_of_number(db: Database, number: str) -> OrderStatus:
    """The status of the order numbered exactly `number` (no look-up rules involved)."""
    with db.unit_of_work() as session:
        found = session.scalars(select(Order.status).where(Order.number == number))
        return OrderStatus(found.one())
