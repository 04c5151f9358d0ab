"""Deterministic kill points: a gate in front of any of the fake servers.

The fakes are `http.server` servers; `gate(server)` swaps in a handler
subclass that can stop one matching request either *before* the fake acts on
it (the request never arrives, as when the network drops it) or *after* the
fake acted and before the answer leaves (the outside system did the work but
the worker never hears of it). The test waits for `held`, SIGKILLs the worker,
then calls `release()`. A *slow* gate only delays the request: once released,
the fake acts on it and answers as usual (a provider slow to answer one call).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import HTTPServer
from typing import Any, Literal

Match = Callable[[str, str], bool]
Mode = Literal["before", "after", "slow"]


@dataclass
class Gate:
    """Holds the `skip`+1-th request that matches, once."""

    match: Match | None = None
    mode: Mode = "before"
    skip: int = 0
    held: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    seen: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def arm(self, match: Match, mode: Mode, *, skip: int = 0) -> None:
        with self._lock:
            self.match, self.mode, self.skip = match, mode, skip
            self.held.clear()
            self.released.clear()

    def take(self, method: str, path: str) -> Mode | None:
        with self._lock:
            if self.match is None or not self.match(method, path):
                return None
            if self.skip:
                self.skip -= 1
                return None
            self.match = None
            self.seen.append(f"{method} {path}")
            return self.mode

    def stall(self) -> None:
        self.held.set()
        self.released.wait(120)

    def wait_held(self, timeout: float = 90) -> None:
        """Wait for the worker's request. Generous: a worker (or `podops run`) starting on a
        busy machine takes many seconds before its first request; it is a deadline for a
        hang, not a speed the test assumes."""
        if not self.held.wait(timeout):
            raise AssertionError("the gated request never came")

    def release(self) -> None:
        self.released.set()


def gate(server: HTTPServer) -> Gate:
    """Put a Gate in front of a running fake (its server's handler class)."""
    chosen = Gate()
    base: Any = server.RequestHandlerClass

    class Gated(base):  # type: ignore[misc, valid-type]
        _gate_real_wfile: Any = None
        wfile: Any
        close_connection: bool

        def handle_one_request(self) -> None:
            self._gate_real_wfile = None
            super().handle_one_request()
            if self._gate_real_wfile is not None:
                self.wfile = self._gate_real_wfile
                self.close_connection = True
                chosen.stall()  # the answer is never sent: the worker is gone

        def parse_request(self) -> bool:
            if not super().parse_request():
                return False
            mode = chosen.take(self.command, self.path)
            if mode == "before":
                chosen.stall()
                self.close_connection = True
                return False
            if mode == "after":
                self._gate_real_wfile = self.wfile
                self.wfile = io.BytesIO()
            if mode == "slow":
                chosen.stall()
            return True

    server.RequestHandlerClass = Gated
    return chosen


def is_request(method: str, fragment: str) -> Match:
    return lambda m, p: m == method and fragment in p
