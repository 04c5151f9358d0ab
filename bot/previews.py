"""Links to print-file previews for order cards: signed, expiring URLs served
by the render routes, or none when no link secret is configured."""

from __future__ import annotations

from pathlib import Path

from bot.blocks import PreviewLink
from podops.settings import Settings

LINK_TTL_S = 7 * 24 * 3600


def preview_link(settings: Settings) -> PreviewLink | None:
    secret = settings.render.link_secret
    if secret is None or len(secret.get_secret_value()) < 16:
        return None
    from podops.links import signed_url

    key = secret.get_secret_value().encode()
    base = settings.render.public_base_url
    ttl = int(min(settings.render.link_ttl_hours * 3600, LINK_TTL_S))

    def link(path: str) -> str | None:
        return signed_url(base, Path(path).name, key, ttl_s=ttl)

    return link
