"""Modal submissions. Field errors are answered in the ack with
`response_action: errors` (the modal stays open, nothing changes); valid
submissions close the modal and the work runs lazily."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.app import Bot, attempt, slack_actor
from bot.deliveries import claim, delivery_id
from bot.field_form import form_values
from bot.forms import (
    ADDRESS_BLOCK,
    SHIPPING_BLOCK,
    EditForm,
    address_blocks_in,
    design_blocks_in,
    read_edit_form,
    read_reason,
)
from bot.operations import Reply
from bot.parsing import Command
from bot.replies import tell_privately
from podops import services
from podops.address import check_change, shown
from podops.errors import InvalidInput, OrderLocked, PodopsError
from podops.fulfillment.address_change import AddressRoute
from podops.photos import PhotoStatus, photo_statuses
from podops.services.shipping_speed import check_speed
from podops.status import BEFORE_SUBMISSION, OrderStatus

log = logging.getLogger(__name__)


def metadata(view: dict[str, Any]) -> dict[str, str]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def current_fields(bot: Bot, reference: str) -> dict[int, dict[str, str]]:
    """The order's personalization per line; refuses when it can no longer change
    (submitted, unless its provider still takes a new design)."""
    with bot.runtime.db.unit_of_work() as session:
        order = services.get_order(session, reference)
        status, number = OrderStatus(order.status), order.number
    if (
        status not in BEFORE_SUBMISSION
        and bot.ops.late_design_provider(reference) is None
        and not bot.ops.lines_not_sent(reference)  # a split order's part not sent yet
    ):
        raise OrderLocked(f"order {number} is {status.label}; its design can no longer be changed")
    return form_values(bot.runtime, reference)


def current_photos(bot: Bot, reference: str) -> dict[int, dict[str, PhotoStatus]]:
    """The order's photos per line (crop, measured DPI), to check what was typed."""
    with bot.runtime.db.reading() as session:
        order = services.get_order(session, reference)
        return {
            item.position: {p.field: p for p in photo_statuses(item.photos, item.image_urls)}
            for item in order.items
        }


def check_edit(bot: Bot, body: dict[str, Any], view: dict[str, Any]) -> EditForm:
    form = EditForm()
    values = view.get("state", {}).get("values", {})
    first = next(iter(values), "reason")
    try:
        bot.authorizer.check("edit", body["user"]["id"])
        reference = metadata(view).get("reference", "")
        design = design_blocks_in(values)
        fields = current_fields(bot, reference) if design else {}
        photos = current_photos(bot, reference) if design else {}
        route = bot.ops.address_route(reference) if address_blocks_in(values) else None
        form = read_edit_form(values, fields, photos, shown(route.address) if route else {})
        if route is not None and form.address and not form.errors:
            check_address(form, route)
    except PodopsError as exc:
        form.errors[first] = exc.message
        return form
    check_template_fields(bot, reference, form)
    if form.speed:
        try:
            check_speed_choice(bot, reference, form.speed)
        except PodopsError as exc:
            form.errors[SHIPPING_BLOCK] = exc.message
    return form


def check_speed_choice(bot: Bot, reference: str, speed: str) -> None:
    """Refuse (raise, in words) a speed the order may not ship at; nothing is changed."""
    with bot.runtime.db.reading() as session:
        order = services.get_order(session, reference)
        table = bot.runtime.policy.store(order.store.key).shipping
        check_speed(order, table, speed)


def check_template_fields(bot: Bot, reference: str, form: EditForm) -> None:
    """A field the line's template does not print is an error on that line's input
    (photo links are fetched later, after the ack: the reason is then told privately)."""
    late = bool(form.changes) and bot.ops.late_design_provider(reference) is not None
    for position, fields in form.changes.items():
        try:
            locked = None if late else bot.ops.design_refusal(reference, position)
            if locked:  # a split order's line at its provider, beside one not sent yet
                raise OrderLocked(locked)
            bot.runtime.field_checks.check(reference, position, fields, fetch_photos=False)
        except PodopsError as exc:
            form.errors[form.blocks.get(position, form.first_block)] = exc.message


def check_address(form: EditForm, route: AddressRoute) -> None:
    """Refusals of the whole change (a field the provider needs emptied, the order no
    longer changeable), each beside the field it is about."""
    if route.refusal:
        form.errors[ADDRESS_BLOCK + next(iter(form.address))] = route.refusal
        return
    for name, value in form.address.items():
        try:
            check_change(
                route.address, {name: value}, provider_needs=route.needs, provider=route.owner
            )
        except InvalidInput as exc:
            form.errors[ADDRESS_BLOCK + name] = exc.message


def tell(
    bot: Bot, client: WebClient, body: dict[str, Any], view: dict[str, Any], reply: Reply
) -> None:
    """The result, privately, to the person who sent the form (see bot.replies)."""
    orders = bot.runtime.settings.slack.channel
    origin = metadata(view).get("channel") or ""
    tell_privately(
        bot.runtime.db, client, body["user"]["id"], reply.text, origin=origin, orders=orders
    )


def register(app: App, bot: Bot) -> None:
    def ack_edit(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        form = check_edit(bot, body, view)
        if form.errors:
            ack(response_action="errors", errors=form.errors)
        else:
            ack()

    def save_edit(body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        form = check_edit(bot, body, view)
        key = delivery_id(body)
        if form.errors or not claim(bot.runtime.db, key):
            return
        user = body["user"]
        actor = slack_actor(user["id"], user.get("username") or user.get("name", ""))
        reference = metadata(view)["reference"]
        tell(
            bot,
            client,
            body,
            view,
            attempt(
                lambda: bot.ops.edit(
                    reference,
                    form.changes,
                    actor,
                    key,
                    speed=form.speed,
                    photos=form.photos,
                    address=form.address,
                )
            ),
        )

    def ack_cancel(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        _, problem = read_reason(view.get("state", {}).get("values", {}))
        if not problem and not bot.authorizer.may("cancel", body["user"]["id"]):
            problem = "you are not allowed to cancel orders"
        if problem:
            ack(response_action="errors", errors={"reason": problem})
        else:
            ack()

    def save_cancel(body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        reason, problem = read_reason(view.get("state", {}).get("values", {}))
        user = body["user"]
        if problem or not bot.authorizer.may("cancel", user["id"]):
            return
        if not claim(bot.runtime.db, delivery_id(body)):
            return
        actor = slack_actor(user["id"], user.get("username") or user.get("name", ""))
        command = Command("cancel", metadata(view).get("reference", ""), reason=reason)
        tell(bot, client, body, view, attempt(lambda: bot.ops.run(command, actor)))

    app.view("order_edit")(ack=ack_edit, lazy=[save_edit])
    app.view("order_cancel")(ack=ack_cancel, lazy=[save_cancel])
