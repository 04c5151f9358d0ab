"""Socket Mode, for shops without a public URL: the same app over a websocket
opened with the app-level token (`xapp-…`, scope connections:write)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt.adapter.socket_mode import SocketModeHandler

from podops.errors import ConfigError
from podops.settings import env_name

if TYPE_CHECKING:
    from bot.context import SlackRuntime


def socket_mode_handler(runtime: SlackRuntime) -> SocketModeHandler | None:
    """A handler to `.connect()` (background) or `.start()`; None unless Socket Mode is on."""
    settings = runtime.settings.slack
    if not settings.enabled or not settings.socket_mode:
        return None
    if settings.app_token is None:
        raise ConfigError(
            f"Slack Socket Mode needs an app-level token; set {env_name('slack.app_token')}"
        )
    from bot.app import create_app

    return SocketModeHandler(create_app(runtime), settings.app_token.get_secret_value())
