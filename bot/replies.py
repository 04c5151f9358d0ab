"""Telling one person the result of a form (edit, cancel) where they will see it.

`chat.postEphemeral` works only in a channel the bot is a member of, and fails
(`not_in_channel`, `channel_not_found`, `user_not_in_channel`) where it is not;
the person would never learn whether their edit was saved. So the result goes,
in this order: privately in the channel the form came from, by direct message
(conversations.open + chat.postMessage), privately in the orders channel. When
none works the result is logged and `podops status` shows it (as an error of
`slack.replies`), with what Slack answered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.mrkdwn import words
from podops.db import Database
from podops.notify.undelivered import remember_undelivered

log = logging.getLogger(__name__)


def _ephemeral(client: WebClient, channel: str, user: str, text: str) -> Callable[[], object]:
    return lambda: client.chat_postEphemeral(channel=channel, user=user, text=text)


def _direct(client: WebClient, user: str, text: str) -> Callable[[], object]:
    def send() -> object:
        opened = client.conversations_open(users=user)
        return client.chat_postMessage(channel=str(opened["channel"]["id"]), text=text)

    return send


def tell_privately(
    db: Database, client: WebClient, user: str, text: str, *, origin: str, orders: str
) -> str:
    """Where `text` reached `user` ("ephemeral", "dm", "orders"), or "" when nowhere."""
    safe = words(text)
    routes = [
        ("ephemeral", _ephemeral(client, origin, user, safe) if origin else None),
        ("dm", _direct(client, user, safe)),
        ("orders", _ephemeral(client, orders, user, safe) if orders != origin else None),
    ]
    answers = []
    for name, send in routes:
        if send is None:
            continue
        try:
            send()
            return name
        except SlackApiError as exc:
            answers.append(f"{name}: {exc.response.get('error')}")
        except SlackClientError as exc:
            answers.append(f"{name}: {exc}")
    why = "; ".join(answers)
    log.error("could not tell %s %r: %s", user, text, why)
    remember_undelivered(db, f"could not tell Slack user {user} {text!r} ({why})")
    return ""
