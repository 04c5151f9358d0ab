"""What the renderer port returns, for tests that stand in for the renderer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from podops.photos import PhotoFit


@dataclass
class Rendered:
    path: Path
    preview_path: Path
    sha256: str
    revision: int
    width_px: int = 4500
    height_px: int = 5400
    dpi: int = 300
    photos: tuple[PhotoFit, ...] = ()
    placements: tuple[Any, ...] = ()
    """Each placement's file (`render.renderer.RenderedPlacement`); empty: one at the front."""
    location: str = ""
    """Where the file is kept for every host; empty: its `path`."""
    preview_location: str = ""
