"""User-group membership for authorization, cached briefly so a burst of
commands costs one `usergroups.users.list` call per group."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from podops.errors import Forbidden

CACHE_SECONDS = 60.0


class SlackGroupDirectory:
    def __init__(
        self,
        client: WebClient,
        *,
        ttl: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.ttl = ttl
        self.clock = clock
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def members(self, group_id: str) -> frozenset[str]:
        with self._lock:  # one fetch per group at a time; the others wait and reuse it
            cached = self._cache.get(group_id)
            if cached and self.clock() - cached[0] < self.ttl:
                return cached[1]
            users = self._fetch(group_id)
            self._cache[group_id] = (self.clock(), users)
            return users

    def _fetch(self, group_id: str) -> frozenset[str]:
        try:
            response = self.client.usergroups_users_list(usergroup=group_id)
        except SlackClientError as exc:
            raise Forbidden(
                f"could not check membership of user group {group_id} with Slack ({exc}); "
                "try again in a minute"
            ) from exc
        return frozenset(str(u) for u in response.get("users") or [])
