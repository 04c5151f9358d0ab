"""Block Kit builders for messages: pure functions from the core's plain data to
Slack JSON, within Slack's documented limits.

No Slack calls here; every builder can be tested by looking at its output. Every
mrkdwn text is `Mrkdwn` (bot.mrkdwn): outside text is escaped on its way in.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from bot.mrkdwn import Mrkdwn, lines, link, md, slack_date
from bot.parsing import USAGE
from podops.photos import PhotoStatus
from podops.ports.notify import (
    DailySummary,
    Dashboard,
    Digest,
    EventNotice,
    NamedOrder,
    OrderCard,
    PartLine,
    remakes_in_words,
    retrying_in_words,
)

Block = dict[str, Any]
PLAIN_EMAIL = re.compile(r"[^@\s<>|&]+@[^@\s<>|&]+")
PreviewLink = Callable[[str], str | None]
MAX_ITEMS = 10
MAX_TEXT = 3000  # a section's or context element's text (Slack's limit)
MAX_HEADER = 150  # a header's plain_text
MAX_MESSAGE_TEXT = 4000  # the top-level `text`: Slack truncates longer ones
BUTTONS = {
    "submit": ("Submit now", "primary"),
    "hold": ("Hold", None),
    "release": ("Release", None),
    "fulfilled": ("Already fulfilled", None),
    "edit": ("Edit", None),
    "cancel": ("Cancel", "danger"),
}
RUSH_FLAG = ":zap: *RUSH*"
"""How a rush order (a speed with its own countdown) is flagged on every card and line."""
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


def text_block(text: Mrkdwn) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text.cut(MAX_TEXT).text}}


def context_block(text: Mrkdwn) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text.cut(MAX_TEXT).text}]}


def header_block(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": text[:MAX_HEADER]}}


def message_text(text: Mrkdwn) -> str:
    """The top-level `text` of a message (its notification and fallback)."""
    return text.cut(MAX_MESSAGE_TEXT).text


def reply_blocks(text: str) -> list[Block]:
    """A sentence for one person, as blocks."""
    return [text_block(md("{}", text))]


def card_headline(card: OrderCard) -> Mrkdwn:
    emoji = STATUS_EMOJI.get(card.status, ":large_blue_circle:")
    line = md(emoji + " *Order {}* ({}) is *{}*", card.number, card.store, card.status_label)
    if card.rush:
        line += Mrkdwn(" " + RUSH_FLAG)
    if card.submit_at is not None:
        line += md(" — submits {} ({})", card.countdown, slack_date(card.submit_at))
    return line


def _item_line(item: Any, preview_link: PreviewLink | None) -> Mrkdwn:
    fields = Mrkdwn(", ").join(md("{}: _{}_", k, v) for k, v in item.personalization.items())
    line = md("• `{}` {} ×{} ({})", item.reference, item.name, item.quantity, item.sku)
    if fields:
        line += md(" — {}", fields)
    previews = item.placed_previews or (("", item.preview_file),)
    for placement, preview in previews:
        url = preview_link(preview) if preview_link and preview else None
        if url:
            line += md(" {}", link(url, f"{placement} preview".strip()))
    if item.print_file_state == "stale":
        line += Mrkdwn(" _(print file out of date)_")
    for photo in item.photos:
        line += _photo_note(photo)
    return line


def _photo_note(photo: PhotoStatus) -> Mrkdwn:
    """` — photo 44 DPI :warning: (at least 150 wanted), zoom=2 x=0% y=0%`"""
    if photo.dpi is None or photo.fit is None:
        return Mrkdwn("") if photo.crop.is_default else md(" — {} {}", photo.field, photo.crop.text)
    note = md(" — {} {} DPI", photo.field, photo.dpi)
    if photo.low:
        note += md(" :warning: (at least {} wanted)", photo.fit.min_dpi)
    elif photo.accepted:
        note += Mrkdwn(" (accepted as it is)")
    if not photo.crop.is_default:
        note += md(", {}", photo.crop.text)
    return note


def _part_line(part: PartLine) -> Mrkdwn:
    """One fulfillment: emoji, part, provider, reference, status, its lines, its note."""
    units = Mrkdwn(", ").join(md("`{}` ×{}", line, qty) for line, qty in part.lines.items())
    if part.held:
        return md(":double_vertical_bar: *held* — ") + units + md(" — {}", part.error)
    emoji = PART_EMOJI.get(part.status, ":package:")
    line = md(
        emoji + " {} · {} · `{}` · *{}* — ",
        part.label,
        part.provider,
        part.reference,
        part.status_label,
    )
    line += units
    return line + md(" — {}", part.note) if part.note else line


PART_EMOJI = {"submit_failed": ":x:", "shipped": ":truck:", "cancelled": ":heavy_minus_sign:"}


def order_card_blocks(
    card: OrderCard, preview_link: PreviewLink | None = None, *, buttons: bool = True
) -> list[Block]:
    """The order as one message: status, countdown, items, tracking, last events."""
    email = (
        link(f"mailto:{card.customer_email}", card.customer_email)
        if PLAIN_EMAIL.fullmatch(card.customer_email)
        else md("{}", card.customer_email)
    )
    facts = md("{} {} · {}", card.customer_name, email, card.total)
    if card.shipping:
        facts += md(" · ships {}", card.shipping)
    blocks = [text_block(card_headline(card)), context_block(facts)]
    if card.address:
        ship_to = md(":house: {}", ship_to_line(card.address))
        if card.address_check:
            ship_to = ship_to + md(" ({})", card.address_check)
        blocks.append(context_block(ship_to))
    warnings = [*card.problems]
    if card.hold_reason:
        by = f" (by {card.held_by})" if card.held_by else ""
        warnings.insert(0, f"held: {card.hold_reason}{by}")
        if card.design:
            warnings.insert(1, f"design: {card.design}")
    if card.last_error:
        warnings.append(f"last error: {card.last_error}")
    if warnings:
        blocks.append(text_block(lines(md(":warning: {}", w) for w in warnings)))
    item_lines = [_item_line(item, preview_link) for item in card.items[:MAX_ITEMS]]
    if len(card.items) > MAX_ITEMS:
        item_lines.append(md("… and {} more", len(card.items) - MAX_ITEMS))
    if item_lines:
        blocks.append(text_block(lines(item_lines)))
    if card.split:
        blocks.append(text_block(lines(_part_line(part) for part in card.fulfillments)))
    if card.tracking:
        blocks.append(
            text_block(
                lines(md(":truck: {} {}", t.carrier, link(t.url, t.number)) for t in card.tracking)
            )
        )
    if card.returned:
        blocks.append(text_block(md(":leftwards_arrow_with_hook: *Returned*  {}", card.returned)))
    if card.events:
        blocks.append(
            context_block(lines(md("{} {}", slack_date(e.at), e.text) for e in card.events))
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
    return {"type": "actions", "block_id": f"order:{card.reference}"[:255], "elements": elements}


def submits(card: OrderCard) -> str:
    """', submits in 3h 05m' (or nothing when the order is not counting down)."""
    return f", submits {card.countdown}" if card.countdown else ""


def ship_to_line(address: dict[str, str]) -> str:
    """The address on one line, as the order card shows it (not yet escaped)."""
    place = " ".join(address.get(k, "") for k in ("city", "state", "postcode")).split()
    parts = [address.get(k, "") for k in ("name", "company", "line1", "line2")]
    parts += [" ".join(place), address.get("country", "")]
    return ", ".join(part for part in parts if part)


def card_words(card: OrderCard) -> str:
    """The order in one plain sentence (not yet escaped)."""
    return f"Order {card.number} is {card.status_label}{submits(card)}"


def card_fallback(card: OrderCard) -> str:
    """The alert's top-level text, escaped."""
    return message_text(md("{}", card_words(card)))


