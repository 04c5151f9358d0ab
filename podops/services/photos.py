"""Customer photos on a line: staff's crop, the resolution check, "accept anyway".

Each render reports how every photo fits its frame (its own pixels, the frame's
inches, the template's minimum DPI); `record_photo_fits` keeps that on the line
and, before submission, a photo printing under the minimum stops the order in
needs_design with the sentence staff see ("photo is 44 DPI at this size"),
unless staff accepted that very photo, crop and resolution (`accept_photo`).
A new photo or a new crop is checked again at its render. `set_crops` moves
and zooms photos in their frames, refusing a crop that would leave part of a
frame empty, as far as the last render measured the photo.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.orm import Session

from podops import events
from podops.crop_input import crop_with
from podops.errors import DomainRefusal, InvalidInput, OrderLocked
from podops.events import Actor, EventName
from podops.models import LineItem, Order, utcnow
from podops.photos import (
    Crop,
    PhotoFit,
    crops_of,
    fit_of,
    low_dpi_sentence,
    photo_name,
    photo_statuses,
    with_state,
)
from podops.refs import OrderRef
from podops.services.design_gate import design_locked, design_may_change
from podops.services.designs import RENDER_PROBLEM_PREFIX, release_design_hold
from podops.services.lookup import get_order
from podops.services.order_changes import apply, can_apply, notify
from podops.services.orders import line_of
from podops.status import Action


def photo_url(item: LineItem, field: str) -> str:
    return str(item.image_urls.get(field) or "").strip()


def _editable_line(
    session: Session, reference: str | OrderRef, position: int
) -> tuple[Order, LineItem]:
    order = get_order(session, reference, for_update=True)
    item = line_of(order, position)
    if not design_may_change(order, item):
        raise OrderLocked(design_locked(order, item, "photos"))
    return order, item


def _photo_field(item: LineItem, field: str) -> str:
    """The line's photo for `field`, or a refusal naming the photos it has."""
    url = photo_url(item, field)
    if not url:
        photos = ", ".join(sorted(k for k in item.image_urls if photo_url(item, k))) or "none"
        raise InvalidInput(f"line {item.reference} has no photo {field!r} (its photos: {photos})")
    return url


def set_crops(
    session: Session,
    reference: str | OrderRef,
    position: int,
    crops: Mapping[str, Crop],
    actor: Actor,
) -> list[str]:
    """Move and zoom the line's photos (by image field); the fields that changed.

    Every crop is checked before anything changes: one leaving part of its frame
    empty (for the photo the last render measured) refuses them all."""
    order, item = _editable_line(session, reference, position)
    current = crops_of(item.photos)
    changed: dict[str, tuple[Crop, Crop]] = {}
    for field, crop in crops.items():
        url = _photo_field(item, field)
        fit = fit_of(item.photos, field, url)
        if fit is not None:
            fit.check(crop)
        before = current.get(field, Crop())
        if crop != before:
            changed[field] = (before, crop)
    if not changed:
        return []
    photos = item.photos
    for field, (before, crop) in changed.items():
        photos = with_state(photos, field, crop=None if crop.is_default else crop.to_json())
        fit = fit_of(item.photos, field, photo_url(item, field))
        events.record(
            session,
            order,
            actor,
            EventName.PHOTO_CROP,
            line=item.reference,
            field=field,
            old=before.text,
            new=crop.text,
            dpi=fit.dpi(crop) if fit is not None else None,
        )
    item.photos = photos
    item.print_file_current = False
    order.updated_at = utcnow()  # dirty the order so its version check guards the edit
    return sorted(changed)


def set_crop_settings(
    session: Session,
    reference: str | OrderRef,
    position: int,
    settings: Mapping[str, Mapping[str, str]],
    actor: Actor,
) -> list[str]:
    """Crop settings as staff typed them (`{"photo": {"zoom": "1.5", "x": "10%"}}`),
    each over the photo's current crop; the fields that changed."""
    if not settings:
        return []
    _, item = _editable_line(session, reference, position)
    current = crops_of(item.photos)
    crops = {}
    for field, typed in settings.items():
        _photo_field(item, field)
        crop = current.get(field, Crop())
        for key, text in typed.items():
            crop = crop_with(crop, key, text)
        crops[field] = crop
    return set_crops(session, reference, position, crops, actor)


