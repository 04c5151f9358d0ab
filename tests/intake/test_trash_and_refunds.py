"""Orders that change in the shop without a webhook reaching podops: trashed
(WooCommerce's default order list leaves them out) and refunded (in part or
in full, before or after submission)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from podops import services
from podops.models import utcnow
from podops.runtime.root import Runtime
from podops.status import OrderStatus
from sync.intake import sync_one
from tests.fakes.woocommerce import FakeWooCommerce
from tests.fakes.woocommerce_orders import sample_order

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
