"""Opening the edit and cancel modals (from `/order edit` or an alert button)."""

from __future__ import annotations

import logging
from dataclasses import replace

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import modal_blocks
from bot.app import Bot
from bot.blocks import Block
from bot.field_form import form_values
from podops.errors import PodopsError
from podops.ports.notify import OrderCard
from podops.status import BEFORE_SUBMISSION, OrderStatus

log = logging.getLogger(__name__)


def open_edit_modal(
    bot: Bot, client: WebClient, trigger_id: str, reference: str, channel: str
) -> str:
    """Open the edit form; return a refusal in words instead when it cannot be edited."""
    try:
        card = bot.ops.card(reference)
        route = bot.ops.address_route(card.reference)
    except PodopsError as exc:
        return f":no_entry: {exc.message}"
    note, address_note, design = "", "", True
    cropped: list[int] | None = None
    at_provider: dict[int, str] = {}
    if OrderStatus(card.status) not in BEFORE_SUBMISSION:
        try:
            provider = bot.ops.late_design_provider(card.reference)
            waiting = [] if provider else bot.ops.lines_not_sent(card.reference)
        except PodopsError as exc:
            return f":no_entry: {exc.message}"
        design = provider is not None or bool(waiting)
        if waiting:  # a split order's part not at a provider yet: its lines may change
            cropped = [position for position, _ in waiting]
            named = ", ".join(label for _, label in waiting)
            try:
                at_provider = bot.ops.lines_at_providers(card.reference)
            except PodopsError as exc:
                return f":no_entry: {exc.message}"
            note = (
                f"Order {card.number} is at its providers except {named}: only the fields "
                "of the lines not sent yet can change here; the lines at a provider are "
                "shown as sent."
            )
        if not design and route.refusal:
            return (
                f":no_entry: order {card.number} is {card.status_label}; its design can no "
                f"longer be changed (it was sent to the provider), nor its address here: "
                f"{route.refusal}"
            )
        if provider is not None:
            note = (
                f"Order {card.number} is already at {provider}. Saving renders the new design "
                f"and sends it to {provider}, which takes it only until production starts."
            )
        if route.provider is not None and not route.refusal:
            address_note = f"sent to {route.provider}, which has the order"
            if route.behind:  # a provider kept an older address: saving sends it this one
                address_note += (
                    f" ({'; '.join(route.behind)}: saving sends the address below there again)"
                )
    try:
        card = with_template_fields(card, form_values(bot.runtime, card.reference))
    except PodopsError as exc:
        return f":no_entry: {exc.message}"
    metadata = {"reference": card.reference, "channel": channel}
    speeds = [] if note else bot.runtime.policy.store(card.store).shipping.speeds
    view = modal_blocks.edit_modal(
        card,
        metadata,
        note=note,
        speeds=speeds,
        design=design,
        address=not route.refusal,
        address_note=address_note,
        cropped=cropped,
        at_provider=at_provider,
    )
    return _open(client, trigger_id, view)


def with_template_fields(card: OrderCard, values: dict[int, dict[str, str]]) -> OrderCard:
    """The card with each line's form fields (`bot.field_form`) as its personalization."""
    items = [
        replace(item, personalization=values.get(modal_blocks.position(item), {}))
        for item in card.items
    ]
    return replace(card, items=items)


def open_cancel_modal(
    bot: Bot, client: WebClient, trigger_id: str, reference: str, channel: str
) -> str:
    try:
        card = bot.ops.card(reference)
    except PodopsError as exc:
        return f":no_entry: {exc.message}"
    view = modal_blocks.cancel_modal(card, {"reference": card.reference, "channel": channel})
    return _open(client, trigger_id, view)


def _open(client: WebClient, trigger_id: str, view: Block) -> str:
    try:
        client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as exc:
        log.warning("views.open failed: %s", exc.response.get("error"))
        return ":hourglass: Slack did not open the form in time; please try again."
    return ""
