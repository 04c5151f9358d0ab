"""Paced Slack Web API calls with Slack's failures mapped to
`NotifyError(retryable=...)` at this boundary, shared by the notifier and the
look-up of earlier posts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError

from bot.pacing import ChannelPacer
from podops.ports.notify import NotifyError

# Errors that mean "this message can never be sent as it is".
PERMANENT = frozenset(
    {"invalid_blocks", "invalid_blocks_format", "msg_too_long", "invalid_arguments", "no_text"}
)


class SlackRefused(NotifyError):
    """Slack answered `ok: false`; `error` is its error code."""

    def __init__(self, message: str, *, error: str, retryable: bool) -> None:
        super().__init__(message, retryable=retryable)
        self.error = error


class PacedCalls:
    """One paced call per key; one bounded retry after a 429, then a retryable error."""

    def __init__(self, pacer: ChannelPacer) -> None:
        self.pacer = pacer

    def __call__(self, key: str, call: Callable[[], Any]) -> Any:
        for attempt in (1, 2):
            self.pacer.acquire(key)
            try:
                return call()
            except SlackApiError as exc:
                response = exc.response
                error = str(response.get("error", "unknown_error"))
                if response.status_code == 429 or error == "ratelimited":
                    retry_after = float(response.headers.get("Retry-After", 1) or 1)
                    self.pacer.penalize(key, retry_after)
                    if attempt == 1:
                        continue
                    raise NotifyError(f"Slack is rate limiting {key}", retryable=True) from exc
                raise SlackRefused(
                    f"Slack refused: {error}", error=error, retryable=error not in PERMANENT
                ) from exc
            except SlackClientError as exc:
                raise NotifyError(f"cannot reach Slack: {exc}", retryable=True) from exc
            except OSError as exc:
                raise NotifyError(f"cannot reach Slack: {exc}", retryable=True) from exc
        raise NotifyError(f"Slack is rate limiting {key}", retryable=True)
