"""Where staff see a split order: the Slack card (and the console's), the sheet's rows
and the daily summary each show every fulfillment, its provider, reference and status,
and a part that failed beside the one going on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.blocks import order_card_blocks, summary_blocks
from podops import reports, services
from podops.outbox.messages import summary_from_payload, summary_to_payload
from podops.sheet.data import load_sheet_lines
from podops.sheet.rows import FIXED_HEADERS, FULFILLMENT, build_row
from sync.console_notifier import card_text, summary_text
from tests.fulfillment.conftest import Shop
from tests.fulfillment.test_mixed_carts import mixed_order


def failed_second_part(shop: Shop) -> str:
    number = mixed_order(shop)
    shop.shineon.unknown_skus.add("SO-MUG")
    shop.service.tick()
    return number


def test_the_order_card_lists_each_part(shop: Shop) -> None:
    number = failed_second_part(shop)
    with shop.db.unit_of_work() as session:
        card = reports.order_card(session, services.get_order(session, number))
    assert [(p.label, p.provider, p.reference, p.status) for p in card.fulfillments] == [
        ("part 1", "cc", f"main-{number}", "submitted"),
        ("part 2", "so", f"main--{number}_P2", "submit_failed"),
    ]
    slack = str(order_card_blocks(card))
    assert f"part 2 · so · `main--{number}_P2` · *submit failed*" in slack
    assert "SO-MUG is invalid" in slack and f"`{number}-01` ×2" in slack
    console = card_text(card)
    assert f"part 1 cc main-{number}: submitted ({number}-01 x2)" in console
    assert f"part 2 so main--{number}_P2: submit failed ({number}-02 x1) - " in console


def test_a_single_provider_order_keeps_its_card(shop: Shop) -> None:
    number = shop.order()
    shop.service.tick()
    with shop.db.unit_of_work() as session:
        card = reports.order_card(session, services.get_order(session, number))
    assert not card.split
    assert "part 1" not in str(order_card_blocks(card))


def test_each_sheet_row_names_its_part(shop: Shop) -> None:
    number = failed_second_part(shop)
    with shop.db.unit_of_work() as session:
        lines = load_sheet_lines(session, cutoff=datetime.now(UTC) - timedelta(days=30))
    parts = {line.reference: line.part for line in lines if line.order_number == number}
    assert parts[f"{number}-01"] == f"cc main-{number}: submitted"
    assert parts[f"{number}-02"].startswith(f"so main--{number}_P2: submit failed: ShineOn")
    row = build_row(next(line for line in lines if line.order_number == number), {}, UTC)
    assert row[FIXED_HEADERS.index(FULFILLMENT)] == f"cc main-{number}: submitted"


def test_the_daily_summary_names_split_orders_and_their_failed_part(shop: Shop) -> None:
    number = failed_second_part(shop)
    today = datetime.now(UTC).date()
    with shop.db.unit_of_work() as session:
        summary = reports.daily_summary(session, today, UTC, late_after_days=3)
    failed = {o.number: o.note for o in summary.failed}
    assert failed[number].startswith("part 2: ShineOn (so) refused")
    split = {o.number: o.note for o in summary.split}
    assert split[number] == f"cc main-{number} submitted; so main--{number}_P2 submit failed"
    again = summary_from_payload(summary_to_payload(summary))  # as the outbox carries it
    assert "Split orders" in str(summary_blocks(again)) and number in summary_text(again)


def test_the_app_home_lists_an_order_going_on_without_a_part(shop: Shop) -> None:
    number = failed_second_part(shop)
    with shop.db.unit_of_work() as session:
        board = reports.dashboard(session, due_within=timedelta(hours=1))
    assert [(o.number, o.note[:7]) for o in board.problems] == [(number, "part 2:")]
