"""Turning a composed image into files: the print file, its revisions and a preview.

Print providers read the physical size from the file's resolution (pHYs / JFIF
density) and the colours through its ICC profile, so both are always written:
without them a 15 in print can come out at 62 in, or with shifted colours.
Every render is kept as a new revision, named by its content hash, so staff can
tell which file went to production and an edit never overwrites a sent file.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from podops.ports.storage import FileStorage
from render.color_profile import srgb_profile
from render.png_encoder import PngMetadata, encode_png

PREVIEW_LONG_EDGE = 1000
PREVIEW_QUALITY = 85
JPEG_PRINT_QUALITY = 95
CHECKER_SQUARE = 16
CHECKER_LIGHT = (255, 255, 255)
CHECKER_DARK = (232, 232, 232)
_REVISION = re.compile(r"-r(\d{3,})-[0-9a-f]{12}\.(?:png|jpg)$")


@dataclass(frozen=True)
class EncodedFile:
    """A print file in memory, with its extension and content hash."""

    data: bytes
    extension: str
    sha256: str


@dataclass(frozen=True)
class StoredRevision:
    """Where one revision of a print file and its preview were written: the local
    folder (`path`), and where they are kept for every host (`location`: the same
    path, or `s3://...` when storage is a bucket)."""

    path: Path
    preview_path: Path
    revision: int
    location: str = ""
    preview_location: str = ""


def encode_print_file(
    image: Image.Image, *, dpi: int, file_format: str = "png", notes: Sequence[tuple[str, str]] = ()
) -> EncodedFile:
    """Encode the print file losslessly (PNG) or as a high-quality JPEG, with DPI and sRGB."""
    if file_format == "png":
        metadata = PngMetadata(dpi=dpi, icc_profile=srgb_profile(), text=tuple(notes))
        data = encode_png(image, metadata)
        extension = "png"
    elif file_format == "jpeg":
        buffer = io.BytesIO()
        flat = flatten(image, CHECKER_LIGHT) if image.mode == "RGBA" else image.convert("RGB")
        flat.save(
            buffer,
            "JPEG",
            quality=JPEG_PRINT_QUALITY,
            subsampling=0,
            dpi=(dpi, dpi),
            icc_profile=srgb_profile(),
        )
        data, extension = buffer.getvalue(), "jpg"
    else:
        raise ValueError(f"unknown print file format {file_format!r}; expected 'png' or 'jpeg'")
    return EncodedFile(data, extension, hashlib.sha256(data).hexdigest())


def make_preview(image: Image.Image, long_edge: int = PREVIEW_LONG_EDGE) -> bytes:
    """A small JPEG for Slack and the sheet; transparency shown on a light checkerboard."""
    # A box-filter reduction by a whole factor is 3x faster than a Lanczos resize of a
    # 24-megapixel print file and looks the same at preview size.
    factor = max(1, round(max(image.size) / long_edge))
    small = image.reduce(factor) if factor > 1 else image.copy()
    if small.mode == "RGBA":
        backdrop = checkerboard(small.size)
        backdrop.paste(small, (0, 0), small)
        small = backdrop
    buffer = io.BytesIO()
    small.convert("RGB").save(buffer, "JPEG", quality=PREVIEW_QUALITY, optimize=True)
    return buffer.getvalue()


def checkerboard(size: tuple[int, int]) -> Image.Image:
    """The light grey checkerboard that stands for "nothing printed here"."""
    tile = Image.new("RGB", (2 * CHECKER_SQUARE, 2 * CHECKER_SQUARE), CHECKER_LIGHT)
    tile.paste(CHECKER_DARK, (CHECKER_SQUARE, 0, 2 * CHECKER_SQUARE, CHECKER_SQUARE))
    tile.paste(CHECKER_DARK, (0, CHECKER_SQUARE, CHECKER_SQUARE, 2 * CHECKER_SQUARE))
    board = Image.new("RGB", size)
    for top in range(0, size[1], tile.height):
        for left in range(0, size[0], tile.width):
            board.paste(tile, (left, top))
    return board


def flatten(image: Image.Image, colour: tuple[int, int, int]) -> Image.Image:
    """An RGBA image over a solid colour, as RGB."""
    backdrop = Image.new("RGB", image.size, colour)
    backdrop.paste(image, (0, 0), image)
    return backdrop


def store_revision(
    folder: Path,
    stem: str,
    encoded: EncodedFile,
    preview: bytes,
    storage: FileStorage | None = None,
    *,
    revision: int | None = None,
) -> StoredRevision:
    """Write a revision of `stem` (and its preview) without ever overwriting one.

    `revision` is the number the core handed out (`services.claim_revision`: unique
    on every host, so nothing is listed or locked here and a render costs the same
    however many files the shop has made). Without one (tools, tests), the next
    number after those in `folder` (and the shared storage) is taken under a lock
    per stem (`stem_lock`, removed after) serialising renders of that line on this
    host: that path lists the folder. Files appear atomically (written aside, then
    renamed), named by revision and content, so two renders never share a name
    with different bytes.
    With a shared `storage` (a bucket) both files are put there (preview first, so
    a recorded print file always has its preview); StorageUnavailable when it
    refuses: nothing is recorded. The bucket is then the storage: this host's copies
    are deleted once put, or refused, so a worker's disk does not fill with every
    print file it ever made. Every reader (links, Slack previews, the sheet,
    remakes, `podops storage migrate`) goes by the location.
    """
    folder.mkdir(parents=True, exist_ok=True)
    shared = storage if storage is not None and storage.kind != "local" else None
    if revision is not None:
        path, preview_path = _write_revision(folder, stem, revision, encoded, preview)
    else:
        with stem_lock(folder, stem):
            revision = next_revision(folder, stem)
            if shared is not None:
                listed = shared.names_starting(f"{stem}-r")
                revision = max(revision, highest_revision(listed, stem) + 1)
            path, preview_path = _write_revision(folder, stem, revision, encoded, preview)
    if shared is None:
        return StoredRevision(path, preview_path, revision, str(path), str(preview_path))
    try:
        preview_location = shared.put(preview_path.name, preview, "image/jpeg")
        media = "image/png" if encoded.extension == "png" else "image/jpeg"
        location = shared.put(path.name, encoded.data, media)
    finally:
        path.unlink(missing_ok=True)
        preview_path.unlink(missing_ok=True)
    return StoredRevision(path, preview_path, revision, location, preview_location)


def _write_revision(
    folder: Path, stem: str, revision: int, encoded: EncodedFile, preview: bytes
) -> tuple[Path, Path]:
    base = f"{stem}-r{revision:03d}-{encoded.sha256[:12]}"
    path = folder / f"{base}.{encoded.extension}"
    preview_path = folder / f"{base}-preview.jpg"
    _write_atomically(preview_path, preview)
    _write_atomically(path, encoded.data)
    return path, preview_path


@contextmanager
def stem_lock(folder: Path, stem: str, *, wait: bool = True) -> Iterator[bool]:
    """Hold `folder/.STEM.lock` exclusively (threads and processes of this host), and
    remove it before letting go, so the folder keeps no lock file per line ever
    rendered. Safe to remove: a waiter that then gets the lock of the removed file
    sees the path no longer names it and locks afresh. `wait=False`: yields False at
    once (nothing held) when another holds it."""
    path = folder / f".{stem}.lock"
    while True:
        handle = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(handle)
            yield False
            return
        try:
            current = os.stat(path)
        except FileNotFoundError:
            current = None
        mine = os.fstat(handle)
        if current is not None and (current.st_ino, current.st_dev) == (mine.st_ino, mine.st_dev):
            break
        os.close(handle)  # removed (or replaced) by its last holder: lock the new one
    try:
        yield True
    finally:
        path.unlink(missing_ok=True)
        os.close(handle)


def next_revision(folder: Path, stem: str) -> int:
    """One more than the highest revision of `stem` already in `folder`."""
    names = [entry.name for entry in folder.glob(f"{glob_escape(stem)}-r*")]
    return highest_revision(names, stem) + 1


def highest_revision(names: Sequence[str], stem: str) -> int:
    """The highest revision of `stem` among file names (0: none)."""
    revisions = [
        int(match.group(1))
        for name in names
        if (match := _REVISION.search(name)) and name.startswith(f"{stem}-r")
    ]
    return max(revisions, default=0)


def glob_escape(text: str) -> str:
    """`text` with glob wildcards neutralised."""
    return re.sub(r"([*?\[])", r"[\1]", text)


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
