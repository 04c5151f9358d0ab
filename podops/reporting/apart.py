"""Run one heavy job (a chart, a report) in a short-lived child process.

The service stays under its idle memory target only if pandas and matplotlib never
enter it: the daily chart and the weekly report are computed in a fresh interpreter
(multiprocessing's `spawn`), which exits with everything it imported. The function
and its arguments must be picklable (module-level functions, plain data, Settings).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

TIMEOUT_S = 300.0


def run_apart(function: Callable[..., T], *args: Any, timeout_s: float = TIMEOUT_S) -> T:
    """`function(*args)` computed in a child process; its exception is raised here."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(function, *args).result(timeout=timeout_s)


class DrawnApart:
    """A chart renderer that draws in a child process (the service's `Runtime.chart`)."""

    def __init__(self, draw: Callable[..., bytes]) -> None:
        self.draw = draw

    def __call__(self, *args: Any) -> bytes:
        return run_apart(self.draw, *args)
