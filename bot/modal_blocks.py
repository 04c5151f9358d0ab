"""Block Kit builders for the edit and cancel modals, within Slack's limits for a
view (100 blocks, a 24-character title, 2,000-character labels, 255-character
block ids, 3,000 characters per input value).

The edit form shows one input per personalization field while that fits; an
order with many lines or fields gets one `name=value` box per line instead, and
lines that still do not fit are named in a visible note with the command that
edits them, so the form is always one Slack accepts. The shipping address
follows, one input per field (ten blocks, kept out of the room for lines).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from bot.blocks import Block, text_block
from bot.forms import SHIPPING_BLOCK
from bot.mrkdwn import Mrkdwn, md
from bot.photo_form import blocks_needed, photo_blocks
from podops.ports.notify import ItemLine, OrderCard
from podops.refs import in_shell
from podops.status import BEFORE_SUBMISSION, OrderStatus

MAX_VIEW_BLOCKS = 100
MAX_TITLE = 24
MAX_LABEL = 2000
MAX_BLOCK_ID = 255
MAX_INPUT = 3000
RAW_LABEL = "Fields, one `name=value` per line"


def plain_input(block_id: str, label: str, value: str, *, optional: bool, multiline: bool) -> Block:
    element: Block = {"type": "plain_text_input", "action_id": "value", "multiline": multiline}
    if value:
        element["initial_value"] = value
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": {"type": "plain_text", "text": label[:MAX_LABEL]},
        "element": element,
    }


def position(item: ItemLine) -> int:
    return int(item.reference.rsplit("-", 1)[1])


def _field_blocks(item: ItemLine, photos: bool = False) -> list[Block]:
    """A heading and one input per field (the roomy layout); with `photos`, the
    photo part too (bot/photo_form.py)."""
    blocks = [text_block(md("*{}* {} ({})", item.reference, item.name, item.sku))]
    if not item.personalization:
        blocks.append(
            plain_input(f"raw|{position(item)}", RAW_LABEL, "", optional=True, multiline=True)
        )
    for name, value in item.personalization.items():
        block_id = f"f|{position(item)}|{name}"
        blocks.append(plain_input(block_id, name, value, optional=True, multiline=False))
    if photos:
        blocks += photo_blocks(position(item), item.photos)
    return blocks


def _box(item: ItemLine) -> Block:
    """All of a line's fields in one `name=value` box (the compact layout)."""
    current = "\n".join(f"{k}={v}" for k, v in item.personalization.items())
    label = f"{item.reference} {item.name} ({item.sku}): one name=value per line"
    if len(current) > MAX_INPUT:
        current, label = "", label + " (current values too long to show: type only changes)"
    return plain_input(f"raw|{position(item)}", label, current, optional=True, multiline=True)


def _roomy_fits(items: list[ItemLine], room: int, photos: bool = False) -> bool:
    needed = sum(1 + max(1, len(i.personalization)) for i in items)
    needed += sum(blocks_needed(i.photos) for i in items) if photos else 0
    long_names = any(
        len(f"f|{position(i)}|{n}") > MAX_BLOCK_ID for i in items for n in i.personalization
    )
    return needed <= room and not long_names


MAX_OPTIONS = 100  # a static_select's options (Slack's limit)


def shipping_block(card: OrderCard, speeds: Sequence[str]) -> Block:
    """A choice of the store's speeds, the order's own selected (none while unmapped)."""
    options = [
        {"text": {"type": "plain_text", "text": speed[:75]}, "value": speed}
        for speed in speeds[:MAX_OPTIONS]
    ]
    element: Block = {"type": "static_select", "action_id": "value", "options": options}
    chosen = next((o for o in options if o["value"] == card.speed), None)
    if chosen is not None:
        element["initial_option"] = chosen
    label = f"Shipping speed (now: {card.shipping})" if card.shipping else "Shipping speed"
    return {
        "type": "input",
        "block_id": SHIPPING_BLOCK,
        "optional": True,
        "label": {"type": "plain_text", "text": label[:MAX_LABEL]},
        "element": element,
    }


ADDRESS_LABELS: dict[str, str] = {
    "name": "Name",
    "company": "Company",
    "line1": "Street and number",
    "line2": "Apartment, suite, floor (line 2)",
    "city": "City",
    "state": "State or province",
    "postcode": "Postcode / ZIP",
    "country": "Country (two-letter code: US, GB, DE)",
    "phone": "Phone",
}
"""One input per address field (`podops.address.FIELDS`), block id `a|FIELD`."""


def address_blocks(address: dict[str, str], note: str = "") -> list[Block]:
    """The shipping address section: a heading and one input per field."""
    heading = md("*Shipping address*")
    if note:
        heading = heading + md(" · {}", note)
    blocks = [text_block(heading)]
    for name, label in ADDRESS_LABELS.items():
        value = address.get(name, "")
        blocks.append(plain_input(f"a|{name}", label, value, optional=True, multiline=False))
    return blocks


