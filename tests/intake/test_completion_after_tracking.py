""" "completed" reaches the store only after the tracking did: WooCommerce e-mails the
customer on completion, and that e-mail must carry the tracking.

The fake shop records every request; the tests read the order of its writes. A
shop without the Shipment Tracking extension answers its route with 404
`rest_no_route` (as the extension's docs and WordPress do), so the tracking
goes out as a customer note, still before the completion.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update

from podops import outbox
from podops.models import OutboxMessage
from podops.outbox import Topic
from podops.runtime import status_report
from podops.runtime.root import Runtime
from podops.status import OrderStatus
from sync.pushback import drain
from tests.fakes.woocommerce import FakeWooCommerce
from tests.intake.test_pushback import _from_shop, _status, shipped

TRACKING_WRITES = ("/notes", "/shipment-trackings")


def _writes(shop: FakeWooCommerce) -> list[str]:
    """What the shop was told, in order: "tracking" or "status"."""
    told = []
    for method, path in shop.state.requests:
        if method == "POST" and path.endswith(TRACKING_WRITES):
            told.append("tracking")
        elif method == "PUT" and path.endswith("/orders/1001"):
            told.append("status")
    return told


def _tracking_due_now(runtime: Runtime) -> None:
    """As if the tracking message's back-off had passed."""
    with runtime.db.unit_of_work() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.topic == Topic.STORE_TRACKING)
            .values(next_attempt_at=datetime.now(UTC))
        )


def test_without_the_extension_the_note_goes_before_the_completion(
    shop: FakeWooCommerce, runtime: Runtime
) -> None:
    shop.state.tracking_extension = False
    number = _from_shop(shop, runtime)
    shipped(runtime, number)
    drain(runtime)
    assert _writes(shop) == ["tracking", "status"]
    assert shop.state.count("GET", "/shipment-trackings") == 1  # answered 404 rest_no_route
    assert _status(runtime, number) == OrderStatus.COMPLETED


def test_a_tracking_still_retrying_holds_the_completion_back(
    shop: FakeWooCommerce, runtime: Runtime
) -> None:
    number = _from_shop(shop, runtime)
    shipped(runtime, number)
    shop.fail_next(1, status=503, method="POST")  # a write is not retried in the call
    drain(runtime)
    drain(runtime)  # the tracking backs off; the completion is due but must wait
    assert "status" not in _writes(shop)
    assert _status(runtime, number) == OrderStatus.SHIPPED
    _tracking_due_now(runtime)
    drain(runtime)  # the tracking lands and makes the held completion due at once
    drain(runtime)
    assert _writes(shop)[-2:] == ["tracking", "status"]
    assert _writes(shop).count("status") == 1
    assert _status(runtime, number) == OrderStatus.COMPLETED


def test_a_parked_tracking_holds_the_completion_and_shows_in_status(
    shop: FakeWooCommerce, runtime: Runtime
) -> None:
    number = _from_shop(shop, runtime)
    shipped(runtime, number)
    shop.fail_next(1, status=403, method="POST")  # refused: the tracking is parked
    for _ in range(3):
        drain(runtime)
    with runtime.db.unit_of_work() as session:
        completion = session.scalars(
            select(OutboxMessage).where(OutboxMessage.topic == Topic.STORE_STATUS)
        ).one()
        assert completion.dead_at is None and completion.delivered_at is None
        report = status_report.build(session)
    assert [n for n, _ in report.held_completions] == [number]
    assert "status" not in _writes(shop)

    with runtime.db.unit_of_work() as session:
        outbox.requeue(session, topic=Topic.STORE_TRACKING)
    drain(runtime)
    drain(runtime)
    assert _writes(shop)[-2:] == ["tracking", "status"]
    assert _status(runtime, number) == OrderStatus.COMPLETED
    with runtime.db.unit_of_work() as session:
        assert status_report.build(session).held_completions == []
