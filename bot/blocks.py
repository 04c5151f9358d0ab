"""Block Kit builders: pure functions from the core's plain data to Slack JSON.

No Slack calls here; every builder can be tested by looking at its output.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.parsing import USAGE
from podops.ports.notify import DailySummary, Dashboard, EventNotice, NamedOrder, OrderCard

Block = dict[str, Any]
PreviewLink = Callable[[str], str | None]
MAX_ITEMS = 10
MAX_TEXT = 2900
BUTTONS = {
    "submit": ("Submit now", "primary"),
    "hold": ("Hold", None),
    "release": ("Release", None),
    "fulfilled": ("Already fulfilled", None),
    "edit": ("Edit", None),
    "cancel": ("Cancel", "danger"),
}
STATUS_EMOJI = {
    "pending": ":hourglass_flowing_sand:",
    "on_hold": ":double_vertical_bar:",
    "needs_design": ":art:",
    "submit_failed": ":warning:",
    "submitted": ":outbox_tray:",
    "shipped": ":package:",
    "completed": ":white_check_mark:",
    "cancelled": ":x:",
}


def text_block(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:MAX_TEXT]}}


def context_block(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:MAX_TEXT]}]}


def slack_date(moment: datetime) -> str:
    """A time every reader sees in their own zone."""
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def card_headline(card: OrderCard) -> str:
    emoji = STATUS_EMOJI.get(card.status, ":large_blue_circle:")
    line = f"{emoji} *Order {card.number}* ({card.store}) is *{card.status_label}*"
    if card.submit_at is not None:
        line += f" — submits {card.countdown} ({slack_date(card.submit_at)})"
    return line


def order_card_blocks(
    card: OrderCard, preview_link: PreviewLink | None = None, *, buttons: bool = True
) -> list[Block]:
    """The order as one message: status, countdown, items, tracking, last events."""
    facts = f"{escape(card.customer_name)} <mailto:{card.customer_email}|{card.customer_email}>"
    facts += f" · {card.total}"
    blocks = [text_block(card_headline(card)), context_block(facts)]
    warnings = [*card.problems]
    if card.hold_reason:
        by = f" (by {card.held_by})" if card.held_by else ""
        warnings.insert(0, f"held: {card.hold_reason}{by}")
        if card.design:
            warnings.insert(1, f"design: {card.design}")
    if card.last_error:
        warnings.append(f"last error: {card.last_error}")
    if warnings:
        blocks.append(text_block("\n".join(f":warning: {escape(w)}" for w in warnings)))
    item_lines = []
    for item in card.items[:MAX_ITEMS]:
        fields = ", ".join(f"{k}: _{escape(v)}_" for k, v in item.personalization.items())
        line = f"• `{item.reference}` {escape(item.name)} ×{item.quantity} ({item.sku})"
        if fields:
            line += f" — {fields}"
        link = preview_link(item.preview_file) if preview_link and item.preview_file else None
        if link:
            line += f" <{link}|preview>"
        if item.print_file_state == "stale":
            line += " _(print file out of date)_"
        item_lines.append(line)
    if len(card.items) > MAX_ITEMS:
        item_lines.append(f"… and {len(card.items) - MAX_ITEMS} more")
    if item_lines:
        blocks.append(text_block("\n".join(item_lines)))
    if card.tracking:
        blocks.append(
            text_block(
                "\n".join(
                    f":truck: {t.carrier} <{t.url}|{t.number}>"
                    if t.url
                    else f":truck: {t.carrier} {t.number}"
                    for t in card.tracking
                )
            )
        )
    if card.events:
        blocks.append(
            context_block("\n".join(f"{slack_date(e.at)} {escape(e.text)}" for e in card.events))
        )
    if buttons and card.actions:
        blocks.append(action_buttons(card))
    return blocks


def action_buttons(card: OrderCard) -> Block:
    elements = []
    for action in card.actions:
        label, style = BUTTONS[action]
        button: Block = {
            "type": "button",
            "action_id": f"order_{action}",
            "text": {"type": "plain_text", "text": label},
            "value": card.reference,
        }
        if style:
            button["style"] = style
        elements.append(button)
    return {"type": "actions", "block_id": f"order:{card.reference}", "elements": elements}


def submits(card: OrderCard) -> str:
    """', submits in 3h 05m' (or nothing when the order is not counting down)."""
    return f", submits {card.countdown}" if card.countdown else ""


def card_fallback(card: OrderCard) -> str:
    return f"Order {card.number} is {card.status_label}{submits(card)}"


def event_blocks(notice: EventNotice) -> list[Block]:
    prefix = ":rotating_light: " if notice.problem else ""
    return [text_block(prefix + escape(notice.text))]


def summary_blocks(summary: DailySummary) -> list[Block]:
    day = summary.day.strftime("%A %d %B %Y")
    numbers = (
        f"*Received* {summary.received}   *Submitted* {summary.submitted}   "
        f"*Shipped* {summary.shipped}   *Cancelled* {summary.cancelled}   "
        f"*Submit failures* {summary.submit_failures}"
    )
    ages = "   ".join(f"{label}: {count}" for label, count in summary.pending_by_age.items())
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": f"Daily summary — {day}"}},
        text_block(numbers),
        text_block(f"*Open orders by age*  {ages}"),
    ]
    if summary.late:
        blocks.append(text_block("*Late (no tracking yet)*\n" + named_lines(summary.late)))
    if summary.failed:
        blocks.append(text_block("*Submit failed*\n" + named_lines(summary.failed)))
    return blocks


def named_lines(orders: list[NamedOrder], limit: int = 20) -> str:
    lines = [
        f"• *{o.number}* {escape(o.customer_name)} — {o.status_label}, {o.age_days}d"
        + (f" — {escape(o.note)}" if o.note else "")
        for o in orders[:limit]
    ]
    if len(orders) > limit:
        lines.append(f"… and {len(orders) - limit} more")
    return "\n".join(lines)


def home_view(board: Dashboard) -> Block:
    counts = "   ".join(f"*{label}* {n}" for label, n in sorted(board.counts.items())) or "none"
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Orders"}},
        text_block(counts),
        {"type": "divider"},
        text_block("*Due soon*\n" + (named_lines(board.due_soon) or "nothing due")),
        text_block("*Needs a person*\n" + (named_lines(board.problems) or "nothing stuck")),
        context_block(f"Updated {slack_date(board.generated_at)}"),
    ]
    return {"type": "home", "blocks": blocks}


def help_blocks(unknown: str = "") -> list[Block]:
    lines = [f"`{usage}`" for usage in USAGE.values()]
    intro = f"I don't know `{escape(unknown)}`. " if unknown else ""
    return [text_block(intro + "What `/order` can do:\n" + "\n".join(lines))]


def find_blocks(query: str, cards: list[OrderCard]) -> list[Block]:
    if not cards:
        return [text_block(f"No order matches `{escape(query)}`.")]
    lines = [
        f"• *{c.number}* ({c.store}) {escape(c.customer_name)} · {c.status_label}{submits(c)}"
        for c in cards
    ]
    return [text_block(f"{len(cards)} order(s) match `{escape(query)}`:\n" + "\n".join(lines))]


def plain_input(block_id: str, label: str, value: str, *, optional: bool, multiline: bool) -> Block:
    element: Block = {"type": "plain_text_input", "action_id": "value", "multiline": multiline}
    if value:
        element["initial_value"] = value
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": {"type": "plain_text", "text": label[:2000]},
        "element": element,
    }


def edit_modal(card: OrderCard, metadata: dict[str, str], *, note: str = "") -> Block:
    """One input per personalization field of each line (or free `name=value` lines)."""
    blocks: list[Block] = [text_block(f":warning: {escape(note)}")] if note else []
    for item in card.items[:MAX_ITEMS]:
        position = int(item.reference.rsplit("-", 1)[1])
        blocks.append(text_block(f"*{item.reference}* {escape(item.name)} ({item.sku})"))
        if item.personalization:
            for name, value in item.personalization.items():
                block_id = f"f|{position}|{name}"[:255]
                blocks.append(plain_input(block_id, name, value, optional=True, multiline=False))
        else:
            blocks.append(
                plain_input(
                    f"raw|{position}",
                    "Fields, one `name=value` per line",
                    "",
                    optional=True,
                    multiline=True,
                )
            )
    submit = "Save and send" if note else "Save and render"
    return modal("order_edit", f"Edit order {card.number}", submit, blocks, metadata)


def cancel_modal(card: OrderCard, metadata: dict[str, str]) -> Block:
    blocks = [
        text_block(f"Cancel *order {card.number}* ({escape(card.customer_name)})?"),
        plain_input("reason", "Reason", "", optional=False, multiline=False),
    ]
    return modal("order_cancel", f"Cancel order {card.number}", "Cancel order", blocks, metadata)


def modal(
    callback_id: str, title: str, submit: str, blocks: list[Block], metadata: dict[str, str]
) -> Block:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": {"type": "plain_text", "text": title[:24]},
        "submit": {"type": "plain_text", "text": submit[:24]},
        "close": {"type": "plain_text", "text": "Close"},
        "private_metadata": json.dumps(metadata),
        "blocks": blocks,
    }
