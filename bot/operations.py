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

from bot import blocks, photo_form
from bot.parsing import Command
from podops import reports, services, wording
from podops.errors import OrderLocked, PodopsError
from podops.events import Actor
from podops.fulfillment.address_change import AddressOutcome, AddressRoute
from podops.fulfillment.late_design import accepts_design_changes, change_submitted_design
from podops.models import Order
from podops.notify.alerts import queue_previews
from podops.notify.summary import build_summary, yesterday
from podops.order_views import parse_view
from podops.ports.storage import file_name
from podops.services.design_gate import (
    design_locked,
    design_may_change,
    provider_of,
    unsent_lines,
)
from podops.services.field_edits import FieldEdit
from podops.services.orders import line_of
from podops.services.shipping import ShipLine
from podops.status import OrderStatus

if TYPE_CHECKING:
    from podops.ports.context import Everything

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Upload:
    """A file to share with the reply (a bought label's PDF)."""

    filename: str
    data: bytes
    title: str


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    blocks: list[blocks.Block] | None = None
    public: bool = False
    """Said in the channel (a label bought: the packers see it), not only to the asker."""
    upload: Upload | None = None


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
            "return": self.give_back,
            "label": self.label,
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

    def give_back(self, command: Command, actor: Actor) -> Reply:
        """Goods that came back: the whole order, or the lines and units named."""
        lines = [services.ReturnWanted(position, qty) for position, qty in command.remade]
        with self.runtime.db.unit_of_work() as session:
            made = services.return_order(
                session, command.reference, actor, command.reason, lines=lines
            )
            back = ", ".join(f"{rl.line_item.reference} x{rl.quantity}" for rl in made.lines)
            return self._done(made.order, f"is recorded as returned: {back} came back")

    def label(self, command: Command, actor: Actor) -> Reply:
        """Buy the parcel's label (EasyPost): the rate, price and tracking said in the
        channel with the label's PDF; a refusal raises (said privately by the caller)."""
        lines = [ShipLine(line, qty) for line, qty in command.remade] or None
        desk = self.runtime.labels
        bought = desk.buy(command.reference, actor, lines=lines, rate=command.rate or None)
        text = f"{wording.actor_name(actor.name)} bought a label: {bought.words}"
        upload = None
        if bought.pdf is not None:
            try:
                data = desk.read_file(bought.pdf)
                title = f"Label {bought.carrier} {bought.tracking_number} - order {bought.order}"
                upload = Upload(file_name(bought.pdf), data, title)
            except PodopsError as exc:
                text += f" :warning: the label file could not be read: {exc.message}"
        return Reply(text, public=True, upload=upload)

    def card(self, reference: str) -> reports.OrderCard:
        with self.runtime.db.reading() as session:
            order = services.get_order(session, reference)
            return reports.order_card(session, order)

    def show(self, command: Command, actor: Actor) -> Reply:
        card = self.card(command.reference)
        return Reply(blocks.card_words(card), blocks.order_card_blocks(card, self.preview_link))

    def find(self, command: Command, actor: Actor) -> Reply:
        with self.runtime.db.reading() as session:
            views = [parse_view(state) for state in command.states]
            found = services.find_orders(session, command.text, views=views, limit=15)
            cards = [reports.order_card(session, order) for order in found]
        asked = " ".join([command.text, *(f"--state {s}" for s in command.states)]).strip()
        return Reply(f"{len(cards)} order(s) match", blocks.find_blocks(asked, cards))

    def summary(self, command: Command, actor: Actor) -> Reply:
        settings = self.runtime.settings
        result = build_summary(self.runtime.db, settings, yesterday(settings))
        return Reply(f"Summary for {result.day.isoformat()}", blocks.summary_blocks(result))

    def help(self, command: Command, actor: Actor) -> Reply:
        return Reply("What /order can do", blocks.help_blocks(command.unknown))

    def due_within(self) -> timedelta:
        return timedelta(minutes=self.runtime.settings.slack.alert_before_minutes)

    def address_route(self, reference: str) -> AddressRoute:
        """Where a change of the order's address would go (the form's address section)."""
        with self.runtime.db.reading() as session:
            return self.runtime.addresses.route(services.get_order(session, reference))

    def lines_not_sent(self, reference: str) -> list[tuple[int, str]]:
        """After submission, the lines no provider has yet (position, label): a split
        order's failed part, a line routed late, a remake not sent. Their design may
        still change here; empty before submission."""
        with self.runtime.db.reading() as session:
            order = services.get_order(session, reference)
            return [(item.position, item.reference) for item in unsent_lines(order)]

    def lines_at_providers(self, reference: str) -> dict[int, str]:
        """Line position -> the provider and part that have it (`cc, part 1`), for the
        lines whose design can no longer change here."""
        with self.runtime.db.reading() as session:
            order = services.get_order(session, reference)
            return {
                item.position: provider_of(order, item) or "its provider"
                for item in order.items
                if not design_may_change(order, item)
            }

    def design_refusal(self, reference: str, position: int) -> str | None:
        """Why the line's design cannot change here (None: it can)."""
        with self.runtime.db.reading() as session:
            order = services.get_order(session, reference)
            item = line_of(order, position)
            return None if design_may_change(order, item) else design_locked(order, item)

    def late_design_provider(self, reference: str) -> str | None:
        """The provider that would still take a new design for this submitted order."""
        with self.runtime.db.unit_of_work() as session:
            order = services.get_order(session, reference)
            status, provider = OrderStatus(order.status), order.provider
        follow_up = self.runtime.follow_up
        return provider if accepts_design_changes(follow_up, status, provider) else None

    def edit(
        self,
        reference: str,
        changes: dict[int, dict[str, str]],
        actor: Actor,
        key: str,
        *,
        speed: str = "",
        photos: photo_form.PhotoChanges | None = None,
        address: dict[str, str] | None = None,
    ) -> Reply:
        """Save the shipping speed, the address, edited fields, photo crops and accepted
        resolutions, re-render those lines, queue the new previews.

        Every line's change is checked first (its template's fields, photo links
        fetched and decoded): one refusal saves nothing. Before submission the address
        and the fields are saved in one transaction (all or nothing); an order at its
        provider gets the address, then the design, sent there."""
        photos = photos or photo_form.PhotoChanges()
        self._refuse_lines_at_provider(reference, changes, photos)
        checked = self.runtime.field_checks.check_lines(reference, changes)
        route = self.address_route(reference)
        at_provider = route.provider is not None
        # a split order's part whose provider kept an older address gets the one shown
        resend = bool(route.behind) and not route.refusal
        if at_provider and not self.lines_not_sent(reference):
            photo_form.refuse_after_submission(photos, reference)
            return self._edit_at_provider(reference, checked, actor, key, address or {}, resend)
        shipped = self._set_speed(reference, speed, actor) if speed else ""
        moved = ""
        if at_provider and (address or resend):  # a split order's part not sent yet
            moved = _address_words(self.runtime.addresses.change(reference, address or {}, actor))
            address = None
        with self.runtime.db.unit_of_work() as session:
            number = services.get_order(session, reference).number
            if address:
                change = self.runtime.addresses.change_in(session, reference, address, actor)
                moved = AddressOutcome(number, change.changed).words if change.changed else ""
            for edit in checked:
                services.edit_fields(session, edit, actor)
            accepted = photo_form.save(session, reference, photos, actor)
        said = " ".join(words for words in (shipped, moved) if words)
        edited = {edit.position for edit in checked if not edit.empty}
        if not edited and not photos.crops and not accepted:
            return Reply(said or f"Nothing changed on order {number}.")
        if accepted and not edited and not photos.crops:
            told = self._accepted(reference, accepted).text
            return Reply(f"{said} {told}".strip())
        outcomes = self.runtime.print_files.render_order(
            reference, actor, sorted({*edited, *photos.crops})
        )
        previews = [o.preview for o in outcomes if o.ok and o.preview is not None]
        failures = [f"{o.reference}: {o.message}" for o in outcomes if not o.ok]
        with self.runtime.db.unit_of_work() as session:
            order = services.get_order(session, reference)
            text = f"{wording.actor_name(actor.name)} edited order {number}; new preview:"
            if previews:
                queue_previews(session, order, text, previews, key=key)
        text = f"Saved the changes to order {number} and rendered {len(previews)} preview(s)."
        if failures:
            text += " Could not render: " + "; ".join(failures)
        if accepted:
            text += " " + self._accepted(reference, accepted).text
        return Reply(f"{said} {text}".strip())

    def _refuse_lines_at_provider(
        self, reference: str, changes: dict[int, dict[str, str]], photos: photo_form.PhotoChanges
    ) -> None:
        """A split order's line already at its provider is never edited here (its form
        shows it read-only; a form opened before it left may still carry it): refused
        before anything changes, naming the provider that has it."""
        if not self.lines_not_sent(reference):
            return  # before submission every line may change; after it, the late design path
        for position in sorted({*changes, *photos.crops, *photos.accepts}):
            locked = self.design_refusal(reference, position)
            if locked:
                raise OrderLocked(locked)

    def _set_speed(self, reference: str, speed: str, actor: Actor) -> str:
        """Ship the order at `speed`; a sentence when that changed something."""
        with self.runtime.db.unit_of_work() as session:
            changed = services.set_shipping_speed(
                session, reference, speed, actor, self.runtime.policy
            )
            order = services.get_order(session, reference)
            rush = " (rush)" if order.rush else ""
            where = reports.after_staff_step(order)
            text = f"Order {order.number} ships {order.shipping_speed}{rush} now and {where}."
        return text if changed else ""

    def _accepted(self, reference: str, photos: list[str]) -> Reply:
        """`The photo of line 1 prints as it is; order 1234 is back in the countdown...`"""
        with self.runtime.db.reading() as session:
            order = services.get_order(session, reference)
            status = OrderStatus(order.status)
            where = (
                "still needs design"
                if status == OrderStatus.NEEDS_DESIGN
                else reports.after_staff_step(order)
            )
            prints = "prints as it is" if len(photos) == 1 else "print as they are"
            return Reply(f"The {', '.join(photos)} {prints}; order {order.number} {where}.")

    def _edit_at_provider(
        self,
        reference: str,
        changes: list[FieldEdit],
        actor: Actor,
        key: str,
        address: dict[str, str],
        resend: bool = False,
    ) -> Reply:
        """The address goes to the provider first; then the design, where it takes one."""
        said = ""
        if address or resend:
            said = _address_words(self.runtime.addresses.change(reference, address, actor))
        if not changes:
            return Reply(said or "Nothing changed.")
        design = self._edit_after_submission(reference, changes, actor, key)
        return Reply(f"{said} {design.text}".strip())

    def _edit_after_submission(
        self, reference: str, changes: list[FieldEdit], actor: Actor, key: str
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


def _address_words(outcome: AddressOutcome) -> str:
    """The desk's answer; a split order whose one provider kept the old address is a
    warning (the parts named, and how to send it to them again)."""
    return f":warning: {outcome.words}" if outcome.partial else outcome.words