def fixed_block(items: Sequence[ItemLine], where: Mapping[int, str]) -> Block:
    """The lines already at a provider, as they are and not editable: what staff see
    but cannot change here (the provider prints the files it has)."""
    text = md("*Already at a provider, shown as sent (not editable here):*")
    for item in items:
        fields = ", ".join(f"{k}={v}" for k, v in item.personalization.items()) or "no fields"
        at = where.get(position(item), "its provider")
        text += md("\n`{}` {} ({}) at {}: {}", item.reference, item.name, item.sku, at, fields)
    return text_block(text)


def edit_blocks(
    card: OrderCard,
    note: str,
    speeds: Sequence[str] = (),
    *,
    reserve: int = 0,
    cropped: Collection[int] | None = None,
    at_provider: Mapping[int, str] | None = None,
) -> list[Block]:
    """The form's blocks: roomy when it fits in a view, compact otherwise; a choice of
    shipping speed first when the store has a shipping table (`speeds`); `reserve`:
    blocks kept for the address section; `cropped`: the line positions whose design
    may change after submission (a split order's part not sent yet): the other lines
    are shown read-only, with the provider that has each (`at_provider`)."""
    head: list[Block] = [text_block(md(":warning: {}", note))] if note else []
    if len(speeds) > 1:
        head.append(shipping_block(card, speeds))
    items = card.items
    if cropped is not None:
        fixed = [item for item in items if position(item) not in cropped]
        items = [item for item in items if position(item) in cropped]
        if fixed:
            head.append(fixed_block(fixed, at_provider or {}))
    room = MAX_VIEW_BLOCKS - len(head) - reserve
    before = OrderStatus(card.status) in BEFORE_SUBMISSION  # crops change the print file

    def crops(item: ItemLine) -> bool:
        return before if cropped is None else position(item) in cropped

    if _roomy_fits(items, room, any(crops(item) for item in items)):
        return head + [b for item in items for b in _field_blocks(item, crops(item))]
    room -= 1  # the note saying how the form is laid out
    shown = items if len(items) <= room else items[: room - 1]
    layout = Mrkdwn("This order has many fields: each line's fields are one box.")
    blocks = [*head, text_block(layout)]
    blocks += [_box(item) for item in shown]
    if len(shown) < len(items):
        rest = items[len(shown) :]
        blocks.append(
            text_block(
                md(
                    ":warning: {} more line(s) ({} to {}) do not fit in one Slack form: edit "
                    "them with `podops edit {} --line N FIELD=VALUE`.",
                    len(rest),
                    rest[0].reference,
                    rest[-1].reference,
                    in_shell(card.number),
                )
            )
        )
    return blocks


def edit_modal(
    card: OrderCard,
    metadata: dict[str, str],
    *,
    note: str = "",
    speeds: Sequence[str] = (),
    design: bool = True,
    address: bool = True,
    address_note: str = "",
    cropped: Collection[int] | None = None,
    at_provider: Mapping[int, str] | None = None,
) -> Block:
    """One input per personalization field of each line (or `name=value` boxes), the
    shipping speed when `speeds` (the store's) offer a choice, and the shipping
    address; `design`/`address` False leave a section out (an order at a provider
    that takes only one of them)."""
    extra = address_blocks(card.address, address_note) if address else []
    blocks = (
        edit_blocks(
            card, note, speeds, reserve=len(extra), cropped=cropped, at_provider=at_provider
        )
        if design
        else []
    )
    if not design and note:
        blocks = [text_block(md(":warning: {}", note))]
    sends = note and cropped is None  # a provider takes the new design (not a part left behind)
    submit = "Save and send" if sends else ("Save and render" if design else "Save")
    return modal("order_edit", f"Edit order {card.number}", submit, blocks + extra, metadata)


def cancel_modal(card: OrderCard, metadata: dict[str, str]) -> Block:
    blocks = [
        text_block(md("Cancel *order {}* ({})?", card.number, card.customer_name)),
        plain_input("reason", "Reason", "", optional=False, multiline=False),
    ]
    return modal("order_cancel", f"Cancel order {card.number}", "Cancel order", blocks, metadata)


def modal(
    callback_id: str, title: str, submit: str, blocks: list[Block], metadata: dict[str, Any]
) -> Block:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": {"type": "plain_text", "text": _short(title)},
        "submit": {"type": "plain_text", "text": _short(submit)},
        "close": {"type": "plain_text", "text": "Close"},
        "private_metadata": json.dumps(metadata),
        "blocks": blocks,
    }


def _short(text: str) -> str:
    return text if len(text) <= MAX_TITLE else text[: MAX_TITLE - 1] + "…"
