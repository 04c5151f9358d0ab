"""Moving stored files from the local folder into the bucket (`podops storage migrate`).

Every location the database keeps (line items' print files, previews and placed
files) that is still a local path is uploaded under its own name, read back and
compared by SHA-256, and only then rewritten to its `s3://` location, in a short
transaction per batch of lines. The local file is left in place (delete it once
satisfied). So the move is idempotent (a line already in the bucket is skipped, a
file already uploaded is only verified) and resumable (stopped anywhere, the next
run does what is left); a missing local file is reported and its line left as is.
Packing slips are made again by the manual provider on its next look-up, so they
are copied as files only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select

from podops.db import Database
from podops.models import LineItem
from podops.ports.storage import FileStorage, file_name
from podops.services.designs import relocate_files

BATCH = 200
MEDIA = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".pdf": "application/pdf",
}


@dataclass
class MigrationReport:
    lines_moved: int = 0
    files_uploaded: int = 0
    files_verified: int = 0
    """Already in the bucket with the same bytes (an earlier, interrupted run)."""
    missing: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)


class Migration:
    def __init__(
        self,
        db: Database,
        local: FileStorage,
        target: FileStorage,
        say: Callable[[str], None] = lambda _: None,
    ) -> None:
        self.db = db
        self.local = local
        self.target = target
        self.say = say
        self.report = MigrationReport()
        self._moved: dict[str, str | None] = {}
        self._was: dict[int, str] = {}

    def run(self, extra_folder: Path | None = None) -> MigrationReport:
        after = 0
        while True:
            with self.db.reading() as session:
                rows = session.execute(
                    select(
                        LineItem.id,
                        LineItem.print_file,
                        LineItem.preview_file,
                        LineItem.placed_files,
                    )
                    .where(
                        LineItem.id > after,
                        LineItem.print_file.is_not(None),
                        or_(
                            ~LineItem.print_file.like("s3://%"),
                            ~LineItem.preview_file.like("s3://%"),
                        ),
                    )
                    .order_by(LineItem.id)
                    .limit(BATCH)
                ).all()
            if not rows:
                break
            after = rows[-1].id
            updates = [self._line(*row) for row in rows]
            self._record([u for u in updates if u is not None])
        if extra_folder is not None and extra_folder.is_dir():
            for path in sorted(extra_folder.glob("packing-slip-*.pdf")):
                self._move(str(path))
        return self.report

    def _line(
        self, line_id: int, print_file: str, preview: str | None, placed: list[Any] | None
    ) -> tuple[int, dict[str, Any]] | None:
        values: dict[str, Any] = {}
        self._was[line_id] = print_file
        moved = self._move(print_file)
        if moved is None:
            return None
        values["print_file"] = moved
        if preview:
            values["preview_file"] = self._move(preview) or preview
        if placed:
            entries = []
            for entry in placed:
                entry = dict(entry)
                for key in ("path", "preview"):
                    if entry.get(key):
                        entry[key] = self._move(str(entry[key])) or entry[key]
                entries.append(entry)
            values["placed_files"] = entries
        return line_id, values

    def _move(self, location: str) -> str | None:
        """The file's new location once uploaded and verified; None when it cannot be."""
        if self.target.owns(location):
            return location
        if location in self._moved:
            return self._moved[location]
        self._moved[location] = result = self._upload(location)
        return result

    def _upload(self, location: str) -> str | None:
        try:
            data = self.local.read(location)
        except FileNotFoundError:
            self.report.missing.append(location)
            self.say(f"missing here: {location} (left as it is)")
            return None
        name = file_name(location)
        digest = hashlib.sha256(data).hexdigest()
        target = self.target.location_of(name)
        if self.target.exists(target) and _sha(self.target.read(target)) == digest:
            self.report.files_verified += 1
            return target
        target = self.target.put(
            name, data, MEDIA.get(Path(name).suffix.lower(), "application/octet-stream")
        )
        if _sha(self.target.read(target)) != digest:
            self.report.mismatched.append(location)
            self.say(f"read back differs: {location} (left as it is)")
            return None
        self.report.files_uploaded += 1
        return target

    def _record(self, updates: list[tuple[int, dict[str, Any]]]) -> None:
        if not updates:
            return
        moved = 0
        with self.db.unit_of_work() as session:
            for line_id, values in updates:
                # a line re-rendered meanwhile keeps its new file; the next run sees it
                moved += relocate_files(
                    session,
                    line_id,
                    was=self._was[line_id],
                    print_file=values["print_file"],
                    preview_file=values.get("preview_file"),
                    placed_files=values.get("placed_files"),
                )
        self.report.lines_moved += moved
        self.say(f"{self.report.lines_moved} lines moved")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
