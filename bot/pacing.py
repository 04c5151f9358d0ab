"""Keep under Slack's per-channel limit (about one message a second, small
bursts) and respect a 429's Retry-After, without ever sleeping unboundedly: a
wait longer than `max_wait` becomes a retryable error so the outbox backs off.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from podops.ports.notify import NotifyError


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float
    blocked_until: float = 0.0


class ChannelPacer:
    """A token bucket per channel (or per method key)."""

    def __init__(
        self,
        rate_per_s: float = 1.0,
        burst: int = 2,
        *,
        max_wait: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate_per_s
        self.burst = float(burst)
        self.max_wait = max_wait
        self.clock = clock
        self.sleep = sleep
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def _reserve(self, key: str) -> float:
        """Take a token now or in the future; return how long to wait for it."""
        with self._lock:
            now = self.clock()
            bucket = self._buckets.setdefault(key, _Bucket(self.burst, now))
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            wait = max(0.0, bucket.blocked_until - now, (1.0 - bucket.tokens) / self.rate)
            if wait > self.max_wait:
                raise NotifyError(
                    f"Slack asks us to slow down on {key}; retrying in a moment", retryable=True
                )
            bucket.tokens -= 1.0
            return wait

    def acquire(self, key: str) -> None:
        wait = self._reserve(key)
        if wait > 0:
            self.sleep(wait)

    def penalize(self, key: str, seconds: float) -> None:
        """Slack answered 429: nothing more on `key` for `seconds`."""
        with self._lock:
            now = self.clock()
            bucket = self._buckets.setdefault(key, _Bucket(0.0, now))
            bucket.tokens = 0.0
            bucket.updated = now
            bucket.blocked_until = max(bucket.blocked_until, now + seconds)
