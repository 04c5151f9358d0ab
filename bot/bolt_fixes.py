"""A correction to slack-bolt's form-body parsing, applied when the bot is built.

Bolt (1.x) treats any form body that contains the text "payload" anywhere as an
interaction and, finding no `payload` field, reads it as empty: `/order find
payload`, or an edit whose text says "payload", got a 404 and Slack showed
"dispatch_failed" (found by the fuzz test). Here a form body is an interaction
only when it has a `payload` field, as Slack sends them.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt.request import request as bolt_request
from slack_bolt.request.internals import parse_body as bolt_parse_body


def parse_body(body: str, content_type: str | None) -> dict[str, Any]:
    """Bolt's parse_body, except that a slash command may mention "payload"."""
    if not body or body.startswith("{") or content_type == "application/json":
        return bolt_parse_body(body, content_type)
    params = dict(parse_qsl(body, keep_blank_values=True))
    if "payload" in params:
        parsed: dict[str, Any] = json.loads(params["payload"])
        return parsed
    return params


def apply() -> None:
    """Install the corrected parser (idempotent)."""
    bolt_request.parse_body = parse_body  # type: ignore[attr-defined]
