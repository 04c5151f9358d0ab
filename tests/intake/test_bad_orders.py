"""One bad order among good ones, by poll and by webhook: every value a store sends
is bounded at mapping time, an order that cannot be stored as sent is received
held with the reason, an absurd quantity waits for a person, and the page (and
the cursor) moves on. Runs on PostgreSQL too (PODOPS_TEST_DATABASE_URL), where a
value out of a column's range fails the whole transaction."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import DataError

from podops import services
from podops.db import Database
from podops.incoming import IncomingLineItem, IncomingOrder
from podops.intake.isolation import receive_isolated
from podops.intake.passes import IntakeReport, receive_batch
from podops.models import Order, Store, utcnow
from podops.runtime.root import Runtime
from podops.runtime.web import build_asgi_app
from podops.status import OrderStatus
from sync.intake import sync_one
from sync.webhooks import routes
from tests.asgi_client import AsgiClient
from tests.fakes.woocommerce import FakeWooCommerce
from tests.fakes.woocommerce_orders import sample_order
from tests.intake.test_webhooks import deliver

AN_HOUR_AGO = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def _order(order_id: int, **changes: Any) -> dict[str, Any]:
    order = sample_order(order_id, created=AN_HOUR_AGO + timedelta(seconds=order_id % 100))
    line = order["line_items"][0]
    for key, value in changes.items():
        if key in ("quantity", "subtotal", "price"):
            line[key] = value
        else:
            order[key] = value
    return order


def _with_nul(order_id: int) -> dict[str, Any]:
    order = _order(order_id)
    order["shipping"]["first_name"] = "Zo\x00ë"
    order["shipping"]["address_1"] = "9 Rue\x00 de la Paix"
    order["customer_note"] = "ring\x00 twice"
    order["line_items"][0]["name"] = "Tee\x00"
    return order


def _with_long_address(order_id: int) -> dict[str, Any]:
    order = _order(order_id)
    order["shipping"]["address_1"] = "9 Rue de la Paix " * 300
    return order


def _with_long_email(order_id: int) -> dict[str, Any]:
    order = _order(order_id)
    order["billing"]["email"] = "ana." * 100 + "@example.com"
    return order


BAD = {
    1002: ("quantity", _order(1002, quantity=2147483648)),
    1003: ("total", _order(1003, total="99999999999999.00")),
    1004: ("total", _order(1004, total="NaN")),
    1005: ("quantity", _order(1005, quantity=1_000_000_000)),
    1006: ("max_line_quantity", _order(1006, quantity=500)),
    1007: ("control characters", _with_nul(1007)),
    1008: (
        "creation date",
        _order(1008, date_created_gmt="9999-12-31T23:59:59", date_created="0000-00-00T00:00:00"),
    ),
    1009: ("subtotal", _order(1009, subtotal="Infinity")),
    1012: ("address 1 is 5,099 characters", _with_long_address(1012)),
    1013: ("customer email was longer than 320 characters", _with_long_email(1013)),
}
GOOD = (1001, 1010)


def _statuses(db: Database) -> dict[int, tuple[OrderStatus, str]]:
    with db.unit_of_work() as session:
        orders = session.scalars(select(Order)).all()
        return {int(o.external_id): (OrderStatus(o.status), o.hold_reason or "") for o in orders}


def _check_received(db: Database) -> None:
    found = _statuses(db)
    assert sorted(found) == sorted([*GOOD, *BAD])
    for order_id in GOOD:
        assert found[order_id][0] == OrderStatus.PENDING
    for order_id, (word, _) in BAD.items():
        status, reason = found[order_id]
        assert status == OrderStatus.ON_HOLD, order_id
        assert word in reason, (order_id, reason)
    with db.unit_of_work() as session:
        absurd = services.get_order(session, "1006")
        assert absurd.items[0].quantity == 500  # kept as sent, for a person to check
        unreadable = services.get_order(session, "1002")
        assert unreadable.items[0].quantity == 0
        assert services.get_order(session, "1004").total == Decimal("0.00")
        cleaned = services.get_order(session, "1007")
        assert cleaned.shipping_address["address_1"] == "9 Rue de la Paix"
        assert cleaned.note == "ring twice"


def test_bad_orders_in_a_page_are_held_and_the_cursor_moves_on(
    shop: FakeWooCommerce, runtime: Runtime
) -> None:
    shop.add(_order(GOOD[0]), *(body for _, body in BAD.values()), _order(GOOD[1]))
    report = sync_one(runtime, "main")
    assert report.error is None and report.refused == []
    assert report.created == len(GOOD) + len(BAD)
    _check_received(runtime.db)
    with runtime.db.unit_of_work() as session:
        store = session.scalar(select(Store).where(Store.key == "main"))
        assert store is not None and store.sync_cursor is not None and store.last_error is None
    shop.add(sample_order(1011))  # placed now, after the cursor
    later = sync_one(runtime, "main")
    assert later.error is None and later.created == 1


def test_bad_orders_by_webhook_are_held_not_a_server_error(runtime: Runtime) -> None:
    web = AsgiClient(build_asgi_app(runtime, [routes]))
    bodies = [_order(GOOD[0]), *(body for _, body in BAD.values()), _order(GOOD[1])]
    answers = [
        deliver(web, json.dumps(body).encode(), delivery=f"d-{body['id']}") for body in bodies
    ]
    created = (200, {"ok": True, "result": "created"})
    assert [answer for answer in answers if answer != created] == []
    _check_received(runtime.db)


def _order_in(external_id: str) -> IncomingOrder:
    return IncomingOrder(
        store="main", external_id=external_id, number=external_id, placed_at=utcnow()
    )


def test_an_order_the_database_refuses_is_stored_as_a_held_stub_alone(
    db: Database, runtime: Runtime
) -> None:
    """The guard behind the bounds: a value they did not foresee fails the page's
    transaction; each order is then stored alone, the refused one as a stub."""

    def receive(orders: list[IncomingOrder]) -> IntakeReport:
        with db.unit_of_work() as session:
            report = receive_batch(
                session, "main", orders, runtime.policy, fulfil_statuses=None, platform="csv"
            )
            if any(o.external_id == "bad" and o.items for o in orders):
                params = {"secret": "customer data"}
                raise DataError("INSERT ...", params, Exception("out of range"))
            return report

    orders = [_order_in("a"), _order_in("bad"), _order_in("c")]
    orders[1].items = [IncomingLineItem(external_id="1", sku="TEE-1", name="x", quantity=1)]
    report = receive_isolated(orders, receive, IntakeReport(store="main"), utcnow())
    assert report.created == 3 and report.refused == []
    with db.unit_of_work() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 3
        held = services.get_order(session, "bad")
        assert held.status == OrderStatus.ON_HOLD and held.items == []
        assert "could not store this order as the store sent it" in (held.hold_reason or "")
        assert "customer data" not in (held.hold_reason or "")


def test_an_order_refused_even_as_a_stub_is_named_and_the_rest_stored(
    db: Database, runtime: Runtime
) -> None:
    def receive(orders: list[IncomingOrder]) -> IntakeReport:
        with db.unit_of_work() as session:
            report = receive_batch(
                session, "main", orders, runtime.policy, fulfil_statuses=None, platform="csv"
            )
            if any(o.external_id == "bad" for o in orders):
                raise DataError("INSERT ...", {}, Exception("out of range"))
            return report

    orders = [_order_in("a"), _order_in("bad"), _order_in("c")]
    report = receive_isolated(orders, receive, IntakeReport(store="main"), utcnow())
    assert report.created == 2 and report.fetched == 3
    assert [number for number, _ in report.refused] == ["bad"]
