"""The renderer, as the core sees it: make a print file for one line item."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

from podops.photos import Crop, PhotoFit


class RenderedFileLike(Protocol):
    @property
    def path(self) -> Path: ...
    @property
    def preview_path(self) -> Path: ...
    @property
    def sha256(self) -> str: ...
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


class Renderer(Protocol):
    def render_item(
        self,
        order_ref: str,
        line_position: int,
        product_key: str,
        personalization: dict[str, str],
        image_urls: dict[str, str],
        crops: Mapping[str, Crop] | None = None,
    ) -> RenderedFileLike:
        """Render and store a new revision; raise RenderRefused with a reason for people.

        `order_ref` is the order's `OrderRef.print_name`; files are named with
        `podops.refs.print_file_stem(order_ref, line_position)`. `crops` moves and
        zooms photos in their frames (a crop leaving a frame empty is refused)."""
        ...

    def check_templates(self) -> list[tuple[str, bool, str]]:
        """(template, ok, message) for every template, after rendering a sample of each."""
        ...
