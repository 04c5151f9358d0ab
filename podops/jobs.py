"""The job wrapper: each scheduled job is a named, idempotent function whose
body holds only business calls; this wrapper owns logging and error capture."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from podops.errors import PodopsError

log = logging.getLogger("podops.jobs")


@dataclass(frozen=True, slots=True)
class JobSpec:
    """A job and its trigger (APScheduler `add_job` keyword arguments)."""

    name: str
    func: Callable[[], Any]
    trigger: str = "interval"
    trigger_args: dict[str, Any] = field(default_factory=dict)
    singleton: bool = False
    """Only one instance in the whole deployment runs it (a database lease)."""


Guard = Callable[[str], AbstractContextManager[bool]]
"""Given a job name, a context that yields whether this process may run it now."""


def run_job(spec: JobSpec, guard: Guard | None = None) -> Any:
    if spec.singleton and guard is not None:
        with guard(spec.name) as mine:
            if not mine:
                log.debug("job %s skipped: another instance runs it", spec.name)
                return None
            return _run(spec)
    return _run(spec)


def _run(spec: JobSpec) -> Any:
    started = time.monotonic()
    try:
        result = spec.func()
    except PodopsError as exc:
        log.warning("job %s refused: %s", spec.name, exc.message)
        return None
    except Exception:
        log.exception("job %s failed", spec.name)
        return None
    log.debug("job %s done in %.3fs", spec.name, time.monotonic() - started)
    return result
