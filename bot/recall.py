"""Finding what an earlier attempt already posted.

Slack has no idempotency key for `chat.postMessage` or file uploads, so a post
that Slack accepted just before the worker died would be posted again on the
retry. Every post therefore carries our own reference in its message metadata
(`podops_message` with the post key), and a retry first reads the channel
(`conversations.history`) or the thread (`conversations.replies`) since the
outbox message was written, and reuses the message it finds. Uploaded files
cannot carry metadata; they are recognised by their file name, which is unique
per upload (revision and digest in previews, the day in the summary chart).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

from slack_sdk import WebClient

from bot.webapi import PacedCalls, SlackRefused
from podops.ports.notify import NotifyError, PostKey

log = logging.getLogger(__name__)

EVENT_TYPE = "podops_message"
# This host's clock and Slack's may disagree a little; look back a bit further.
LOOKBACK = timedelta(minutes=5)
PAGE_SIZE = 200
MAX_PAGES = 25
LOOKUP_KEY = "conversations.history"
LIST_KEY = "conversations.list"
CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{6,}")
MISSING_SCOPE = (
    "the Slack app lacks the %s scope (%s for a private channel): posting without "
    "checking for an earlier attempt, so a retry after a crash may post twice"
)

Match = Callable[[dict[str, Any]], bool]


def metadata(key: PostKey) -> dict[str, Any]:
    """The message metadata that marks a post as ours, with its key."""
    return {"event_type": EVENT_TYPE, "event_payload": {"key": key.value}}


def carries_key(value: str) -> Match:
    def match(message: dict[str, Any]) -> bool:
        meta = message.get("metadata") or {}
        payload = meta.get("event_payload") or {}
        return bool(meta.get("event_type") == EVENT_TYPE and payload.get("key") == value)

    return match


def shares_file(filename: str) -> Match:
    def match(message: dict[str, Any]) -> bool:
        return any(f.get("name") == filename for f in message.get("files") or [])

    return match


class Recall:
    """Looks up earlier posts in a channel or thread; resolves channel names to ids."""

    def __init__(self, client: WebClient, call: PacedCalls) -> None:
        self.client = client
        self.call = call
        self._channel_ids: dict[str, str] = {}

    def remember_channel(self, name: str, channel_id: str) -> None:
        """A post answered with the channel's id: no need to list channels for it."""
        self._channel_ids[name] = channel_id

    def known_id(self, name: str) -> str | None:
        """The id of channel `name` if a post already told us, without asking Slack."""
        return self._channel_ids.get(name)

    def channel_id(self, name: str) -> str | None:
        """History needs the channel id; `slack.channel` may be a name ("#orders").
        None when the app may not list channels (then nothing can be checked)."""
        if CHANNEL_ID.fullmatch(name):
            return name
        if name not in self._channel_ids:
            try:
                self._channel_ids[name] = self._list_channel(name.lstrip("#"))
            except SlackRefused as exc:
                if exc.error != "missing_scope":
                    raise
                log.warning(MISSING_SCOPE, "channels:read", "groups:read")
                return None
        return self._channel_ids[name]

    def message(self, channel: str, key: PostKey, thread_ts: str | None = None) -> str | None:
        """The ts of the message carrying `key`, if an earlier attempt posted it."""
        return self._search(channel, key, carries_key(key.value), thread_ts)

    def file(self, channel: str, key: PostKey, filename: str, thread_ts: str | None) -> bool:
        """True if a file named `filename` was shared there since the key's time."""
        return self._search(channel, key, shares_file(filename), thread_ts) is not None

    def _search(
        self, channel: str, key: PostKey, match: Match, thread_ts: str | None
    ) -> str | None:
        oldest = f"{(key.since - LOOKBACK).timestamp():.6f}"
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            page = self._page(channel, oldest, thread_ts, cursor)
            found = next((m for m in page.get("messages") or [] if match(m)), None)
            if found is not None:
                log.info(
                    "Slack already has %s (ts %s): not posting it again", key.value, found["ts"]
                )
                return str(found["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return None
        log.warning("stopped looking for %s after %d pages of history", key.value, MAX_PAGES)
        return None

    def _page(
        self, channel: str, oldest: str, thread_ts: str | None, cursor: str | None
    ) -> dict[str, Any]:
        options: dict[str, Any] = {
            "channel": channel,
            "oldest": oldest,
            "limit": PAGE_SIZE,
            "include_all_metadata": True,
            "cursor": cursor,
        }
        try:
            if thread_ts:
                response = self.call(
                    LOOKUP_KEY, lambda: self.client.conversations_replies(ts=thread_ts, **options)
                )
            else:
                response = self.call(
                    LOOKUP_KEY, lambda: self.client.conversations_history(**options)
                )
        except SlackRefused as exc:
            if exc.error == "thread_not_found":
                return {}  # the thread is gone, so nothing of ours is in it
            if exc.error == "missing_scope":
                log.warning(MISSING_SCOPE, "channels:history", "groups:history")
                return {}
            raise
        return dict(response.data) if not isinstance(response.data, bytes) else {}

    def _list_channel(self, name: str) -> str:
        cursor: str | None = None
        while True:
            listing = partial(
                self.client.conversations_list,
                types="public_channel,private_channel",
                exclude_archived=True,
                limit=1000,
                cursor=cursor,
            )
            response = self.call(LIST_KEY, listing)
            for channel in response.get("channels") or []:
                if channel.get("name") == name:
                    return str(channel["id"])
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                raise NotifyError(
                    f"Slack channel #{name} not found (set slack.channel to the channel id, "
                    "or invite the bot to it)",
                    retryable=True,
                )
