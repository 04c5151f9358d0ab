"""Links to stored files for the Orders tab: line previews (`preview`) and shipping
labels (`label`).

Previews and labels sit beside the print files and are served by the same signed,
expiring `/files/` links (podops.links) when `render.link_secret` is set and
`render.public_base_url` reaches the web role (a file kept in a bucket is redirected
there by that route). A signed link carries its expiry, so the expiry is rounded to
the day: the link in a cell stays the same all day (no rewrite every cycle) and is
still valid for at least `render.link_ttl_hours`.

Without signed links but with a bucket (`[storage] kind = "s3"`), a file in the bucket
gets a presigned URL, made once per period (a day, or half the presigned lifetime when
that is shorter) and kept, for the same reason. Otherwise the columns stay empty.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from podops.ports.storage import FileStorage, is_s3_location
from podops.settings import Settings

DAY_S = 24 * 3600


class PreviewLinks:
    """preview file -> link; `epoch` changes once a day, when every link is renewed."""

    def __init__(
        self,
        base_url: str,
        key: bytes,
        ttl_s: int,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.base_url = base_url
        self.key = key
        self.ttl_s = ttl_s
        self.clock = clock

    @property
    def epoch(self) -> int:
        return int(self.clock()) // DAY_S * DAY_S

    def __call__(self, preview: str) -> str:
        if preview.startswith(("http://", "https://")):
            return preview
        from podops.links import signed_url

        start = self.epoch
        return signed_url(
            self.base_url, Path(preview).name, self.key, ttl_s=self.ttl_s + DAY_S, now=lambda: start
        )


class PresignedLinks:
    """A bucket's file -> its presigned URL, the same all period (`epoch`); a local
    file (no web role to serve it) -> ""."""

    def __init__(
        self, storage: FileStorage, lifetime_s: int, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.storage = storage
        self.period_s = max(60, min(DAY_S, lifetime_s // 2))
        self.clock = clock
        self._made: dict[str, str] = {}
        self._epoch = -1

    @property
    def epoch(self) -> int:
        return int(self.clock()) // self.period_s * self.period_s

    def __call__(self, location: str) -> str:
        if location.startswith(("http://", "https://")):
            return location
        if not is_s3_location(location):
            return ""
        epoch = self.epoch
        if epoch != self._epoch:
            self._made, self._epoch = {}, epoch
        if location not in self._made:
            self._made[location] = self.storage.url_for(location)
        return self._made[location]


def preview_links(
    settings: Settings, storage: FileStorage | None = None
) -> PreviewLinks | PresignedLinks | None:
    """Signed links when files can be served (a link secret is set), presigned ones
    from a bucket; else None (empty columns)."""
    render = settings.render
    if render.link_secret is None or not render.public_base_url.strip():
        if storage is not None and storage.kind == "s3":
            return PresignedLinks(storage, int(settings.storage.presign_hours * 3600))
        return None
    key = render.link_secret.get_secret_value().encode()
    return PreviewLinks(render.public_base_url, key, int(render.link_ttl_hours * 3600))
