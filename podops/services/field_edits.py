"""Staff edits of a line's fields, limited to what the line's template prints.

Every edit either changes what is printed or is refused with the reason. Each
field a person names is one of:
- a text field of the template: saved in the line's personalization;
- a photo field of the template: a link saved in the line's `image_urls`, once
  the renderer's own fetch rules accepted it (`podops.fulfillment.field_checks`
  asks, outside any transaction, before this saves);
- a field the template does not print (a name on a mug without a name layer, a
  mistyped field, a store meta key): refused with the template's fields listed,
  unless the value is empty and the line has that field filled. Emptying it is
  how staff print the line without it: the field is removed from the line.
`plan_field_edit` decides (pure); `edit_fields` saves, audits and marks the
print file stale, in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from podops import events
from podops.errors import ConcurrentModification, InvalidInput, OrderLocked
from podops.events import Actor
from podops.models import Order, utcnow
from podops.ports.render import TemplateFields
from podops.refs import OrderRef
from podops.services.design_gate import design_locked, design_may_change
from podops.services.lookup import get_order
from podops.services.orders import MAX_FIELD_LENGTH, line_of

MAX_LINK_LENGTH = 2000
"""A photo link may be a long signed URL; longer than this is not a link a person typed."""


@dataclass(frozen=True, slots=True)
class FieldEdit:
    """One line's change, sorted by where each field goes (see the module docstring)."""

    reference: str | OrderRef
    """The order: its `OrderRef` once checked (text such as `main:1234` may also read
    as an order numbered `main:1234`), or the text staff typed."""
    position: int
    product_key: str
    texts: dict[str, str] = field(default_factory=dict)
    images: dict[str, str] = field(default_factory=dict)
    """Photo field -> new link; "" removes the photo."""
    cleared: tuple[str, ...] = ()
    """Fields the template does not print, emptied: removed from the line."""

    @property
    def empty(self) -> bool:
        return not (self.texts or self.images or self.cleared)

    @property
    def links(self) -> dict[str, str]:
        """The photo links to check before saving (every new, non-empty one)."""
        return {name: url for name, url in self.images.items() if url}


def plan_field_edit(
    fields: TemplateFields,
    reference: str | OrderRef,
    position: int,
    current: tuple[Mapping[str, Any], Mapping[str, Any]],
    changes: Mapping[str, str],
) -> FieldEdit:
    """Sort `changes` by the template's fields; refuse the whole edit when one names a
    field the template does not print (nothing is half-saved). `current` is the
    line's (personalization, image_urls); unchanged values are left out."""
    texts_now, images_now = current
    texts: dict[str, str] = {}
    images: dict[str, str] = {}
    cleared: list[str] = []
    unknown: list[str] = []
    for raw_name, raw_value in changes.items():
        name, value = raw_name.strip(), str(raw_value).strip()
        if not name:
            raise InvalidInput("a personalization field needs a name")
        filled = name in texts_now or name in images_now
        if name in fields.texts:
            _bounded(name, value, MAX_FIELD_LENGTH)
            if str(texts_now.get(name, "")) != value:
                texts[name] = value
        elif name in fields.images:
            _bounded(name, value, MAX_LINK_LENGTH)
            if str(images_now.get(name, "")) != value:
                images[name] = value
        elif not value and filled:
            cleared.append(name)
        else:
            unknown.append(name)
    if unknown:
        raise InvalidInput(not_printed(fields, unknown, texts_now, images_now))
    return FieldEdit(reference, position, fields.product_key, texts, images, tuple(cleared))


def not_printed(
    fields: TemplateFields,
    names: list[str],
    texts_now: Mapping[str, Any],
    images_now: Mapping[str, Any],
) -> str:
    """Why fields the template does not print cannot be set, and what the line can take."""
    noun = fields.noun
    text = f"this {noun} prints no {_joined(names, 'or')} (its fields: {fields.listed()})"
    filled = [n for n in names if n in texts_now or n in images_now]
    if filled:
        them = "them" if len(filled) > 1 else "it"
        text += (
            f"; to print the {noun} without {them}, empty {_joined(filled, 'and')} "
            "(the field is then removed from the line)"
        )
    return text


def edit_fields(session: Session, edit: FieldEdit, actor: Actor) -> Order:
    """Save a checked edit: texts, photo links, emptied fields; the print file is then
    stale (rendered again) and the change is audited. Unchanged: nothing is written."""
    order = get_order(session, edit.reference, for_update=True)
    item = line_of(order, edit.position)
    if edit.empty:  # a form sends every line; one left as it was changes nothing
        return order
    if not design_may_change(order, item):
        raise OrderLocked(design_locked(order, item))
    if item.product_key != edit.product_key:
        raise ConcurrentModification(
            f"line {item.reference} changed product while the edit was checked; try again"
        )
    old = _values(edit, item.personalization, item.image_urls)
    texts, images = applied(edit, item.personalization, item.image_urls)
    new = _values(edit, texts, images)
    if new == old and texts == item.personalization:
        return order
    item.personalization = texts
    item.image_urls = images
    item.print_file_current = False
    order.updated_at = utcnow()  # dirty the order so its version check guards the edit
    events.edit_personalization(session, order, actor, line=item.reference, old=old, new=new)
    return order


def applied(
    edit: FieldEdit, texts: Mapping[str, Any], images: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The line's (personalization, image_urls) once `edit` is applied to them."""
    new_texts, new_images = {**texts, **edit.texts}, dict(images)
    for name, url in edit.images.items():
        new_texts.pop(name, None)  # a link an older podops saved as text, never printed
        if url:
            new_images[name] = url
        else:
            new_images.pop(name, None)
    for name in edit.cleared:
        new_texts.pop(name, None)
        new_images.pop(name, None)
    return new_texts, new_images


def _values(edit: FieldEdit, texts: Mapping[str, Any], images: Mapping[str, Any]) -> dict[str, Any]:
    """What the edited fields hold (a photo field: its link; an emptied field: None)."""
    values = {name: texts.get(name) for name in edit.texts}
    values.update({name: images.get(name) for name in edit.images})
    values.update({name: texts.get(name, images.get(name)) for name in edit.cleared})
    return values


def _bounded(name: str, value: str, most: int) -> None:
    if len(value) > most:
        raise InvalidInput(f"{name} is {len(value)} characters; at most {most} are allowed")


def _joined(words: list[str], last: str) -> str:
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {last} {words[-1]}"
