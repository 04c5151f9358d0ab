"""The Orders tab's photo columns, applied through the services.

`crop` holds every photo's whole crop (`zoom=1.5 x=10% y=0%`, or
`photo: ...; logo: ...` for a line with several photos; empty: as the template
places it), so typing it again is harmless. `accept photo` ticked prints the
line's low-resolution photos as they are; an acceptance is not taken back by
unticking (a new crop or a new photo is checked again instead).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from podops import services
from podops.crop_input import parse_crop_cell
from podops.errors import InvalidInput
from podops.events import Actor
from podops.photos import photo_statuses
from podops.sheet.rows import SheetLine

ACCEPT_WORDS = frozenset({"true", "yes", "y", "x", "accept", "accepted", "1"})
KEEP_WORDS = frozenset({"false", "no", "n", "", "0"})


def crop_photos(session: Session, text: str, line: SheetLine, actor: Actor) -> bool:
    """Give every photo of the line the crop the cell asks for; False if already so."""
    order = services.get_order(session, line.order_reference)
    item = next(i for i in order.items if i.position == line.position)
    fields = [photo.field for photo in photo_statuses(item.photos, item.image_urls)]
    crops = parse_crop_cell(text, fields)
    return bool(services.set_crops(session, line.order_reference, line.position, crops, actor))


def accept_photo(session: Session, text: str, line: SheetLine, actor: Actor) -> bool:
    """Ticked: print the line's low-resolution photos as they are."""
    word = " ".join(text.strip().lower().split())
    if word in KEEP_WORDS:
        if line.photo_accepted:
            raise InvalidInput(
                "an accepted photo stays accepted; to check it again, change its crop or "
                "replace the photo"
            )
        return False
    if word not in ACCEPT_WORDS:
        raise InvalidInput("write TRUE to print the line's low-resolution photo as it is")
    if line.photo_accepted:
        return False
    services.accept_photo(session, line.order_reference, line.position, actor)
    return True
