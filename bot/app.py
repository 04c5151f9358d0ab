"""Building the Bolt app from the runtime: no global App at import time.

`create_app(runtime, client=None)` verifies request signatures with
`slack.signing_secret` (Bolt rejects forged and stale requests with 401) and
registers the listeners per kind.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_sdk import WebClient

from bot import bolt_fixes
from bot.directory import SlackGroupDirectory
from bot.operations import Operations, Reply
from bot.previews import preview_link
from podops.authz import Authorizer
from podops.errors import ConfigError, PodopsError
from podops.events import Actor, Channel
from podops.settings import Settings, env_name

if TYPE_CHECKING:
    from bot.context import SlackRuntime

log = logging.getLogger(__name__)
WEB_TIMEOUT_S = 10
LISTENER_THREADS = 32


def build_web_client(settings: Settings) -> WebClient:
    token = settings.slack.bot_token
    if token is None:
        raise ConfigError(
            f"Slack is enabled but has no bot token; set {env_name('slack.bot_token')}"
        )
    return WebClient(
        token=token.get_secret_value(), base_url=settings.slack.base_url, timeout=WEB_TIMEOUT_S
    )


@dataclass(slots=True)
class Bot:
    """What every listener needs: the runtime, the verbs and the permission check."""

    runtime: SlackRuntime
    ops: Operations
    authorizer: Authorizer

    @property
    def db(self) -> Any:
        return self.runtime.db


def slack_actor(user_id: str, user_name: str) -> Actor:
    return Actor(f"slack:{user_id} ({user_name or user_id})", Channel.SLACK)


def attempt(call: Any) -> Reply:
    """Run a verb; a refusal or failure becomes words for a private reply."""
    try:
        result: Reply = call()
    except PodopsError as exc:
        return Reply(f":no_entry: {exc.message}")
    except Exception:
        log.exception("Slack action failed")
        return Reply(":boom: Something went wrong on our side; the error is in the podops log.")
    return result


def create_app(runtime: SlackRuntime, client: WebClient | None = None) -> App:
    bolt_fixes.apply()
    from bot.listeners import actions, commands, events, views

    settings = runtime.settings.slack
    secret = settings.signing_secret
    if secret is None and not settings.socket_mode:
        raise ConfigError(
            f"Slack is enabled but has no signing secret; set {env_name('slack.signing_secret')}"
        )
    client = client or runtime.slack_client
    app = App(
        client=client,
        signing_secret=secret.get_secret_value() if secret else None,
        token_verification_enabled=False,
        # Run each ack in the request's own thread (the web server already gives it one)
        # and only the lazy work in the pool: no hand-off or polling before the reply.
        process_before_response=True,
        request_verification_enabled=not settings.socket_mode,
        listener_executor=ThreadPoolExecutor(LISTENER_THREADS, thread_name_prefix="slack"),
        logger=log,
    )
    bot = Bot(
        runtime,
        Operations(runtime, preview_link(runtime.settings)),
        Authorizer(settings.allowed_users, SlackGroupDirectory(client)),
    )
    commands.register(app, bot)
    actions.register(app, bot)
    views.register(app, bot)
    events.register(app, bot)
    return app
