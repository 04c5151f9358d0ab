"""Reading modal submissions: the edit form's fields (personalization and the
shipping address) and the cancel reason, validated into changes or per-field
errors (`response_action: errors`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.photo_form import ACCEPT, CROP, PhotoChanges, Photos
from podops.address import check_field
from podops.crop_input import split_crop_settings
from podops.services.orders import MAX_FIELD_LENGTH

SHIPPING_BLOCK = "shipping"
"""The edit form's shipping speed choice (`bot.modal_blocks.shipping_block`)."""

MAX_REASON = 500
ADDRESS_BLOCK = "a|"
"""Block id of an address field in the edit form: `a|line2`."""


@dataclass(slots=True)
class EditForm:
    changes: dict[int, dict[str, str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    first_block: str = ""
    speed: str = ""
    """The shipping speed chosen ("" : the form had no choice or none was made)."""
    blocks: dict[int, str] = field(default_factory=dict)
    """Line position -> the block of its first changed field (where its error shows)."""
    photos: PhotoChanges = field(default_factory=PhotoChanges)
    """New crops and accepted resolutions (bot/photo_form.py)."""
    address: dict[str, str] = field(default_factory=dict)
    """Address fields typed differently from the order's (field -> value)."""
    design_blocks: bool = False
    """The form shows personalization fields (an address-only form does not)."""


def _value(entry: dict[str, Any]) -> str:
    return str((entry.get("value") or {}).get("value") or "")


def address_blocks_in(values: dict[str, Any]) -> bool:
    return any(block_id.startswith(ADDRESS_BLOCK) for block_id in values)


def design_blocks_in(values: dict[str, Any]) -> bool:
    design = ("f|", "raw|", f"{CROP}|", f"{ACCEPT}|")  # fields, crops, "print as it is"
    return any(block_id.startswith(design) for block_id in values)


def read_edit_form(
    values: dict[str, Any],
    current: dict[int, dict[str, str]],
    photos: Photos | None = None,
    address: dict[str, str] | None = None,
) -> EditForm:
    """Changed fields per line position and changed address fields; errors keyed by
    the block they belong to (each address field is checked on its own). `photos`
    (the order's photos as they are) checks crops and accepted resolutions."""
    form = EditForm(design_blocks=design_blocks_in(values))
    for block_id, entry in values.items():
        kind, _, rest = block_id.partition("|")
        form.first_block = form.first_block or block_id
        if block_id == SHIPPING_BLOCK:
            form.speed = _chosen(entry)
            continue
        if kind in (CROP, ACCEPT):
            form.photos.read_block(block_id, entry, photos or {})
            continue
        if kind == "a":
            text = _value(entry)
            problem = check_field(rest, text)
            if problem:
                form.errors[block_id] = problem
            elif " ".join(text.split()) != (address or {}).get(rest, ""):
                form.address[rest] = text
            continue
        if kind == "f":
            position_text, _, name = rest.partition("|")
            fields = {name: _value(entry).strip()}
        elif kind == "raw":
            position_text = rest
            fields, problem = _read_lines(_value(entry))
            if problem:
                form.errors[block_id] = problem
                continue
            fields, settings = split_crop_settings(fields)
            if settings and position_text.isdigit():
                form.photos.read_settings(block_id, int(position_text), settings, photos or {})
        else:
            continue
        if not position_text.isdigit():
            continue
        position = int(position_text)
        for name, text in fields.items():
            if len(text) > MAX_FIELD_LENGTH:
                form.errors[block_id] = (
                    f"{len(text)} characters; at most {MAX_FIELD_LENGTH} are allowed"
                )
            elif text != current.get(position, {}).get(name, ""):
                form.changes.setdefault(position, {})[name] = text
                form.blocks.setdefault(position, block_id)
    form.photos.check_together()
    form.errors = {**form.photos.errors, **form.errors}
    return form


def _chosen(entry: dict[str, Any]) -> str:
    """The value of a static_select's chosen option ("" when none)."""
    option = (entry.get("value") or {}).get("selected_option") or {}
    return str(option.get("value") or "") if isinstance(option, dict) else ""


def _read_lines(text: str) -> tuple[dict[str, str], str]:
    fields: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            return {}, f"line {number} is not `name=value`"
        fields[name.strip()] = value.strip()
    return fields, ""


def read_reason(values: dict[str, Any]) -> tuple[str, str]:
    """(reason, error) from the cancel modal."""
    reason = " ".join(_value(values.get("reason", {})).split())
    if not reason:
        return "", "say why the order is cancelled (for example: out of stock)"
    if len(reason) > MAX_REASON:
        return "", f"{len(reason)} characters; at most {MAX_REASON} are allowed"
    return reason, ""
