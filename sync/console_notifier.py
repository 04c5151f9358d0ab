"""The embedded default notifier (Slack off): the same alerts, events and
summary as plain text on the console, so a shop without Slack still sees them."""

from __future__ import annotations

import itertools
import sys
import threading
from pathlib import Path
from typing import TextIO

from podops.ports.notify import (
    DailySummary,
    Digest,
    EventNotice,
    NamedOrder,
    OrderCard,
    PartLine,
    PostKey,
    remakes_in_words,
    retrying_in_words,
)
from podops.refs import in_shell

RUSH = "[RUSH]"
"""How a rush order (its speed has its own countdown) is flagged in console text."""


def card_text(card: OrderCard) -> str:
    head = f"Order {card.number} ({card.store}) is {card.status_label}"
    if card.rush:
        head += f" {RUSH}"
    if card.countdown:
        head += f", submits {card.countdown}"
    lines = [head, f"  {card.customer_name} <{card.customer_email}>  {card.total}"]
    if card.shipping:
        lines.append(f"  ships {card.shipping}")
    if card.hold_reason:
        by = f" (by {card.held_by})" if card.held_by else ""
        lines.append(f"  held: {card.hold_reason}{by}")
    if card.design:
        lines.append(f"  design: {card.design}")
    lines += [f"  ! {problem}" for problem in card.problems]
    if card.last_error:
        lines.append(f"  last error: {card.last_error}")
    for item in card.items:
        fields = ", ".join(f"{k}: {v}" for k, v in item.personalization.items())
        lines.append(f"  - {item.reference} {item.name} x{item.quantity} ({item.sku}) {fields}")
    if card.split:
        lines += [f"  {part_text(part)}" for part in card.fulfillments]
    lines += [f"  tracking: {t.carrier} {t.number} {t.url}" for t in card.tracking]
    lines += [f"  {e.at:%Y-%m-%d %H:%M} {e.text}" for e in card.events]
    if card.actions:
        lines.append("  actions: " + ", ".join(command_for(a, card) for a in card.actions))
    return "\n".join(lines)


def part_text(part: PartLine) -> str:
    """One fulfillment (or the held lines) on one line."""
    units = ", ".join(f"{line} x{qty}" for line, qty in part.lines.items())
    if part.held:
        return f"held: {units} ({part.error})" if part.error else f"held: {units}"
    text = f"{part.label} {part.provider} {part.reference}: {part.status_label} ({units})"
    return f"{text} - {part.note}" if part.note else text


def command_for(action: str, card: OrderCard) -> str:
    """The command that does what the alert's button does, as staff would type it."""
    if action == "edit":
        line = " --line N" if len(card.items) > 1 else ""
        return f"podops edit {in_shell(card.number)}{line} FIELD=VALUE"
    if action == "cancel":
        return f'podops cancel {in_shell(card.number)} --reason "..."'
    return f"podops {action} {in_shell(card.number)}"


def named_text(title: str, orders: list[NamedOrder]) -> list[str]:
    if not orders:
        return []
    lines = [f"{title}:"]
    for order in orders:
        note = f" - {order.note}" if order.note else ""
        flag = f"{RUSH} " if order.rush else ""
        lines.append(
            f"  {flag}{order.number} {order.customer_name} ({order.status_label}, "
            f"{order.age_days}d){note}"
        )
    return lines


def summary_text(summary: DailySummary) -> str:
    lines = [
        f"Daily summary for {summary.day:%A %d %B %Y}",
        f"  received {summary.received}, submitted {summary.submitted}, shipped "
        f"{summary.shipped}, cancelled {summary.cancelled}, submit failures "
        f"{summary.submit_failures}",
        "  open orders by age: "
        + ", ".join(f"{label}: {count}" for label, count in summary.pending_by_age.items()),
    ]
    if summary.rush_received or summary.rush_waiting:
        lines.append(f"  {RUSH} orders received {summary.rush_received}")
        lines += named_text(f"{RUSH} orders not yet at their provider", summary.rush_waiting)
    lines += named_text("Late (no tracking yet)", summary.late)
    lines += named_text("Submit failed", summary.failed)
    lines += named_text("Split orders, parts apart", summary.split)
    if summary.remakes:
        lines.append(f"  remakes: {remakes_in_words(summary.remakes)}")
    if summary.retrying:
        lines.append(f"  retrying: {retrying_in_words(summary)}")
    lines += named_text("Returns", summary.returned)
    if summary.delivered:
        lines += named_text(f"Delivered ({summary.parcels_delivered} parcels)", summary.delivered)
    return "\n".join(lines)


class ConsoleNotifier:
    """Prints each message; references are `console:N` so threads still make sense.

    Post keys are ignored: a console line printed twice after a crash is harmless."""

    def __init__(self, stream: TextIO | None = None, image_dir: Path | None = None) -> None:
        self.stream = stream or sys.stdout
        self.image_dir = image_dir
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def _print(self, text: str) -> str:
        with self._lock:
            ref = f"console:{next(self._ids)}"
            print(f"[{ref}] {text}", file=self.stream, flush=True)
        return ref

    def post_alert(self, card: OrderCard, key: PostKey | None = None) -> str:
        return self._print("ALERT " + card_text(card))

    def update_alert(self, ref: str, card: OrderCard) -> None:
        # Slack edits the alert in place; on a console only the new headline is news.
        self._print(f"UPDATE {ref} " + card_text(card).split("\n", 1)[0])

    def post_event(
        self, notice: EventNotice, thread: str | None, key: PostKey | None = None
    ) -> str:
        where = f" (re {thread})" if thread else ""
        return self._print(("PROBLEM " if notice.problem else "") + notice.text + where)

    def post_summary(self, summary: DailySummary, key: PostKey | None = None) -> str:
        return self._print(summary_text(summary))

    def post_digest(self, digest: Digest, key: PostKey | None = None) -> str:
        lines = [digest.title, *named_text("Orders", digest.orders)[1:]]
        if digest.more:
            lines.append(f"  ... and {digest.more} more")
        return self._print("\n".join(lines))

    def post_report(self, title: str, lines: list[str], key: PostKey | None = None) -> str:
        return self._print("\n".join([title, *(f"  {line}" for line in lines)]))

    def post_image(
        self,
        ref: str,
        data: bytes,
        *,
        filename: str,
        title: str,
        in_thread: bool,
        key: PostKey | None = None,
    ) -> None:
        if self.image_dir is None:
            self._print(f"{title}: {filename} ({len(data)} bytes, not saved)")
            return
        self.image_dir.mkdir(parents=True, exist_ok=True)
        path = self.image_dir / Path(filename).name
        path.write_bytes(data)
        self._print(f"{title}: saved {path}")
