"""The daily summary names the parcels delivered that day (the trackers keep
`shipments.delivered_at`): in Slack after the outbox round trip, and on the console
(`podops summary`); a parcel delivered another day is not counted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from podops import services
from podops.models import utcnow
from podops.notify.summary import build_summary, enqueue_daily_summary
from podops.routing import ShopPolicy
from podops.runtime.root import Runtime
from podops.services.labels import record_delivery
from podops.tracking.parcels import ShipLine
from sync.console_notifier import summary_text
from sync.notify_job import drain
from tests.factories import STAFF, SYSTEM, submitted_order
from tests.fakes.slack import FakeSlack


def delivered_parcels(runtime: Runtime, policy: ShopPolicy, day: datetime) -> dict[str, str]:
    """Given: an order with two parcels delivered on `day`, one with a parcel delivered
    the day before, one with a parcel still on its way."""
    db = runtime.db
    two, before, on_its_way = (submitted_order(db, policy) for _ in range(3))
    with db.unit_of_work() as session:
        services.record_tracking(
            session, two, "USPS", "9400100000000000000001", STAFF, lines=[ShipLine(1)]
        )
        services.record_tracking(
            session, two, "USPS", "9400100000000000000002", STAFF, lines=[ShipLine(2)]
        )
        services.record_tracking(session, before, "UPS", "1Z999AA10000000001", STAFF)
        services.record_tracking(session, on_its_way, "UPS", "1Z999AA10000000002", STAFF)
    with db.unit_of_work() as session:
        noon = day.replace(hour=12, minute=0, second=0, microsecond=0)
        record_delivery(session, "9400100000000000000001", "delivered", noon, SYSTEM)
        record_delivery(session, "9400100000000000000002", "delivered", noon, SYSTEM)
        record_delivery(
            session, "1Z999AA10000000001", "delivered", noon - timedelta(days=1), SYSTEM
        )
        record_delivery(session, "1Z999AA10000000002", "in_transit", noon, SYSTEM)
    return {"two": two, "before": before, "on_its_way": on_its_way}


def test_the_summary_lists_the_days_delivered_parcels(
    runtime: Runtime, fake_slack: FakeSlack, policy: ShopPolicy
) -> None:
    day = utcnow().astimezone(UTC) - timedelta(days=1)
    orders = delivered_parcels(runtime, policy, day)

    summary = build_summary(runtime.db, runtime.settings, day.date())

    assert summary.parcels_delivered == 2
    assert [o.number for o in summary.delivered] == [orders["two"]]
    assert summary.delivered[0].note == (
        "delivered: USPS 9400100000000000000001, USPS 9400100000000000000002"
    )
    text = summary_text(summary)
    assert "Delivered (2 parcels):" in text and "9400100000000000000002" in text
    assert orders["before"] not in text.split("Delivered")[1]

    assert enqueue_daily_summary(runtime.db, runtime.settings, day + timedelta(days=1))
    drain(runtime)  # the store pushes and the summary
    [posted] = [
        call
        for call in fake_slack.calls_to("chat.postMessage")
        if str(call.params["text"]).startswith("Daily summary")
    ]
    shown = "\n".join(b["text"]["text"] for b in posted.params["blocks"] if "text" in b)
    assert "*Delivered*  2 parcel(s)" in shown
    assert f"*{orders['two']}*" in shown.split("*Delivered*")[1]
    assert orders["on_its_way"] not in shown.split("*Delivered*")[1]


def test_a_day_without_deliveries_says_nothing_of_them(runtime: Runtime) -> None:
    summary = build_summary(runtime.db, runtime.settings, datetime(2026, 1, 5, tzinfo=UTC).date())
    assert summary.delivered == [] and summary.parcels_delivered == 0
    assert "Delivered" not in summary_text(summary)
