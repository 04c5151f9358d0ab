"""Kill points: places in podops' own code where a worker process SIGKILLs itself.

A gate (gates.py) kills the worker while it waits for an outside system. These
kill it at the moments that matter most for exactly-once, each *inside* the
transaction that would have recorded what the outside system did (its rows
already written to the database, uncommitted), as a power cut would:

- `provider answered`: the provider created the order and answered; the worker
  is recording the answer and dies before the commit;
- `shop stored a tracking` / `shop stored a status`: the shop stored the change;
  the worker is recording the outbox message as delivered and dies before the commit;
- `intake page`: the worker wrote a page of shop orders (and the pass position)
  and dies before the commit.

Like the guard removals (guards.py) this is test code the production code never
reads: `hooks/sitecustomize.py` calls `arm("NAME@N")` in a process started with
RELIABILITY_KILL_AT set, and the process dies the N-th time (default: the first)
it reaches the point.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

KILL_ENV = "RELIABILITY_KILL_AT"
REACHED = "kill point reached:"


class _Countdown:
    def __init__(self, name: str, at: int) -> None:
        self.name, self.left = name, at
        self.lock = threading.Lock()

    def reached(self, session: Session) -> None:
        """Write what the transaction holds so far, then die on the N-th call."""
        with self.lock:
            self.left -= 1
            if self.left:
                return
            session.flush()  # the rows are in the database, uncommitted
            print(f"{REACHED} {self.name}", file=sys.stderr, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)


def _after_provider_answer(point: _Countdown) -> None:
    from podops import services
    from podops.services import submission

    original = services.mark_submitted

    def mark_then_die(session: Session, *args: Any, **kwargs: Any) -> Any:
        order = original(session, *args, **kwargs)
        point.reached(session)
        return order

    services.mark_submitted = mark_then_die  # type: ignore[assignment]
    submission.mark_submitted = mark_then_die  # type: ignore[assignment]


def _after_store_write(handler: str) -> Callable[[_Countdown], None]:
    def install(point: _Countdown) -> None:
        import sync.pushback

        cls = getattr(sync.pushback, handler)
        original = cls.record

        def record_then_die(self: Any, session: Session, *args: Any) -> None:
            original(self, session, *args)
            point.reached(session)

        cls.record = record_then_die

    return install


def _inside_intake_page(point: _Countdown) -> None:
    from podops.intake import passes

    original = passes.save_position

    def save_then_die(session: Session, *args: Any, **kwargs: Any) -> None:
        original(session, *args, **kwargs)
        point.reached(session)

    passes.save_position = save_then_die  # type: ignore[assignment]


POINTS: dict[str, Callable[[_Countdown], None]] = {
    "provider answered": _after_provider_answer,
    "shop stored a tracking": _after_store_write("ParcelPush"),
    "shop stored a status": _after_store_write("StatusPush"),
    "intake page": _inside_intake_page,
}


def at(name: str, nth: int = 1) -> str:
    """The RELIABILITY_KILL_AT value for the `nth` time the point is reached."""
    if name not in POINTS:
        raise KeyError(name)
    return f"{name}@{nth}"


def arm(spec: str) -> None:
    """Install the kill point named by `spec` ("NAME" or "NAME@N") in this process."""
    name, _, nth = spec.partition("@")
    POINTS[name](_Countdown(name, int(nth or 1)))
