"""Who may run which command: `[slack.allowed_users]` maps a command to user ids
(`U…`) and user-group ids (`S…`). A command not listed is open to everyone in
the channel, unless a `"*"` entry gives the default list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from podops.errors import Forbidden
from podops.ports.notify import GroupDirectory

DEFAULT_KEY = "*"


class Authorizer:
    def __init__(self, allowed: Mapping[str, Sequence[str]], groups: GroupDirectory) -> None:
        self.allowed = {key.strip().lower(): list(ids) for key, ids in allowed.items()}
        self.groups = groups

    def rule_for(self, command: str) -> list[str] | None:
        """The ids allowed to run `command`, or None when it is open to everyone."""
        command = command.lower()
        if command in self.allowed:
            return self.allowed[command]
        return self.allowed.get(DEFAULT_KEY)

    def may(self, command: str, user_id: str) -> bool:
        rule = self.rule_for(command)
        if rule is None:
            return True
        if user_id in rule:
            return True
        return any(user_id in self.groups.members(g) for g in rule if g.startswith("S"))

    def check(self, command: str, user_id: str) -> None:
        """Raise Forbidden, with the reason in words, unless `user_id` may run `command`."""
        if not self.may(command, user_id):
            raise Forbidden(
                f"you are not allowed to run `{command}`; ask the shop owner to add you to "
                f"slack.allowed_users.{command}"
            )
