"""Links to line previews for the Orders tab's `preview` column.

Previews sit beside the print files and are served by the same signed,
expiring `/files/` links (podops.links), so a link works only when
`render.link_secret` is set and `render.public_base_url` reaches this server;
otherwise the column stays empty. A signed link carries its expiry, so the
expiry is rounded to the day: the link in a cell stays the same all day (no
rewrite every cycle) and is still valid for at least `render.link_ttl_hours`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

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


def preview_links(settings: Settings) -> PreviewLinks | None:
    """Links when previews can be served (a link secret is set); else None (empty column)."""
    render = settings.render
    if render.link_secret is None or not render.public_base_url.strip():
        return None
    key = render.link_secret.get_secret_value().encode()
    return PreviewLinks(render.public_base_url, key, int(render.link_ttl_hours * 3600))
