"""Print files in a local folder (the default storage): written aside and renamed,
served by the web role's signed, expiring links (`render/links.py`).

Only one host can serve these files; docs/several-hosts.md says when to move to s3.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from podops.errors import ConfigError, StorageUnavailable
from podops.links import signed_url
from podops.ports.storage import file_name, is_s3_location

_PLAIN_NAME = re.compile(r"^[^/\\\x00.][^/\\\x00]*$")


def check_name(name: str) -> str:
    """A plain file name (no folders, not hidden): what callers may store."""
    if not _PLAIN_NAME.match(name):
        raise ValueError(f"not a plain file name: {name!r}")
    return name


class LocalStorage:
    """The render output folder; links signed with `key` for `ttl_s` seconds."""

    kind = "local"

    def __init__(self, folder: Path, public_base_url: str, key: bytes | None, ttl_s: int) -> None:
        self.folder = Path(folder)
        self.public_base_url = public_base_url
        self.key = key
        self.ttl_s = ttl_s

    def put(self, name: str, data: bytes, content_type: str) -> str:
        path = self.folder / check_name(name)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with open(temporary, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise StorageUnavailable(
                f"cannot write {name} in {self.folder}: {exc.strerror}"
            ) from exc
        return str(path)

    def location_of(self, name: str) -> str:
        return str(self.folder / check_name(name))

    def names_starting(self, start: str) -> list[str]:
        if not self.folder.is_dir():
            return []
        return sorted(
            entry.name for entry in os.scandir(self.folder) if entry.name.startswith(start)
        )

    def read(self, location: str) -> bytes:
        try:
            return Path(location).read_bytes()
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise StorageUnavailable(f"cannot read {location}: {exc.strerror}") from exc

    def exists(self, location: str) -> bool:
        return Path(location).is_file()

    def delete(self, location: str) -> None:
        Path(location).unlink(missing_ok=True)

    @property
    def serves_links(self) -> bool:
        """Whether the web role serves `/files/` links (a key signs them and
        `public_base_url` says where the web role is reached)."""
        return self.key is not None and bool(self.public_base_url.strip())

    def web_link(self, name: str) -> str:
        """The web role's signed link to the stored file `name`, valid `ttl_s`."""
        if self.key is None:
            raise ValueError("no link secret: the web role serves no links")
        return signed_url(self.public_base_url, check_name(name), self.key, ttl_s=self.ttl_s)

    def url_for(self, location: str) -> str:
        if location.startswith(("http://", "https://")):
            return location
        if self.key is None:
            return Path(location).resolve().as_uri()
        return signed_url(self.public_base_url, file_name(location), self.key, ttl_s=self.ttl_s)

    def owns(self, location: str) -> bool:
        return not is_s3_location(location) and not location.startswith(("http://", "https://"))

    def check(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(
                f"render.output_dir: cannot create {self.folder}: {exc.strerror}"
            ) from exc
