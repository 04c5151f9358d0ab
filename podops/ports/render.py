"""The renderer, as the core sees it: make a print file for one line item, and say
which fields a product prints and whether a photo link would print."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from podops.photos import Crop, PhotoFit


class RenderedPlacementLike(Protocol):
    """One placement's file of a render (a tee's back)."""

    @property
    def placement(self) -> str: ...
    @property
    def path(self) -> Path: ...
    @property
    def preview_path(self) -> Path: ...
    @property
    def sha256(self) -> str: ...
    @property
    def location(self) -> str:
        """Where the file is kept for every host (`podops.ports.storage`)."""
        ...

    @property
    def preview_location(self) -> str: ...


class RenderedFileLike(Protocol):
    """A render: its first placement's file at the top, every file in `placements`."""

    @property
    def path(self) -> Path: ...
    @property
    def preview_path(self) -> Path: ...
    @property
    def sha256(self) -> str: ...
    @property
    def location(self) -> str:
        """Where the print file is kept for every host: its local path, or
        `s3://bucket/key` (`podops.ports.storage`); what the line item records."""
        ...

    @property
    def preview_location(self) -> str: ...
    @property
    def revision(self) -> int: ...
    @property
    def width_px(self) -> int: ...
    @property
    def height_px(self) -> int: ...
    @property
    def dpi(self) -> int: ...
    @property
    def photos(self) -> Sequence[PhotoFit]:
        """How each photo fits its frame; the effective DPI follows with the crop."""
        ...

    @property
    def placements(self) -> Sequence[RenderedPlacementLike]:
        """Every file with its placement name, in the template's order; empty (or the
        one file at "front"): the line has one print file, `path`."""
        ...


class Renderer(Protocol):
    def render_item(
        self,
        order_ref: str,
        line_position: int,
        product_key: str,
        personalization: dict[str, str],
        image_urls: dict[str, str],
        crops: Mapping[str, Crop] | None = None,
        revision: int | None = None,
    ) -> RenderedFileLike:
        """Render and store a new revision; raise RenderRefused with a reason for people.

        `order_ref` is the order's `OrderRef.print_name`; files are named with
        `podops.refs.print_file_stem(order_ref, line_position)`. `crops` moves and
        zooms photos in their frames (a crop leaving a frame empty is refused).
        `revision` is the number the core handed out for this render
        (`services.claim_revision`: unique on every host); None lets the renderer
        find the next one itself (tools and tests without a database)."""
        ...

    def check_templates(self) -> list[tuple[str, bool, str]]:
        """(template, ok, message) for every template, after rendering a sample of each."""
        ...


@dataclass(frozen=True, slots=True)
class TemplateFields:
    """What a product's template prints, as staff edits are checked against it."""

    product_key: str
    noun: str
    """What staff call the product ("mug"), for sentences: "this mug prints no name"."""
    texts: tuple[str, ...]
    images: tuple[str, ...]
    ignored: tuple[str, ...] = ()
    """Fields customers may fill that the template knowingly does not print."""

    @property
    def names(self) -> tuple[str, ...]:
        return self.texts + self.images

    def listed(self) -> str:
        """`message, photo (a photo link)`: the fields, in the template's order."""
        shown = [*self.texts, *(f"{name} (a photo link)" for name in self.images)]
        return ", ".join(shown) or "none"


class DesignChecks(Protocol):
    """What the core asks the renderer before a staff edit is saved.

    Both run outside any transaction (a photo check downloads the photo)."""

    def template_fields(self, product_key: str) -> TemplateFields:
        """The product's fields; RenderRefused when it has no usable template."""
        ...

    def check_photo(self, product_key: str, field: str, url: str) -> None:
        """Fetch and decode the photo exactly as a render of that field would;
        RenderRefused with the reason (address, size, not an image, ...)."""
        ...
