"""One time limit for a whole photo fetch: looking the host up, connecting, TLS,
every redirect, headers and body.

httpx's timeouts are per operation: each socket read may take the full time,
so four slow redirect hops under a 3 s limit took 11 s, and a server dripping
its headers a byte at a time never hits a read timeout at all. Here every
socket operation of the fetch waits at most until the one deadline, and fails
as a timeout once it has passed.

Looking a host name up (`resolve_until`) counts too: `socket.getaddrinfo` has no
timeout of its own, so a customer URL whose name server answers slowly, or
never, held a render worker for as long as the system resolver kept trying,
whatever the fetch's limit.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

AddressInfo = tuple[Any, ...]
"""One entry of `socket.getaddrinfo`'s answer."""


class LookupTimeout(Exception):
    """The host's address was not known by the fetch's deadline."""


def resolve_until(host: str, port: int, deadline: float) -> list[AddressInfo]:
    """`socket.getaddrinfo(host, port)` for TCP, given up at `deadline` (monotonic):
    LookupTimeout then; the lookup's own errors (`socket.gaierror`...) as raised.

    A lookup cannot be cancelled, so it runs on a daemon thread the fetch stops
    waiting for; the system resolver ends it after its own retries (seconds), so
    each worker leaves at most a few behind, and none keeps a process from exiting."""
    answer: list[list[AddressInfo]] = []
    failure: list[BaseException] = []
    done = threading.Event()

    def look_up() -> None:
        try:
            answer.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except BaseException as error:  # handed to the waiting fetch, raised there
            failure.append(error)
        finally:
            done.set()

    left = deadline - time.monotonic()
    if left <= 0:
        raise LookupTimeout(host)
    threading.Thread(target=look_up, name=f"resolve {host}", daemon=True).start()
    if not done.wait(max(0.0, deadline - time.monotonic())):
        raise LookupTimeout(host)
    if failure:
        raise failure[0]
    return answer[0]


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream, deadline: float) -> None:
        self.stream = stream
        self.deadline = deadline

    def _left(self, timeout: float | None, error: type[Exception]) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise error("the fetch's time limit has passed")
        return left if timeout is None else min(timeout, left)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.stream.read(max_bytes, self._left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.stream.write(buffer, self._left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self.stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        left = self._left(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(
            self.stream.start_tls(ssl_context, server_hostname, left), self.deadline
        )

    def get_extra_info(self, info: str) -> Any:
        return self.stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, deadline: float) -> None:
        self.backend = httpcore.SyncBackend()
        self.deadline = deadline

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise httpcore.ConnectTimeout("the fetch's time limit has passed")
        left = left if timeout is None else min(timeout, left)
        stream = self.backend.connect_tcp(host, port, left, local_address, socket_options)
        return _DeadlineStream(stream, self.deadline)


def transport_until(deadline: float) -> httpx.HTTPTransport:
    """An httpx transport whose every socket operation ends by `deadline` (monotonic)."""
    transport = httpx.HTTPTransport()
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(), network_backend=_DeadlineBackend(deadline)
    )
    return transport
