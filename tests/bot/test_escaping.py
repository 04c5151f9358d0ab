"""Outside text never becomes Slack markup: an order whose number, customer,
e-mail, SKU, item name, personalization, hold reason, problems or last error
holds `<!channel>` or a disguised link reaches every Slack surface escaped
(alert card and its fallback, event notices, previews, the summary, `find`,
`show`, help, the edit and cancel modals, App Home and private replies)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from PIL import Image
from sqlalchemy import select, update

from podops import services
from podops.fulfillment_status import FulfillmentStatus
from podops.incoming import IncomingLineItem
from podops.models import Fulfillment, Order, utcnow
from podops.notify.alerts import queue_previews
from podops.notify.summary import enqueue_daily_summary
from podops.refs import OrderRef
from podops.runtime.root import Runtime
from sync.notify_job import drain, scan_alerts
from tests.bot.conftest import SlackSender, wait_for
from tests.factories import STAFF, SYSTEM, incoming
from tests.fakes.slack import FakeSlack

PING = "<!channel>"
LINK = "<https://evil.example|Refund here>"
HOSTILE = f"{PING} & {LINK}"
# The only `<...>` tokens podops writes itself: dates, and links whose label is escaped.
OURS = re.compile(r"<(?:!date\^\d+\^[^|<>]*\|[^<>]*|(?:mailto:|https?://)[^|<>]*\|[^<>]*)>")


def mrkdwn_texts(value: Any, top: bool = True) -> Iterator[str]:
    """Every text Slack reads as mrkdwn: top-level `text` and mrkdwn text objects."""
    if isinstance(value, dict):
        if value.get("type") == "mrkdwn" or (top and isinstance(value.get("text"), str)):
            yield str(value["text"])
        for key, item in value.items():
            if key != "text" or not isinstance(item, str):
                yield from mrkdwn_texts(item, top=False)
    elif isinstance(value, list):
        for item in value:
            yield from mrkdwn_texts(item, top=False)


def assert_escaped(texts: list[str]) -> None:
    assert any("&lt;!channel&gt;" in t for t in texts), "the hostile text never reached Slack"
    for text in texts:
        outside_ours = OURS.sub("", text)
        assert "<" not in outside_ours and ">" not in outside_ours, text
        for token in OURS.findall(text):
            target = token.split("|", 1)[0]
            assert "evil.example" not in target and "!channel" not in token, token


def hostile_orders(runtime: Runtime, policy) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """Order 1001 (typed in commands) and an order whose very number is hostile."""
    item = IncomingLineItem(
        external_id="li-h-1",
        sku=f"TEE-{PING}",
        name=HOSTILE,
        quantity=1,
        unit_price=Decimal("10.00"),
        personalization={HOSTILE: HOSTILE, "name": LINK},
    )
    typed = incoming("1001", items=[item], customer_name=HOSTILE, customer_email=f"a@b.c{LINK}")
    odd = incoming(f"9{PING}", customer_name=f"Hostile {LINK}", placed_at=utcnow())
    with runtime.db.unit_of_work() as session:
        for order in (typed, odd):
            services.receive_order(session, order, runtime.policy, SYSTEM)
        session.execute(update(Order).values(problems=[HOSTILE]))
        for order in session.scalars(select(Order)):  # a failed attempt at its provider
            order.fulfillments.append(
                Fulfillment(
                    seq=1,
                    status=FulfillmentStatus.SUBMIT_FAILED,
                    provider="manual",
                    last_error=f"provider said {HOSTILE}",
                )
            )
    return "1001", odd.number


def test_every_slack_surface_escapes_outside_text(
    runtime: Runtime, slack: SlackSender, fake_slack: FakeSlack, policy, tmp_path: Path
) -> None:
    number, odd = hostile_orders(runtime, policy)
    scan_alerts(runtime, utcnow() + timedelta(days=30))  # both alerts
    drain(runtime)
    with runtime.db.unit_of_work() as session:
        services.hold(session, number, STAFF, HOSTILE)  # event notice + card update
        services.hold(session, OrderRef("main", odd), STAFF, HOSTILE)
    drain(runtime)
    preview = tmp_path / "odd-preview.png"
    Image.new("RGB", (8, 8)).save(preview)
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, OrderRef("main", odd))
        queue_previews(session, order, f"{HOSTILE} edited it", [preview], key="edit-1")
    enqueue_daily_summary(runtime.db, runtime.settings, utcnow() + timedelta(days=40))
    drain(runtime)
    slack.command("edit 1001")
    slack.button("cancel", "main:1001")
    wait_for(lambda: len(fake_slack.calls_to("views.open")) == 2)
    slack.button("release", "main:1001")
    acks = [
        slack.command(f"frobnicate {LINK}").json(),  # help with the unknown word
        slack.command(f"track 1001 UPS 1Z999 {PING} x").json(),  # a refusal quoting it
    ]
    typed = ("show 1001", f"hold 1001{PING}", f"find {PING}", "find Hostile", "summary")
    for text in (*typed, f"cancel 1001 {HOSTILE}"):
        slack.command(text)
    slack.event({"type": "app_home_opened", "user": "U1", "tab": "home"})
    wait_for(lambda: fake_slack.calls_to("views.publish"))
    wait_for(lambda: len(fake_slack.responses) >= 7)
    texts = [t for call in fake_slack.calls for t in mrkdwn_texts(call.params)]
    texts += [t for response in fake_slack.responses for t in mrkdwn_texts(response)]
    texts += [t for ack in acks for t in mrkdwn_texts(ack)]
    kinds = {call.method for call in fake_slack.calls}
    assert {"chat.postMessage", "chat.update", "views.open", "views.publish"} <= kinds
    assert_escaped(texts)
