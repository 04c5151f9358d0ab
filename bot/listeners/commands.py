"""`/order`: parse and check permission in the ack (inside Slack's 3 s), then
do the work in a lazy listener and answer privately through response_url.

A bought label (`/order label`) is said in the channel, with its PDF shared by
files_upload_v2; refusals stay private like every other answer."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot import blocks
from bot.app import Bot, attempt, slack_actor
from bot.deliveries import claim, delivery_id
from bot.listeners.modals import open_edit_modal
from bot.mrkdwn import words
from bot.operations import Reply
from bot.parsing import Command, parse
from podops.errors import PodopsError

COMMAND = "/order"


def accepted(bot: Bot, command: dict[str, Any]) -> Command | None:
    """The parsed command if it is real work this user may do, else None."""
    try:
        parsed = parse(command.get("text", ""))
        if parsed.name == "help":
            return None
        bot.authorizer.check(parsed.name, command["user_id"])
    except PodopsError:
        return None
    return parsed


def share(client: WebClient, channel: str, reply: Reply) -> str:
    """Post the reply with its file in the channel the command came from
    (files_upload_v2: upload URL, the bytes, complete); what Slack refused, or ""."""
    upload = reply.upload
    assert upload is not None
    try:
        client.files_upload_v2(
            channel=channel,
            content=upload.data,
            filename=upload.filename,
            title=upload.title,
            initial_comment=words(reply.text),
        )
    except SlackApiError as exc:
        return str(exc.response.get("error") or exc.response.status_code)
    except SlackClientError as exc:
        return str(exc)
    return ""


def register(app: App, bot: Bot) -> None:
    def ack_order(ack: Ack, command: dict[str, Any]) -> None:
        try:
            parsed = parse(command.get("text", ""))
            if parsed.name == "help":
                reply = bot.ops.help(parsed, slack_actor(command["user_id"], ""))
                ack(text=words(reply.text), blocks=reply.blocks, response_type="ephemeral")
                return
            bot.authorizer.check(parsed.name, command["user_id"])
        except PodopsError as exc:
            ack(text=words(f":no_entry: {exc.message}"), response_type="ephemeral")
            return
        ack()

    def run_order(
        command: dict[str, Any], body: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        parsed = accepted(bot, command)
        if parsed is None or not claim(bot.runtime.db, delivery_id(body)):
            return
        actor = slack_actor(command["user_id"], command.get("user_name", ""))
        if parsed.name == "edit":
            problem = open_edit_modal(
                bot, client, body["trigger_id"], parsed.reference, command["channel_id"]
            )
            if problem:
                respond(text=words(problem), response_type="ephemeral")
            return
        reply = attempt(lambda: bot.ops.run(parsed, actor))
        if reply.upload is not None:
            problem = share(client, command["channel_id"], reply)
            if not problem:
                return
            reply = Reply(f"{reply.text} :warning: The label file was not posted here ({problem}).")
        respond(
            text=words(reply.text),
            blocks=reply.blocks or blocks.reply_blocks(reply.text),
            response_type="in_channel" if reply.public else "ephemeral",
        )

    app.command(COMMAND)(ack=ack_order, lazy=[run_order])