def event_blocks(notice: EventNotice) -> list[Block]:
    prefix = Mrkdwn(":rotating_light: " if notice.problem else "")
    return [text_block(prefix + md("{}", notice.text))]


def event_text(notice: EventNotice) -> str:
    return message_text(md("{}", notice.text))


def summary_blocks(summary: DailySummary) -> list[Block]:
    day = summary.day.strftime("%A %d %B %Y")
    numbers = md(
        "*Received* {}   *Submitted* {}   *Shipped* {}   *Cancelled* {}   *Submit failures* {}",
        summary.received,
        summary.submitted,
        summary.shipped,
        summary.cancelled,
        summary.submit_failures,
    )
    ages = Mrkdwn("   ").join(md("{}: {}", label, n) for label, n in summary.pending_by_age.items())
    blocks = [
        header_block(f"Daily summary — {day}"),
        text_block(numbers),
        text_block(md("*Open orders by age*  {}", ages)),
    ]
    if summary.rush_received or summary.rush_waiting:
        waiting = named_lines(summary.rush_waiting) if summary.rush_waiting else Mrkdwn("none")
        rush = md(
            "{} orders received {}; not yet at their provider:\n",
            Mrkdwn(RUSH_FLAG),
            summary.rush_received,
        )
        blocks.append(text_block(rush + waiting))
    if summary.late:
        blocks.append(text_block(md("*Late (no tracking yet)*\n{}", named_lines(summary.late))))
    if summary.failed:
        blocks.append(text_block(md("*Submit failed*\n{}", named_lines(summary.failed))))
    if summary.split:
        blocks.append(text_block(md("*Split orders, parts apart*\n{}", named_lines(summary.split))))
    if summary.remakes:
        blocks.append(text_block(md("*Remakes*  {}", remakes_in_words(summary.remakes))))
    if summary.retrying:
        blocks.append(text_block(md("*Retrying*  {}", retrying_in_words(summary))))
    if summary.returned:
        blocks.append(text_block(md("*Returns*\n{}", named_lines(summary.returned))))
    if summary.delivered:
        delivered = md("*Delivered*  {} parcel(s)\n", summary.parcels_delivered)
        blocks.append(text_block(delivered + named_lines(summary.delivered)))
    return blocks


