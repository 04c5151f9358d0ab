"""Many orders in the same situation make one message that lists them: a first
sync that holds 246 overdue orders posts a handful of messages (one per received
batch, each naming 20 orders and "and N more"), not 246; a burst of alerts in one
drain is one message; the console gets the same digest."""

from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import func, select

from podops import services
from podops.models import OutboxMessage, utcnow
from podops.notify.digests import BURST, LISTED
from podops.notify.handlers import NotifyHandlers
from podops.outbox import OutboxDispatcher
from podops.runtime.root import Runtime
from sync.console_notifier import ConsoleNotifier
from sync.notify_job import drain, scan_alerts
from tests.factories import SYSTEM, incoming, received_order
from tests.fakes.slack import FakeSlack

PAGE = 100


def first_sync(runtime: Runtime, count: int) -> None:
    """What a store's first pass does with old orders: received page by page, held."""
    long_ago = utcnow() - timedelta(days=10)
    orders = [incoming(f"{5000 + n}", placed_at=long_ago) for n in range(count)]
    for start in range(0, count, PAGE):
        with runtime.db.unit_of_work() as session:
            services.receive_orders(
                session, orders[start : start + PAGE], runtime.policy, SYSTEM, hold_overdue=True
            )


def drain_all(runtime: Runtime) -> None:
    while drain(runtime, limit=500).delivered:
        pass


def test_a_first_sync_of_246_overdue_orders_posts_a_handful_of_lists(
    runtime: Runtime, fake_slack: FakeSlack
) -> None:
    first_sync(runtime, 246)
    scan_alerts(runtime, utcnow())
    drain_all(runtime)
    posts = fake_slack.calls_to("chat.postMessage")
    assert 1 <= len(posts) <= 5
    for post in posts:
        title, listed = (b["text"]["text"] for b in post.params["blocks"])
        assert "placed before podops watched the store are on hold" in title
        assert listed.count("• *") == LISTED
    texts = [p.params["blocks"][1]["text"]["text"] for p in posts]
    assert sum(int(t.rsplit("and ", 1)[1].split()[0]) for t in texts) == 246 - LISTED * len(posts)
    assert "*5000*" in texts[0] and "on hold" in texts[0]


def test_a_burst_of_alerts_in_one_drain_is_one_message(
    runtime: Runtime, fake_slack: FakeSlack, policy
) -> None:
    numbers = [received_order(runtime.db, policy) for _ in range(BURST + 7)]
    assert scan_alerts(runtime, utcnow() + timedelta(days=3)) == len(numbers)
    drain_all(runtime)
    posts = fake_slack.calls_to("chat.postMessage")
    assert len(posts) == 1
    assert f"{len(numbers)} orders are due for submission soon" in posts[0].params["text"]
    listed = posts[0].params["blocks"][1]["text"]["text"]
    assert all(f"*{number}*" in listed for number in numbers)
    assert scan_alerts(runtime, utcnow() + timedelta(days=3)) == 0  # told once
    with runtime.db.unit_of_work() as session:
        waiting = select(func.count()).where(OutboxMessage.delivered_at.is_(None))
        assert session.scalar(waiting) == 0


def test_a_few_alerts_stay_one_card_each(runtime: Runtime, fake_slack: FakeSlack, policy) -> None:
    for _ in range(BURST - 1):
        received_order(runtime.db, policy)
    scan_alerts(runtime, utcnow() + timedelta(days=3))
    drain_all(runtime)
    posts = fake_slack.calls_to("chat.postMessage")
    assert len(posts) == BURST - 1 and all("Order " in p.params["text"] for p in posts)


def test_the_console_gets_the_same_digest(runtime: Runtime) -> None:
    first_sync(runtime, 30)
    out = io.StringIO()
    handlers = NotifyHandlers(ConsoleNotifier(out), lambda days: b"").as_dict()
    OutboxDispatcher(runtime.db, handlers).drain()
    text = out.getvalue()
    assert text.count("placed before podops watched the store") == 1
    assert "5000" in text and "... and 10 more" in text