def remember_photo_fits(item: LineItem, fits: Sequence[PhotoFit]) -> None:
    """Keep how the photos fit their frames (with the URL they were measured for), so
    a crop staff type later is checked against them."""
    photos = item.photos
    for fit in fits:
        url = photo_url(item, fit.field)
        photos = with_state(photos, fit.field, fit={"url": url, **fit.to_json()})
    if photos != item.photos:
        item.photos = photos


def record_photo_fits(
    session: Session, order: Order, item: LineItem, fits: Sequence[PhotoFit], actor: Actor
) -> None:
    """Keep how the rendered photos fit their frames; before submission, a photo under
    its template's minimum that staff did not accept sends the order back for design.

    Call right after `record_print_file` (which clears the line's earlier render
    problems), before `release_design_hold`."""
    remember_photo_fits(item, fits)
    for fit in fits:  # checked afresh (a render clears them too; this keeps it idempotent)
        _drop_low_dpi_problems(order, item, fit.field)
    low = [
        RENDER_PROBLEM_PREFIX + low_dpi_sentence(field, dpi, min_dpi)
        for field, (dpi, min_dpi) in sorted(low_dpi_photos(item).items())
        if any(fit.field == field for fit in fits)
    ]
    if not low or not design_may_change(order, item):
        return
    item.problems = [*item.problems, *low]
    line_problems = [f"line {item.position}: {problem}" for problem in low]
    order.problems = [*order.problems, *line_problems]
    if can_apply(order, Action.FLAG_DESIGN):
        apply(session, order, Action.FLAG_DESIGN, actor, reason="; ".join(line_problems))
    else:
        events.record(
            session, order, actor, EventName.PHOTO_LOW_DPI, line=item.reference, problems=low
        )


def low_dpi_photos(item: LineItem) -> dict[str, tuple[int, int]]:
    """The line's photos printing under their minimum, unaccepted: field -> (dpi, min)."""
    return {
        status.field: (status.fit.dpi(status.crop), status.fit.min_dpi)
        for status in photo_statuses(item.photos, item.image_urls)
        if status.low and status.fit is not None
    }


def accept_photo(
    session: Session,
    reference: str | OrderRef,
    position: int,
    actor: Actor,
    field: str | None = None,
) -> Order:
    """Print the line's low-resolution photo (`field`, or every one) as it is: this
    photo, at this crop and resolution, no longer stops the order."""
    order, item = _editable_line(session, reference, position)
    if field is not None:
        _photo_field(item, field)
    low = {f: v for f, v in low_dpi_photos(item).items() if field in (None, f)}
    if not low:
        raise DomainRefusal(_nothing_to_accept(item, field))
    photos = item.photos
    crops = crops_of(photos)
    for name, (dpi, min_dpi) in sorted(low.items()):
        crop = crops.get(name, Crop())
        accepted = {"url": photo_url(item, name), "crop": crop.to_json(), "dpi": dpi}
        photos = with_state(photos, name, accepted=accepted)
        _drop_low_dpi_problems(order, item, name)
        event = events.record(
            session,
            order,
            actor,
            EventName.PHOTO_ACCEPTED,
            line=item.reference,
            field=name,
            dpi=dpi,
            min_dpi=min_dpi,
        )
        notify(session, order, event)  # the order's thread hears who let it print
    item.photos = photos
    order.updated_at = utcnow()
    release_design_hold(session, order, actor)
    return order


def _nothing_to_accept(item: LineItem, field: str | None) -> str:
    fields = [field] if field else sorted(k for k in item.image_urls if photo_url(item, k))
    if not fields:
        return f"line {item.reference} has no photo"
    told = []
    for name in fields:
        fit = fit_of(item.photos, name, photo_url(item, name))
        if fit is None:
            told.append(f"its {photo_name(name)} was not measured yet (it is at its next render)")
        else:
            dpi = fit.dpi(crops_of(item.photos).get(name, Crop()))
            told.append(
                f"its {photo_name(name)} prints at {dpi} DPI (at least {fit.min_dpi} wanted)"
            )
    return f"nothing to accept on line {item.reference}: " + "; ".join(told)


def _drop_low_dpi_problems(order: Order, item: LineItem, field: str) -> None:
    start = f"{RENDER_PROBLEM_PREFIX}{photo_name(field)} is "

    def low(problem: object) -> bool:
        return str(problem).startswith(start) and " DPI at this size" in str(problem)

    item.problems = [p for p in item.problems if not low(p)]
    line = f"line {item.position}: "
    order.problems = [
        p for p in order.problems if not (str(p).startswith(line) and low(str(p)[len(line) :]))
    ]
