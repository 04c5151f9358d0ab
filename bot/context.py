"""What the Slack app asks of the running application: everything a command may
reach (the core's `Everything`) plus the Slack Web API client built once by the
composition root. The bot never imports the composition root itself."""

from __future__ import annotations

from typing import Protocol

from slack_sdk import WebClient

from podops.ports.context import Everything


class SlackRuntime(Everything, Protocol):
    @property
    def slack_client(self) -> WebClient: ...
