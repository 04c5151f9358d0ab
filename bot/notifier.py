"""The Slack side of the Notifier port: alerts, threaded events, the summary
and images, paced per channel and with Slack's failures mapped to
`NotifyError(retryable=...)` at this boundary.

Every post carries its key in message metadata; a post whose key says an
earlier attempt may have reached Slack is first looked up (`bot.recall`) and
reused, so a crash between Slack's answer and our commit posts nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from slack_sdk import WebClient

from bot.blocks import (
    PreviewLink,
    card_fallback,
    digest_blocks,
    digest_text,
    event_blocks,
    event_text,
    message_text,
    order_card_blocks,
    report_blocks,
    summary_blocks,
)
from bot.mrkdwn import md
from bot.pacing import ChannelPacer
from bot.recall import Recall, metadata
from bot.webapi import PacedCalls, SlackRefused
from podops.ports.notify import (
    AlertGone,
    DailySummary,
    Digest,
    EventNotice,
    OrderCard,
    PostKey,
)

log = logging.getLogger(__name__)

UPDATE_KEY = "chat.update"
# The message (or its thread, or the channel it was in) no longer exists.
GONE = frozenset({"message_not_found", "thread_not_found", "channel_not_found"})
UPLOAD_KEY = "files.upload"


def split_ref(ref: str) -> tuple[str, str]:
    channel, _, ts = ref.partition(":")
    return channel, ts


@contextmanager
def _gone_as(ref: str) -> Iterator[None]:
    """Slack's "that message is gone" answers become AlertGone (never retried)."""
    try:
        yield
    except SlackRefused as exc:
        if exc.error in GONE:
            raise AlertGone(ref) from exc
        raise


class SlackNotifier:
    def __init__(
        self,
        client: WebClient,
        channel: str,
        *,
        pacer: ChannelPacer | None = None,
        preview_link: PreviewLink | None = None,
    ) -> None:
        self.client = client
        self.channel = channel
        self.pacer = pacer or ChannelPacer()
        self.preview_link = preview_link
        self._call = PacedCalls(self.pacer)
        self.recall = Recall(client, self._call)

    def _post(
        self, channel: str, key: PostKey | None, thread_ts: str | None = None, **kwargs: Any
    ) -> str:
        """Post once: reuse the message an earlier attempt left, else post with the key."""
        if key is not None and key.look_first:
            existing = self._existing(channel, key, thread_ts)
            if existing is not None:
                return existing
        if key is not None:
            kwargs["metadata"] = metadata(key)
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
        response = self._call(
            channel,
            lambda: self.client.chat_postMessage(channel=channel, **kwargs),
            channel=self._named(channel),
        )
        self.recall.remember_channel(channel, str(response["channel"]))
        return f"{response['channel']}:{response['ts']}"

    def _named(self, channel: str) -> str:
        """The channel as staff configured it ("#orders"), when it is that one."""
        if channel in (self.channel, self.recall.known_id(self.channel)):
            return self.channel
        return channel

    def _existing(self, channel: str, key: PostKey, thread_ts: str | None) -> str | None:
        channel_id = self.recall.channel_id(channel)
        if channel_id is None:
            return None
        ts = self.recall.message(channel_id, key, thread_ts)
        return f"{channel_id}:{ts}" if ts else None

    def post_alert(self, card: OrderCard, key: PostKey | None = None) -> str:
        blocks = order_card_blocks(card, self.preview_link)
        return self._post(self.channel, key, text=card_fallback(card), blocks=blocks)

    def update_alert(self, ref: str, card: OrderCard) -> None:
        """Edit the alert in place; AlertGone when someone deleted it (or its channel)."""
        channel, ts = split_ref(ref)
        blocks = order_card_blocks(card, self.preview_link)
        with _gone_as(ref):
            self._call(
                UPDATE_KEY,
                lambda: self.client.chat_update(
                    channel=channel, ts=ts, text=card_fallback(card), blocks=blocks
                ),
                channel=self._named(channel),
            )

    def post_event(
        self, notice: EventNotice, thread: str | None, key: PostKey | None = None
    ) -> str:
        blocks = event_blocks(notice)
        if thread:
            channel, ts = split_ref(thread)
            with _gone_as(thread):
                return self._post(channel, key, ts, text=event_text(notice), blocks=blocks)
        return self._post(self.channel, key, text=event_text(notice), blocks=blocks)

    def post_digest(self, digest: Digest, key: PostKey | None = None) -> str:
        blocks = digest_blocks(digest)
        return self._post(self.channel, key, text=digest_text(digest), blocks=blocks)

    def post_report(self, title: str, lines: list[str], key: PostKey | None = None) -> str:
        blocks = report_blocks(title, lines)
        return self._post(self.channel, key, text=message_text(md("{}", title)), blocks=blocks)

    def post_summary(self, summary: DailySummary, key: PostKey | None = None) -> str:
        text = message_text(md("Daily summary for {}", summary.day.isoformat()))
        return self._post(self.channel, key, text=text, blocks=summary_blocks(summary))

    def post_image(
        self,
        ref: str,
        data: bytes,
        *,
        filename: str,
        title: str,
        in_thread: bool,
        key: PostKey | None = None,
    ) -> None:
        channel, ts = split_ref(ref)
        thread_ts = ts if in_thread else None
        if (
            key is not None
            and key.look_first
            and self.recall.file(channel, key, filename, thread_ts)
        ):
            log.info("Slack already has %s in %s: not uploading it again", filename, ref)
            return
        self.pacer.acquire(channel)
        self._call(
            UPLOAD_KEY,
            lambda: self.client.files_upload_v2(
                channel=channel,
                content=data,
                filename=filename,
                title=title,
                thread_ts=thread_ts,
            ),
            channel=self._named(channel),
        )
