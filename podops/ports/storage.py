"""Where print files, previews and packing slips are kept, as the core sees it.

Two kinds serve this port (`[storage] kind`): the local folder, served by the web
role's signed links (`providers/storage_local.py`), and an S3-compatible bucket
whose links are presigned URLs (`providers/storage_s3.py`), so that any host can
write a file and any other host, or a provider, can fetch it.

A stored file is known by its *location*, the string kept on the line item
(`LineItem.print_file`, `preview_file`, `placed_files`): an absolute path for the
local folder (as podops always stored), `s3://bucket/key` for a bucket. Names are
given by the caller and carry the content hash, so writing the same name twice
writes the same bytes; a write is visible only when complete (a temporary file
renamed; an S3 PUT), never half a file.

Every method raises `podops.errors.StorageUnavailable` when the storage cannot be
reached or refuses; `check()` at start-up raises `ConfigError` naming the setting.
"""

from __future__ import annotations

from typing import Protocol

S3_SCHEME = "s3://"


def is_s3_location(location: str) -> bool:
    return location.startswith(S3_SCHEME)


def split_s3_location(location: str) -> tuple[str, str]:
    """`s3://bucket/a/b.png` -> (`bucket`, `a/b.png`)."""
    bucket, _, key = location.removeprefix(S3_SCHEME).partition("/")
    return bucket, key


def file_name(location: str) -> str:
    """The file's own name (the last part of its path or key)."""
    return location.rstrip("/").rsplit("/", 1)[-1]


class FileStorage(Protocol):
    kind: str
    """`local` or `s3`, as configured."""

    def put(self, name: str, data: bytes, content_type: str) -> str:
        """Store `data` as `name` (a plain file name, named by content) atomically;
        its location."""
        ...

    def location_of(self, name: str) -> str:
        """Where `name` is (or would be) stored here, without asking the storage."""
        ...

    def names_starting(self, start: str) -> list[str]:
        """Names of stored files beginning with `start` (a line's revisions, for renders
        given no revision number: tools and tests; the core hands one out)."""
        ...

    def read(self, location: str) -> bytes:
        """The stored bytes; FileNotFoundError when there is no such file."""
        ...

    def exists(self, location: str) -> bool: ...

    def delete(self, location: str) -> None:
        """Remove the file; nothing when it is already gone."""
        ...

    def url_for(self, location: str) -> str:
        """A link a provider or a person can download the file from, for the configured
        lifetime: a signed link to the web role when one serves links (a bucket's file
        is redirected to a fresh presigned URL at download time), a presigned URL (s3
        without a web role: at most 7 days), or a `file://` URI when local links are
        off."""
        ...

    def owns(self, location: str) -> bool:
        """Whether `location` is of this storage's kind (a local path, an s3:// URL)."""
        ...

    def check(self) -> None:
        """At start-up: the bucket exists and the keys may write it (ConfigError)."""
        ...
