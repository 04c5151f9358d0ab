"""The photo part of the edit form: a crop box per photo and, for a photo printing
under its template's minimum, a "print it as it is" tick (docs/slack.md).

Blocks are `c|POSITION|FIELD` (the crop, `zoom=1.5 x=10% y=0%`) and
`a|POSITION|FIELD` (accept the resolution); the `name=value` box of the compact
layout takes `photo.zoom=1.5` lines too. What was typed is checked when the
form is sent, against the photo as the last render measured it, so a crop that
would leave part of the frame empty is answered in the form and nothing changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from bot.blocks import Block
from podops import services
from podops.crop_input import crop_with, parse_crop
from podops.errors import InvalidInput, OrderLocked
from podops.events import Actor
from podops.photos import Crop, PhotoStatus

CROP = "c"
ACCEPT = "p"  # "print as it is" ("a|" is the address section)
ACCEPT_VALUE = "accept"
MAX_OPTION_TEXT = 75

Photos = Mapping[int, Mapping[str, PhotoStatus]]
"""The order's photos as they are: line position -> image field -> status."""


def photo_blocks(position: int, photos: tuple[PhotoStatus, ...]) -> list[Block]:
    """A crop box per photo of the line, and a tick for each photo waiting for staff."""
    blocks: list[Block] = []
    for photo in photos:
        now = f", {photo.dpi} DPI now" if photo.dpi is not None else ""
        label = f"{photo.field}: crop, as zoom=1.5 x=10% y=0%{now}"
        element: Block = {
            "type": "plain_text_input",
            "action_id": "value",
            "initial_value": photo.crop.text,
        }
        blocks.append(_input(f"{CROP}|{position}|{photo.field}", label, element))
        if photo.low and photo.fit is not None:
            option = f"Print {photo.field} at {photo.dpi} DPI as it is"[:MAX_OPTION_TEXT]
            tick: Block = {
                "type": "checkboxes",
                "action_id": "value",
                "options": [
                    {"text": {"type": "plain_text", "text": option}, "value": ACCEPT_VALUE}
                ],
            }
            label = (
                f"{photo.field} is {photo.dpi} DPI at this size "
                f"(at least {photo.fit.min_dpi} wanted): replace it, or print it anyway"
            )
            blocks.append(_input(f"{ACCEPT}|{position}|{photo.field}", label, tick))
    return blocks


def _input(block_id: str, label: str, element: Block) -> Block:
    return {
        "type": "input",
        "block_id": block_id,
        "optional": True,
        "label": {"type": "plain_text", "text": label},
        "element": element,
    }


def blocks_needed(photos: tuple[PhotoStatus, ...]) -> int:
    return sum(1 + (1 if photo.low else 0) for photo in photos)


@dataclass(slots=True)
class PhotoChanges:
    """New crops and accepted resolutions, by line position, and errors by block."""

    crops: dict[int, dict[str, Crop]] = field(default_factory=dict)
    accepts: dict[int, list[str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    _crop_blocks: dict[tuple[int, str], str] = field(default_factory=dict)
    _accept_blocks: dict[tuple[int, str], str] = field(default_factory=dict)

    def read_block(self, block_id: str, entry: Mapping[str, Any], photos: Photos) -> None:
        """One `c|...` or `a|...` block of the submitted form."""
        kind, _, rest = block_id.partition("|")
        position_text, _, name = rest.partition("|")
        if not position_text.isdigit():
            return
        position = int(position_text)
        value = entry.get("value") or {}
        if kind == ACCEPT:
            chosen = [o.get("value") for o in value.get("selected_options") or []]
            if ACCEPT_VALUE in chosen:
                self.accepts.setdefault(position, []).append(name)
                self._accept_blocks[(position, name)] = block_id
            return
        try:
            self._crop(position, name, parse_crop(str(value.get("value") or "")), photos, block_id)
        except InvalidInput as problem:
            self.errors[block_id] = problem.message

    def read_settings(
        self,
        block_id: str,
        position: int,
        settings: Mapping[str, Mapping[str, str]],
        photos: Photos,
    ) -> None:
        """`photo.zoom=1.5` lines of a `name=value` box, over each photo's current crop."""
        try:
            for name, typed in settings.items():
                crop = _photo(photos, position, name).crop
                for key, text in typed.items():
                    crop = crop_with(crop, key, text)
                self._crop(position, name, crop, photos, block_id)
        except InvalidInput as problem:
            self.errors[block_id] = problem.message

    def _crop(self, position: int, name: str, crop: Crop, photos: Photos, block_id: str) -> None:
        photo = _photo(photos, position, name)
        if photo.fit is not None:
            photo.fit.check(crop)
        if crop != photo.crop:
            self.crops.setdefault(position, {})[name] = crop
            self._crop_blocks[(position, name)] = block_id

    def check_together(self) -> None:
        """A resolution is accepted for the crop it was shown at: not with a new crop."""
        for key, block_id in self._accept_blocks.items():
            if key in self._crop_blocks:
                self.errors[block_id] = (
                    "you also changed this photo's crop: save the crop first, then accept "
                    "the resolution it gives (or untick this)"
                )


def _photo(photos: Photos, position: int, name: str) -> PhotoStatus:
    found = photos.get(position, {}).get(name)
    if found is None:
        listed = ", ".join(sorted(photos.get(position, {}))) or "none"
        raise InvalidInput(f"line {position} has no photo {name!r} (its photos: {listed})")
    return found


def refuse_after_submission(changes: PhotoChanges, number: str) -> None:
    """A provider that still takes a new design takes new text, not a new photo crop."""
    if changes.crops or changes.accepts:
        raise OrderLocked(
            f"order {number} is already at its provider; its photos can no longer be "
            "cropped or accepted (only its personalization text may still change)"
        )


def save(session: Session, reference: str, changes: PhotoChanges, actor: Actor) -> list[str]:
    """Apply the form's crops, then its accepted resolutions, through the services;
    the photos accepted, in words (`photo of line 1`)."""
    for position, crops in sorted(changes.crops.items()):
        services.set_crops(session, reference, position, crops, actor)
    accepted = []
    for position, names in sorted(changes.accepts.items()):
        for name in names:
            services.accept_photo(session, reference, position, actor, name)
            accepted.append(f"{name} of line {position}")
    return accepted
