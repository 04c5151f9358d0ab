"""A line's print files with their placements, as stored on the line item.

A template without placements gives a line one print file (`LineItem.print_file`,
at DEFAULT_PLACEMENT); one with named placements (a tee's front and back) gives
one file each, kept in `LineItem.placed_files` with the first also in
`print_file`, so code that knows one file keeps working. This module is the only
code that reads or builds that JSON list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from podops.ports.fulfillment import DEFAULT_PLACEMENT
from podops.ports.render import RenderedFileLike, RenderedPlacementLike

if TYPE_CHECKING:
    from podops.models import LineItem


@dataclass(frozen=True, slots=True)
class StoredFile:
    """One print file of a line: where on the product it goes and where it is stored."""

    placement: str
    path: str
    sha256: str = ""
    preview: str = ""


def stored_files(
    print_file: str | None,
    sha256: str | None,
    preview: str | None,
    placed: Sequence[Any] | None,
) -> tuple[StoredFile, ...]:
    """Every print file of a line (its `print_file`, `print_file_sha256`,
    `preview_file` and `placed_files` columns), first placement first; () when the
    line has none yet."""
    if not print_file:
        return ()
    files = tuple(
        StoredFile(
            str(entry["placement"]),
            str(entry["path"]),
            str(entry.get("sha256") or ""),
            str(entry.get("preview") or ""),
        )
        for entry in placed or ()
        if isinstance(entry, dict) and entry.get("placement") and entry.get("path")
    )
    return files or (StoredFile(DEFAULT_PLACEMENT, print_file, sha256 or "", preview or ""),)


def files_of(item: LineItem) -> tuple[StoredFile, ...]:
    """Every print file of `item`, first placement first; () when it has none yet."""
    return stored_files(
        item.print_file, item.print_file_sha256, item.preview_file, item.placed_files
    )


def stored_at(rendered: RenderedFileLike | RenderedPlacementLike) -> str:
    """Where a rendered file is kept for every host (a local path or `s3://...`)."""
    return rendered.location or str(rendered.path)


def preview_at(rendered: RenderedFileLike | RenderedPlacementLike) -> str:
    """Where a rendered file's preview is kept for every host."""
    return rendered.preview_location or str(rendered.preview_path)


def placed_json(rendered: RenderedFileLike) -> list[dict[str, str]]:
    """What `LineItem.placed_files` keeps of a render: [] for one file at the front."""
    files = list(rendered.placements)
    if [f.placement for f in files] in ([], [DEFAULT_PLACEMENT]):
        return []
    return [
        {
            "placement": f.placement,
            "path": stored_at(f),
            "sha256": f.sha256,
            "preview": preview_at(f),
        }
        for f in files
    ]


def placements_text(files: Sequence[StoredFile]) -> str:
    """`front, back` for staff; "" for a line with its one file at the front."""
    names = [f.placement for f in files]
    return "" if names in ([], [DEFAULT_PLACEMENT]) else ", ".join(names)
