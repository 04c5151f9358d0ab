"""Orders that change in the shop without a webhook reaching podops: trashed
(WooCommerce's default order list leaves them out) and refunded (in part or
in full, before or after submission)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from podops import services
from podops.models import Event, OutboxMessage, utcnow
from podops.outbox import Topic
from podops.runtime import status_report
from podops.runtime.root import Runtime
from podops.runtime.web import build_asgi_app
from podops.status import OrderStatus
from sync.intake import sync_one
from sync.webhooks import routes
from tests.asgi_client import AsgiClient
from tests.factories import SYSTEM
from tests.fakes.woocommerce import FakeWooCommerce
from tests.fakes.woocommerce_orders import sample_order
from tests.intake.test_webhooks import deliver

AN_HOUR_AGO = datetime.now(UTC) - timedelta(hours=1)


def test_an_order_trashed_without_a_webhook_is_cancelled_before_its_countdown_ends(
    shop: FakeWooCommerce, runtime: Runtime
) -> None:
    shop.add(sample_order(1001, created=AN_HOUR_AGO), sample_order(1002, created=AN_HOUR_AGO))
    assert sync_one(runtime, "main").created == 2
    shop.state.trash(1001)  # the order.deleted webhook never arrives
    report = sync_one(runtime, "main")
    assert report.error is None and report.updated == 1
    with runtime.db.unit_of_work() as session:
        trashed = services.get_order(session, "1001")
        assert trashed.status == OrderStatus.CANCELLED and trashed.store_status == "trash"
        assert trashed.submit_at is not None and trashed.submit_at > utcnow()
        assert services.get_order(session, "1002").status == OrderStatus.PENDING


def _two_lines(order_id: int) -> dict[str, Any]:
    """Two tees, two mugs."""
    order = sample_order(order_id, created=AN_HOUR_AGO)
    mug = dict(order["line_items"][0], id=order_id * 10 + 2, sku="MUG-11OZ", name="Mug")
    order["line_items"].append(mug)
    order["total"] = "82.90"  # 2 x 19.50 + 2 x 19.50 + 4.90 shipping
    return order


def _lines(runtime: Runtime, number: str) -> tuple[OrderStatus, dict[str, int], list[str]]:
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, number)
        actions = list(session.scalars(select(Event.action).where(Event.order_id == order.id)))
        return OrderStatus(order.status), {i.sku: i.quantity for i in order.items}, actions


def test_a_partial_refund_before_submission_lowers_what_is_made(
    shop: FakeWooCommerce, runtime: Runtime
) -> None:
    shop.add(_two_lines(1001))
    sync_one(runtime, "main")
    shop.state.refund(1001, {10011: 1})  # one of the two tees
    assert sync_one(runtime, "main").updated == 1
    status, lines, actions = _lines(runtime, "1001")
    assert (status, lines) == (OrderStatus.PENDING, {"TEE-BLK-M": 1, "MUG-11OZ": 2})
    assert actions.count("store_refund") == 1
    shop.state.refund(1001, {10012: 2})  # both mugs: the line is not made
    sync_one(runtime, "main")
    status, lines, actions = _lines(runtime, "1001")
    assert (status, lines) == (OrderStatus.PENDING, {"TEE-BLK-M": 1})
    assert sync_one(runtime, "main").updated == 0, "a refund is applied once"


def test_a_refund_of_every_item_before_submission_cancels(
    shop: FakeWooCommerce, runtime: Runtime
) -> None:
    shop.add(_two_lines(1001))
    sync_one(runtime, "main")
    shop.state.refund(1001, {10011: 2, 10012: 2})  # the shipping is not refunded: still processing
    sync_one(runtime, "main")
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, "1001")
        assert order.store_status == "processing"
        assert order.status == OrderStatus.CANCELLED
        assert order.cancel_reason == "refunded in the store"


def test_an_order_first_seen_after_a_refund_arrives_with_it_applied(
    shop: FakeWooCommerce, runtime: Runtime
) -> None:
    shop.add(_two_lines(1001), _two_lines(1002))
    shop.state.refund(1001, {10011: 1, 10012: 2})
    shop.state.refund(1002, {10021: 2, 10022: 2})
    sync_one(runtime, "main")
    assert _lines(runtime, "1001")[:2] == (OrderStatus.PENDING, {"TEE-BLK-M": 1})
    assert _lines(runtime, "1002")[0] == OrderStatus.CANCELLED
    assert shop.state.count("GET", "/refunds") == 2, "only refunded orders cost a read"


def test_a_refund_after_submission_tells_staff_once(
    shop: FakeWooCommerce, runtime: Runtime
) -> None:
    shop.add(_two_lines(1001))
    sync_one(runtime, "main")
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, "1001")
        services.begin_submit(session, order, services.plan_fulfillments(session, order), SYSTEM)
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, "1001")
        services.mark_submitted(session, order, order.parts[0], SYSTEM, provider_order_id="P-1")
    shop.state.refund(1001, {10012: 1})
    sync_one(runtime, "main")
    sync_one(runtime, "main")
    status, lines, actions = _lines(runtime, "1001")
    assert (status, lines) == (OrderStatus.SUBMITTED, {"TEE-BLK-M": 2, "MUG-11OZ": 2})
    assert actions.count("store_refunded_after_submission") == 1
    with runtime.db.unit_of_work() as session:
        problems = services.get_order(session, "1001").problems
    assert any("refunded in the store after submission" in p and "2 -> 1" in p for p in problems)


def test_a_refund_by_webhook_reads_the_refunded_lines(
    shop: FakeWooCommerce, runtime: Runtime
) -> None:
    web = AsgiClient(build_asgi_app(runtime, [routes]))
    shop.add(_two_lines(1001))
    deliver(web, shop.state.encoded(1001), delivery="1")
    shop.state.refund(1001, {10011: 1})
    answer = deliver(web, shop.state.encoded(1001), topic="order.updated", delivery="1")
    assert answer == (200, {"ok": True, "result": "updated"})
    assert _lines(runtime, "1001")[1] == {"TEE-BLK-M": 1, "MUG-11OZ": 2}
    shop.state.refund(1001, {10012: 1})
    shop.state.down = True  # its refunds cannot be read: the poll will apply it
    later = deliver(web, shop.state.encoded(1001), topic="order.updated", delivery="2")
    assert later == (200, {"ok": True, "result": "deferred to the next poll"})


def test_an_order_whose_refunds_cannot_be_read_is_held_and_the_page_moves_on(
    shop: FakeWooCommerce, runtime: Runtime
) -> None:
    """A shop that errs on one order's refunds every time (a plugin fault) stalled
    intake on that page for good: every later order never arrived."""
    shop.add(*(_two_lines(order_id) for order_id in (1001, 1002, 1003)))
    shop.state.refund(1002, {10022: 1})
    shop.state.broken_refunds.add(1002)
    report = sync_one(runtime, "main")
    assert report.error is None and report.created == 3
    status, lines, _ = _lines(runtime, "1002")
    assert status == OrderStatus.ON_HOLD and lines == {"TEE-BLK-M": 2, "MUG-11OZ": 2}
    with runtime.db.unit_of_work() as session:
        reason = services.get_order(session, "1002").hold_reason or ""
        assert "could not read its refunds" in reason
        assert services.get_order(session, "1003").status == OrderStatus.PENDING


def test_a_known_order_whose_new_refund_cannot_be_read_is_held_not_made_in_full(
    shop: FakeWooCommerce, runtime: Runtime
) -> None:
    shop.add(_two_lines(1001), _two_lines(1002))
    assert sync_one(runtime, "main").created == 2
    shop.state.refund(1001, {10012: 2})
    shop.state.broken_refunds.add(1001)
    report = sync_one(runtime, "main")
    assert report.error is None
    status, _, actions = _lines(runtime, "1001")
    assert status == OrderStatus.ON_HOLD, actions
    shop.state.broken_refunds.clear()
    shop.state.touch(1001)
    sync_one(runtime, "main")
    status, lines, _ = _lines(runtime, "1001")  # read now; the person still releases it
    assert status == OrderStatus.ON_HOLD and lines == {"TEE-BLK-M": 2}


def _submit(runtime: Runtime, number: str) -> None:
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, number)
        services.begin_submit(session, order, services.plan_fulfillments(session, order), SYSTEM)
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, number)
        services.mark_submitted(session, order, order.parts[0], SYSTEM, provider_order_id="P-1")


def test_a_submitted_order_whose_new_refund_cannot_be_read_is_a_problem_staff_see(
    shop: FakeWooCommerce, runtime: Runtime
) -> None:
    """Only orders not yet sent were held for it: after submission staff were told
    nothing, and the provider made the refunded items."""
    shop.add(_two_lines(1001), _two_lines(1002))
    assert sync_one(runtime, "main").created == 2
    _submit(runtime, "1001")
    shop.state.refund(1001, {10012: 2})
    shop.state.broken_refunds.add(1001)
    assert sync_one(runtime, "main").error is None
    shop.state.touch(1001)  # read again, still unreadable: told once
    assert sync_one(runtime, "main").error is None
    status, lines, actions = _lines(runtime, "1001")
    assert status == OrderStatus.SUBMITTED and lines == {"TEE-BLK-M": 2, "MUG-11OZ": 2}
    assert actions.count("store_refunds_unread") == 1
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, "1001")
        problems = [p for p in order.problems if "could not read what" in p]
        assert len(problems) == 1 and "reduce or cancel it at the provider" in problems[0]
        event_ids = [
            m.payload.get("event_id")
            for m in session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.order_id == order.id, OutboxMessage.topic == Topic.NOTIFY.value
                )
            )
        ]
        told = session.scalars(
            select(Event.action).where(Event.id.in_([i for i in event_ids if i]))
        ).all()
        assert "store_refunds_unread" in told  # a Slack notice is on its way
        errors = status_report.build(session).recent_errors
    assert [(n, why) for _, n, why in errors if n == "1001"] == [("1001", problems[0])]


@pytest.mark.parametrize("odd", [float("inf"), float("nan"), "-1e3", True, None, "-²"])
def test_an_unreadable_refund_line_is_skipped_and_the_others_applied(
    shop: FakeWooCommerce, runtime: Runtime, odd: Any
) -> None:
    """A refund line whose quantity is not a number (`Infinity` crashed the whole page
    with an OverflowError) is skipped; the readable refund still lowers its line."""
    shop.add(_two_lines(1001), _two_lines(1002))
    shop.state.refund(1001, {10011: 1, 10012: 1})
    shop.state.refunds[1001][0]["line_items"][1]["quantity"] = odd
    report = sync_one(runtime, "main")
    assert report.error is None and report.created == 2
    assert _lines(runtime, "1001")[1] == {"TEE-BLK-M": 1, "MUG-11OZ": 2}