def digest_blocks(digest: Digest) -> list[Block]:
    """Many orders in one message: what happened, then each order on a line."""
    listed = named_lines(digest.orders, limit=len(digest.orders))
    if digest.more:
        listed += md("\n… and {} more", digest.more)
    return [text_block(md("{}", digest.title)), text_block(listed)]


def report_blocks(title: str, lines: list[str]) -> list[Block]:
    """A report's headline numbers: its title, then each line as it was written."""
    body = Mrkdwn("\n").join(md("{}", line) for line in lines) if lines else md("(nothing)")
    return [header_block(title[:150]), text_block(body)]


def digest_text(digest: Digest) -> str:
    return message_text(md("{}", digest.title))


def named_lines(orders: list[NamedOrder], limit: int = 20) -> Mrkdwn:
    found = [
        md(
            "• {}*{}* {} — {}, {}d",
            Mrkdwn(RUSH_FLAG + " " if o.rush else ""),
            o.number,
            o.customer_name,
            o.status_label,
            o.age_days,
        )
        + (md(" — {}", o.note) if o.note else Mrkdwn(""))
        for o in orders[:limit]
    ]
    if len(orders) > limit:
        found.append(md("… and {} more", len(orders) - limit))
    return lines(found)


def home_view(board: Dashboard) -> Block:
    counts = Mrkdwn("   ").join(
        md("*{}* {}", label, n) for label, n in sorted(board.counts.items())
    )
    blocks = [
        header_block("Orders"),
        text_block(counts or Mrkdwn("none")),
        {"type": "divider"},
        text_block(md("*Due soon*\n{}", named_lines(board.due_soon) or Mrkdwn("nothing due"))),
        text_block(
            md("*Needs a person*\n{}", named_lines(board.problems) or Mrkdwn("nothing stuck"))
        ),
        context_block(md("Updated {}", slack_date(board.generated_at))),
    ]
    return {"type": "home", "blocks": blocks}


def help_blocks(unknown: str = "") -> list[Block]:
    usages = lines(md("`{}`", usage) for usage in USAGE.values())
    intro = md("I don't know `{}`. ", unknown) if unknown else Mrkdwn("")
    return [text_block(intro + md("What `/order` can do:\n{}", usages))]


def find_blocks(query: str, cards: list[OrderCard]) -> list[Block]:
    if not cards:
        return [text_block(md("No order matches `{}`.", query))]
    found = lines(
        md("• *{}* ({}) {} · {}{}", c.number, c.store, c.customer_name, c.status_label, submits(c))
        + (md(" · returned: {}", c.returned) if c.returned else md(""))
        for c in cards
    )
    return [text_block(md("{} order(s) match `{}`:\n{}", len(cards), query, found))]
