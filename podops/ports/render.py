"""The renderer, as the core sees it: make a print file for one line item."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


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


class Renderer(Protocol):
    def render_item(
        self,
        order_ref: str,
        line_position: int,
        product_key: str,
        personalization: dict[str, str],
        image_urls: dict[str, str],
    ) -> RenderedFileLike:
        """Render and store a new revision; raise RenderRefused with a reason for people.

        `order_ref` is the order's `OrderRef.print_name`; files are named with
        `podops.refs.print_file_stem(order_ref, line_position)`."""
        ...

    def check_templates(self) -> list[tuple[str, bool, str]]:
        """(template, ok, message) for every template, after rendering a sample of each."""
        ...
