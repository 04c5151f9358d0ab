"""Keep under Slack's per-channel limit (about one message a second, small
bursts) and respect a 429's Retry-After, without ever sleeping unboundedly: a
wait longer than `max_wait` becomes a retryable error so the outbox backs off.

The buckets live in a `Limits` backend (`podops.shared_limits`): on PostgreSQL
every podops process posting to a channel shares its one message a second, and
a 429 one process sees pauses the channel for all of them.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from podops.ports.notify import NotifyError
from podops.shared_limits import Limits, LocalLimits, Rate, Throttled


def slack_key(key: str) -> str:
    """The shared limiter's key for a channel (or a method key)."""
    return f"slack:{key}"


class ChannelPacer:
    """A token bucket per channel (or per method key)."""

    def __init__(
        self,
        rate_per_s: float = 1.0,
        burst: int = 2,
        *,
        max_wait: float = 5.0,
        limits: Limits | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = Rate(rate_per_s, burst)
        self.max_wait = max_wait
        self.limits: Limits = limits or LocalLimits(clock=clock)
        self.sleep = sleep

    def acquire(self, key: str) -> None:
        try:
            wait = self.limits.reserve(slack_key(key), self.rate, self.max_wait)
        except Throttled as exc:
            raise NotifyError(
                f"Slack asks us to slow down on {key}; retrying in a moment", retryable=True
            ) from exc
        if wait > 0:
            self.sleep(wait)

    def penalize(self, key: str, seconds: float) -> None:
        """Slack answered 429: nothing more on `key` for `seconds`, in every process."""
        try:
            self.limits.pause(slack_key(key), seconds)
        except Throttled:
            return  # the database is slow: this process's retry still backs off
