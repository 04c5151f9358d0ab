"""The fake Google Sheets server in a process of its own.

Google's servers do their parsing and answering on other machines; a fake in
the benchmark's own process would put that work (and its share of the GIL) in
podops' wall time. Here the fake runs in a child process and is driven over a
pipe: the same requests, counts and cell contents as `FakeSheetsServer`.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.connection import Connection
from typing import Any

from tests.fakes.sheets_server import FakeSheetsServer


def _serve(commands: Connection) -> None:
    with FakeSheetsServer() as server:
        commands.send((server.base, server.fake.id))
        while True:
            name, args = commands.recv()
            if name == "stop":
                commands.send(None)
                return
            if name == "stats":
                commands.send((len(server.fake.log), server.fake.bytes))
            elif name == "reset_log":
                server.fake.reset_log()
                commands.send(None)
            elif name == "values":
                commands.send(server.fake.values(*args))
            else:
                commands.send(ValueError(f"unknown command {name!r}"))


class FakeSheetsProcess:
    """Starts the fake in a spawned child; `base` and `spreadsheet_id` as for the thread one."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._pipe, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child,), daemon=True)
        self.base = ""
        self.spreadsheet_id = ""

    def __enter__(self) -> FakeSheetsProcess:
        self._process.start()
        self.base, self.spreadsheet_id = self._pipe.recv()
        return self

    def __exit__(self, *exc: object) -> None:
        self._call("stop")
        self._process.join(timeout=10)

    def _call(self, name: str, *args: Any) -> Any:
        self._pipe.send((name, args))
        answer = self._pipe.recv()
        if isinstance(answer, Exception):
            raise answer
        return answer

    def reset_log(self) -> None:
        self._call("reset_log")

    def stats(self) -> tuple[int, int]:
        """(requests served, bytes in and out) since the last reset."""
        count, size = self._call("stats")
        return int(count), int(size)

    def values(self, title: str) -> list[list[str]]:
        return list(self._call("values", title))
