"""A provider whose error answer quotes our API key: the key never reaches what
podops stores or shows (the order's last error, its events, the outbox, the Slack
order card, the sheet's rows): it is masked where the outside text enters."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.blocks import order_card_blocks
from podops import services
from podops.logs import MASK
from podops.models import Event, OutboxMessage
from podops.reports import order_card
from podops.runtime.root import Runtime
from podops.sheet.data import load_sheet_lines
from podops.sheet.rows import build_row
from podops.status import OrderStatus
from tests.fakes.customcat import API_KEY, Fault
from tests.fulfillment.conftest import Shop
from tests.reliability.conftest import every_text_in


def test_a_provider_error_quoting_the_key_is_stored_and_shown_masked(shop: Shop) -> None:
    Runtime(shop.settings)  # as every podops process does: the configured secrets are known
    number = shop.order()
    shop.customcat.inject(Fault(echo_request=True))
    shop.service.tick()
    order = shop.get(number)
    assert order.status == OrderStatus.SUBMIT_FAILED
    assert "Invalid shipping_method" in order.last_error and MASK in order.last_error
    with shop.db.unit_of_work() as session:
        stored = services.get_order(session, number)
        card = json.dumps(order_card_blocks(order_card(session, stored)))
        events = session.scalars(select(Event).where(Event.order_id == stored.id))
        timeline = " ".join(f"{e.action} {json.dumps(e.detail)}" for e in events)
        queued = " ".join(json.dumps(m.payload) for m in session.scalars(select(OutboxMessage)))
        cutoff = datetime.now(UTC) - timedelta(days=1)
        rows = [build_row(line, {}, UTC) for line in load_sheet_lines(session, cutoff=cutoff)]
    assert "Invalid shipping_method" in card
    shown = {"last error": order.last_error, "events": timeline, "outbox": queued,
             "Slack card": card, "sheet": json.dumps(rows, default=str),
             "database": every_text_in(shop.db)}  # fmt: skip
    assert [place for place, text in shown.items() if API_KEY in text] == []
