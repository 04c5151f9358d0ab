"""What each `/order` command and button does, as calls into the core.

Shared by slash commands, buttons and modals; returns a `Reply` to show the
person, and lets podops errors (refusals in words) propagate to the caller,
which shows them privately.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from bot import blocks
from bot.parsing import Command
from podops import reports, services, wording
from podops.events import Actor
from podops.fulfillment.late_design import accepts_design_changes, change_submitted_design
from podops.models import Order
from podops.notify.alerts import queue_previews
from podops.notify.summary import build_summary, yesterday
from podops.services.shipping import ShipLine
from podops.status import OrderStatus

if TYPE_CHECKING:
    from podops.ports.context import Everything

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    blocks: list[blocks.Block] | None = None


class Operations:
    def __init__(self, runtime: Everything, preview_link: blocks.PreviewLink | None = None) -> None:
        self.runtime = runtime
        self.preview_link = preview_link
        self._table: dict[str, Callable[[Command, Actor], Reply]] = {
            "submit": self.submit,
            "cancel": self.cancel,
            "hold": self.hold,
            "release": self.release,
            "show": self.show,
            "find": self.find,
            "track": self.track,
            "fulfilled": self.fulfilled,
            "remake": self.remake,
            "summary": self.summary,
            "help": self.help,
        }

    def run(self, command: Command, actor: Actor) -> Reply:
        return self._table[command.name](command, actor)

    def _done(self, order: Order, text: str) -> Reply:
        return Reply(f"Order {order.number} {text} ({OrderStatus(order.status).label}).")

    def submit(self, command: Command, actor: Actor) -> Reply:
        order = self.runtime.submission.submit_now(command.reference, actor)
        provider = f" to {order.provider} {order.provider_order_id or ''}".rstrip()
        return self._done(order, f"was sent{provider}")

    def cancel(self, command: Command, actor: Actor) -> Reply:
        with self.runtime.db.unit_of_work() as session:
            order = services.cancel(session, command.reference, actor, command.reason)
            return Reply(f"Order {order.number} {reports.after_staff_step(order)}.")

    def hold(self, command: Command, actor: Actor) -> Reply:
        with self.runtime.db.unit_of_work() as session:
            order = services.hold(session, command.reference, actor, command.reason)
            return Reply(f"Order {order.number} {reports.after_staff_step(order)}.")

    def release(self, command: Command, actor: Actor) -> Reply:
        with self.runtime.db.unit_of_work() as session:
            order = services.release(session, command.reference, actor)
            text = f"Order {order.number} {reports.after_staff_step(order)}"
        if text.endswith("needs design"):
            text += " (/order edit)"
        return Reply(f"{text}.")

    def track(self, command: Command, actor: Actor) -> Reply:
        lines = [ShipLine(sku, qty) for sku, qty in command.lines] or None
        with self.runtime.db.unit_of_work() as session:
            shipment = services.record_tracking(
                session,
                command.reference,
                command.carrier,
                command.tracking_number,
                actor,
                lines=lines,
            )
            order = shipment.order
            text = f"has tracking {shipment.carrier} {shipment.tracking_number}"
            warning = services.shipping.tracking_warning(session, shipment)
        reply = self._done(order, text)
        return Reply(f"{reply.text} :warning: {warning}") if warning else reply

    def fulfilled(self, command: Command, actor: Actor) -> Reply:
        """The shop fulfilled it by hand: completed, nothing sent (but the tracking)."""
        with self.runtime.db.unit_of_work() as session:
            order = services.record_fulfilled_by_shop(
                session,
                command.reference,
                actor,
                carrier=command.carrier,
                number=command.tracking_number,
            )
        told = "only its tracking goes to the store" if command.carrier else "nothing was sent"
        return self._done(order, f"is recorded as fulfilled by the shop; {told}")

    def remake(self, command: Command, actor: Actor) -> Reply:
        """Lines of a shipped order made again; they leave at the next countdown tick."""
        lines = [services.RemakeLine(position, qty) for position, qty in command.remade]
        with self.runtime.db.unit_of_work() as session:
            made = services.remake(
                session,
                command.reference,
                actor,
                reason=command.reason,
                paid_by=command.pays,
                lines=lines,
            )
            order = made[0].order
            sent = ", ".join(f"{part.reference} to {part.provider}" for part in made)
            return self._done(order, f"will be remade as {sent} at the next countdown tick")

    def card(self, reference: str) -> reports.OrderCard:
        with self.runtime.db.reading() as session:
            order = services.get_order(session, reference)
            return reports.order_card(session, order)

    def show(self, command: Command, actor: Actor) -> Reply:
        card = self.card(command.reference)
        return Reply(blocks.card_words(card), blocks.order_card_blocks(card, self.preview_link))

    def find(self, command: Command, actor: Actor) -> Reply:
        with self.runtime.db.reading() as session:
            found = services.find_orders(session, command.text, limit=15)
            cards = [reports.order_card(session, order) for order in found]
        return Reply(f"{len(cards)} order(s) match", blocks.find_blocks(command.text, cards))

    def summary(self, command: Command, actor: Actor) -> Reply:
        settings = self.runtime.settings
        result = build_summary(self.runtime.db, settings, yesterday(settings))
        return Reply(f"Summary for {result.day.isoformat()}", blocks.summary_blocks(result))

    def help(self, command: Command, actor: Actor) -> Reply:
        return Reply("What /order can do", blocks.help_blocks(command.unknown))

    def due_within(self) -> timedelta:
        return timedelta(minutes=self.runtime.settings.slack.alert_before_minutes)

    def late_design_provider(self, reference: str) -> str | None:
        """The provider that would still take a new design for this submitted order."""
        with self.runtime.db.unit_of_work() as session:
            order = services.get_order(session, reference)
            status, provider = OrderStatus(order.status), order.provider
        follow_up = self.runtime.follow_up
        return provider if accepts_design_changes(follow_up, status, provider) else None

    def edit(
        self, reference: str, changes: dict[int, dict[str, str]], actor: Actor, key: str
    ) -> Reply:
        """Save edited fields, re-render those lines, queue the new previews."""
        if self.late_design_provider(reference) is not None:
            return self._edit_after_submission(reference, changes, actor, key)
        with self.runtime.db.unit_of_work() as session:
            for position, fields in sorted(changes.items()):
                order = services.edit_personalization(session, reference, position, fields, actor)
            order = services.get_order(session, reference)
            number = order.number
        if not changes:
            return Reply(f"Nothing changed on order {number}.")
        outcomes = self.runtime.print_files.render_order(reference, actor, sorted(changes))
        previews = [o.preview_path for o in outcomes if o.ok and o.preview_path is not None]
        failures = [f"{o.reference}: {o.message}" for o in outcomes if not o.ok]
        with self.runtime.db.unit_of_work() as session:
            order = services.get_order(session, reference)
            text = f"{wording.actor_name(actor.name)} edited order {number}; new preview:"
            if previews:
                queue_previews(session, order, text, previews, key=key)
        text = f"Saved the changes to order {number} and rendered {len(previews)} preview(s)."
        if failures:
            text += " Could not render: " + "; ".join(failures)
        return Reply(text)

    def _edit_after_submission(
        self, reference: str, changes: dict[int, dict[str, str]], actor: Actor, key: str
    ) -> Reply:
        """Render aside, send to the provider, record only what it accepted."""
        change = change_submitted_design(
            self.runtime.follow_up, self.runtime.print_files, reference, changes, actor
        )
        if not change.previews:
            return Reply(f"Nothing changed on order {change.number}.")
        with self.runtime.db.unit_of_work() as session:
            order = services.get_order(session, reference)
            text = (
                f"{wording.actor_name(actor.name)} changed the design of order {change.number}; "
                f"{change.provider} has the new print files:"
            )
            queue_previews(session, order, text, change.previews, key=key)
        return Reply(
            f"Sent the new design of order {change.number} to {change.provider} and "
            f"rendered {len(change.previews)} preview(s)."
        )
