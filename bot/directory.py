"""User-group membership for authorization, read inside a slash command's ack.

Slack wants the ack within 3 seconds, so a membership check must never wait
long on Slack: a known group is answered from memory (refreshed in the
background once it is older than `ttl`), and only a group never loaded yet is
fetched while the person waits, with a short timeout and no retries. If that
fetch fails the command is refused politely ("try again"); nothing is run on
a guess. One fetch per group at a time; the lock only guards the cache, it is
never held during a call to Slack.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from podops.errors import Forbidden

log = logging.getLogger(__name__)

CACHE_SECONDS = 60.0
MAX_STALE_SECONDS = 3600.0  # past this a cached list is not trusted without Slack
FETCH_TIMEOUT_S = 1.0
NO_SUCH_GROUP = frozenset({"no_such_subteam", "subteam_not_found"})


class Unreachable(Exception):
    """Slack did not tell us the members (timeout, outage, missing scope)."""


def quick_client(client: WebClient, timeout: float) -> WebClient:
    """The same workspace and token, with a short timeout and no retries."""
    return WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=timeout,  # type: ignore[arg-type]  # urllib takes a float
        ssl=client.ssl,
        proxy=client.proxy,
        headers=dict(client.headers),
        retry_handlers=[],
    )


class SlackGroupDirectory:
    def __init__(
        self,
        client: WebClient,
        *,
        ttl: float = CACHE_SECONDS,
        max_stale: float = MAX_STALE_SECONDS,
        timeout: float = FETCH_TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = quick_client(client, timeout)
        self.ttl = ttl
        self.max_stale = max_stale
        self.timeout = timeout
        self.clock = clock
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}
        self._loading: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def members(self, group_id: str) -> frozenset[str]:
        """The group's members, at once from memory when known (see the module doc)."""
        with self._lock:
            cached = self._cache.get(group_id)
        if cached is not None:
            age = self.clock() - cached[0]
            if age < self.ttl:
                return cached[1]
            if age < self.max_stale:
                self._refresh_in_background(group_id)
                return cached[1]
        return self._load_now(group_id)

    def _claim(self, group_id: str) -> tuple[threading.Event, bool]:
        """The group's in-flight fetch, and whether this caller must run it."""
        with self._lock:
            running = self._loading.get(group_id)
            if running is not None:
                return running, False
            running = self._loading[group_id] = threading.Event()
            return running, True

    def _release(self, group_id: str, running: threading.Event) -> None:
        with self._lock:
            self._loading.pop(group_id, None)
        running.set()

    def _refresh_in_background(self, group_id: str) -> None:
        running, mine = self._claim(group_id)
        if not mine:
            return

        def refresh() -> None:
            try:
                self._store(group_id, self._fetch(group_id))
            except Unreachable as exc:
                log.warning("keeping the cached members of %s: %s", group_id, exc)
            finally:
                self._release(group_id, running)

        threading.Thread(target=refresh, name=f"usergroup-{group_id}", daemon=True).start()

    def _load_now(self, group_id: str) -> frozenset[str]:
        running, mine = self._claim(group_id)
        if not mine:  # someone is fetching it right now: wait for that answer
            running.wait(self.timeout + 0.5)
            with self._lock:
                cached = self._cache.get(group_id)
            if cached is not None and self.clock() - cached[0] < self.max_stale:
                return cached[1]
            raise _refusal()
        try:
            users = self._fetch(group_id)
        except Unreachable as exc:
            log.warning("could not load the members of user group %s: %s", group_id, exc)
            raise _refusal() from None
        finally:
            self._release(group_id, running)
        self._store(group_id, users)
        return users

    def _store(self, group_id: str, users: frozenset[str]) -> None:
        with self._lock:
            self._cache[group_id] = (self.clock(), users)

    def _fetch(self, group_id: str) -> frozenset[str]:
        try:
            response = self.client.usergroups_users_list(usergroup=group_id)
        except SlackApiError as exc:
            error = str(exc.response.get("error", "unknown_error"))
            if error in NO_SUCH_GROUP:
                log.warning("slack.allowed_users names %s, which is not a user group", group_id)
                return frozenset()
            raise Unreachable(f"Slack answered {error}") from exc
        except (SlackClientError, OSError) as exc:
            raise Unreachable(str(exc) or type(exc).__name__) from exc
        return frozenset(str(u) for u in response.get("users") or [])


def _refusal() -> Forbidden:
    return Forbidden("could not check your permissions with Slack just now; try again in a moment")
