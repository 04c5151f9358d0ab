"""Paced Slack Web API calls with Slack's failures mapped to
`NotifyError(retryable=...)` at this boundary, shared by the notifier and the
look-up of earlier posts.

Slack's error codes are classified as its method pages document them: a rate
limit (HTTP 429, `ratelimited`), Slack's own trouble (HTTP 5xx, `internal_error`,
`fatal_error`, `service_unavailable`, `request_timeout`) and codes we do not
know are retried; the answers no retry can change (the bot is not in the
channel, a scope or the token is missing, the channel is archived, the blocks
are invalid) are permanent, so the outbox parks the message at once with a
reason in words that says what to fix.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError

from bot.pacing import ChannelPacer
from podops.ports.notify import NotifyError

INVITE = "/invite @podops"
APP_SETTINGS = "api.slack.com/apps > OAuth & Permissions, then reinstall the app"
# Answers no retry can change, with what to do about each ({channel}, {needed}).
PERMANENT: dict[str, str] = {
    "not_in_channel": "the bot is not in {channel}: invite it there with " + INVITE,
    "channel_not_found": "Slack has no channel {channel} the bot can see: check slack.channel, "
    "or invite the bot to the private channel with " + INVITE,
    "is_archived": "{channel} is archived: unarchive it or set slack.channel to another channel",
    "missing_scope": "the Slack app lacks the {needed} scope: add it at " + APP_SETTINGS,
    "no_permission": "the Slack app may not do this in {channel}: check its scopes at "
    + APP_SETTINGS,
    "restricted_action": "a workspace setting keeps the bot from posting in {channel}",
    "restricted_action_read_only_channel": "{channel} is read-only for the bot",
    "restricted_action_thread_only_channel": "{channel} takes only thread replies",
    "restricted_action_non_threadable_channel": "{channel} does not take thread replies",
    "cannot_reply_to_message": "that message does not take replies",
    "user_not_in_channel": "the person is not in {channel}",
    "invalid_auth": "Slack refused the bot token: check slack.bot_token",
    "not_authed": "no Slack bot token was sent: set slack.bot_token",
    "account_inactive": "the bot token belongs to a deactivated user or an uninstalled app: "
    "reinstall the app and update slack.bot_token",
    "token_revoked": "the bot token was revoked: reinstall the app and update slack.bot_token",
    "token_expired": "the bot token expired: reinstall the app and update slack.bot_token",
    "not_allowed_token_type": "slack.bot_token must be a bot token (xoxb-...)",
    "access_denied": "Slack denied access to this resource",
    "ekm_access_denied": "the workspace's key management denies the bot",
    "team_access_not_granted": "the bot token has no access to this workspace",
    "two_factor_setup_required": "the workspace requires two-factor setup for the app",
    "org_login_required": "the workspace is migrating: an admin must sign in",
    "enterprise_is_restricted": "the enterprise grid restricts this method",
    "messages_tab_disabled": "the person turned off the app's Messages tab",
    "invalid_blocks": "Slack refused the message's blocks (a podops bug: please report it)",
    "invalid_blocks_format": "Slack refused the message's blocks (a podops bug)",
    "msg_too_long": "the message is longer than Slack takes",
    "no_text": "the message was empty",
    "too_many_attachments": "the message has too many attachments",
    "invalid_arguments": "Slack refused the request's arguments (a podops bug)",
    "invalid_arg_name": "Slack refused an argument name (a podops bug)",
    "invalid_array_arg": "Slack refused an argument (a podops bug)",
    "invalid_charset": "Slack refused the request's character set",
    "invalid_form_data": "Slack refused the request body",
    "invalid_post_type": "Slack refused the request's content type",
    "missing_post_type": "the request had no content type",
    "invalid_metadata_format": "Slack refused the message metadata (a podops bug)",
    "invalid_metadata_schema": "Slack refused the message metadata (a podops bug)",
    "metadata_too_large": "the message metadata is too large",
    "method_deprecated": "Slack retired this method: update podops",
    "deprecated_endpoint": "Slack retired this endpoint: update podops",
    "as_user_not_supported": "Slack refused as_user (a podops bug)",
}
RATE_LIMITED = frozenset({"ratelimited", "rate_limited"})


class SlackRefused(NotifyError):
    """Slack answered `ok: false`; `error` is its error code."""

    def __init__(self, message: str, *, error: str, retryable: bool) -> None:
        super().__init__(message, retryable=retryable)
        self.error = error


def refusal(exc: SlackApiError, channel: str = "") -> SlackRefused:
    """Slack's `ok: false` as an error that says what happened and what to do."""
    response = exc.response
    error = str(response.get("error", "unknown_error"))
    where = f"#{channel.lstrip('#')}" if channel.startswith("#") else channel or "the channel"
    advice = PERMANENT.get(error)
    if advice is not None and response.status_code < 500:
        needed = str(response.get("needed") or "needed")
        text = advice.format(channel=where, needed=needed)
        return SlackRefused(f"Slack refused ({error}): {text}", error=error, retryable=False)
    return SlackRefused(f"Slack refused: {error}", error=error, retryable=True)


class PacedCalls:
    """One paced call per key; one bounded retry after a 429, then a retryable error."""

    def __init__(self, pacer: ChannelPacer) -> None:
        self.pacer = pacer

    def __call__(self, key: str, call: Callable[[], Any], *, channel: str = "") -> Any:
        """`channel` names the channel in the words of a refusal (default: `key`)."""
        for attempt in (1, 2):
            self.pacer.acquire(key)
            try:
                return call()
            except SlackApiError as exc:
                response = exc.response
                error = str(response.get("error", "unknown_error"))
                if response.status_code == 429 or error in RATE_LIMITED:
                    retry_after = float(response.headers.get("Retry-After", 1) or 1)
                    self.pacer.penalize(key, retry_after)
                    if attempt == 1:
                        continue
                    raise NotifyError(f"Slack is rate limiting {key}", retryable=True) from exc
                raise refusal(exc, channel or key) from exc
            except SlackClientError as exc:
                raise NotifyError(f"cannot reach Slack: {exc}", retryable=True) from exc
            except OSError as exc:
                raise NotifyError(f"cannot reach Slack: {exc}", retryable=True) from exc
        raise NotifyError(f"Slack is rate limiting {key}", retryable=True)
