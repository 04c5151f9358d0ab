"""Alert buttons: Submit now / Hold / Release / Already fulfilled / Edit / Cancel. Acked at once;
the work runs lazily and the clicker gets a private answer. Edit and Cancel
open a modal; the alert itself is refreshed through the outbox."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.app import Bot, attempt, slack_actor
from bot.deliveries import claim, delivery_id
from bot.listeners.modals import open_cancel_modal, open_edit_modal
from bot.mrkdwn import words
from bot.parsing import Command
from podops.errors import PodopsError

BUTTONS = ("submit", "hold", "release", "fulfilled", "edit", "cancel")
HOLD_REASON = "held from the Slack alert"


def ack_button(ack: Ack) -> None:
    ack()


def private(respond: Respond, text: str) -> None:
    respond(text=words(text), response_type="ephemeral", replace_original=False)


def button_handler(bot: Bot, name: str) -> Callable[..., None]:
    def run_button(body: dict[str, Any], respond: Respond, client: WebClient) -> None:
        user = body.get("user") or {}
        reference = str(body["actions"][0].get("value", ""))
        channel = str((body.get("channel") or {}).get("id", ""))
        try:
            bot.authorizer.check(name, user.get("id", ""))
        except PodopsError as exc:
            private(respond, f":no_entry: {exc.message}")
            return
        if name in ("edit", "cancel"):
            opener = open_edit_modal if name == "edit" else open_cancel_modal
            problem = opener(bot, client, body["trigger_id"], reference, channel)
            if problem:
                private(respond, problem)
            return
        if not claim(bot.runtime.db, delivery_id(body)):
            return
        actor = slack_actor(user.get("id", ""), user.get("username") or user.get("name", ""))
        command = Command(name, reference, reason=HOLD_REASON if name == "hold" else "")
        private(respond, attempt(lambda: bot.ops.run(command, actor)).text)

    run_button.__name__ = f"run_{name}_button"
    return run_button


def register(app: App, bot: Bot) -> None:
    for name in BUTTONS:
        app.action(f"order_{name}")(ack=ack_button, lazy=[button_handler(bot, name)])
