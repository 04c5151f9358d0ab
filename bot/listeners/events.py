"""Events API: App Home opened -> publish the dashboard for that person."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.app import Bot
from bot.home import publish_home, remember_user


def register(app: App, bot: Bot) -> None:
    def ack_event(ack: Ack) -> None:
        ack()

    def home_opened(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        user_id = str(event["user"])
        remember_user(bot.runtime, user_id)
        publish_home(bot.runtime, client, user_id)

    app.event("app_home_opened")(ack=ack_event, lazy=[home_opened])
