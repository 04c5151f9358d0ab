"""Logging for every `podops` command: one JSON object per line (for log
shippers) or readable lines on a terminal, with every configured secret masked.

Secrets are known from the environment (the only place they may live) as soon
as the command starts, and from each loaded configuration, so even a command
that fails before its settings load cannot print a token.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import types
import typing
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "[redacted]"
NOISY = (
    "fontTools",
    "fpdf",
    "PIL",
    "httpx",
    "httpcore",
    "urllib3",
    "apscheduler",
    "slack_bolt",
    "slack_sdk",
    "gspread",
    "google",
    "asyncio",
)
"""Libraries whose INFO lines are chatter (fontTools names every table it subsets
for a packing slip): kept at WARNING unless the operator asks for DEBUG."""
MIN_SECRET = 6

_known: set[str] = set()
_known_guard = threading.Lock()


def remember_secrets(secrets: Iterable[str]) -> None:
    """Mask these values in every log line and outside error text from now on (in this
    process), also as they appear percent-encoded in a URL an error quotes."""
    found: set[str] = set()
    for secret in secrets:
        if len(secret) >= MIN_SECRET:
            found |= {secret, quote(secret, safe=""), quote_plus(secret, safe="")}
    with _known_guard:
        _known.update(found)


def mask_secrets(text: str) -> str:
    """`text` with every known secret replaced by the mask: for any text that came from
    outside (an error a store or provider answered may quote the key we sent)."""
    with _known_guard:
        secrets = sorted(_known, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class RedactSecrets(logging.Filter):
    """Replace any secret value that reaches a log record (URLs, error texts)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.own = {s for s in secrets if len(s) >= MIN_SECRET}
        self._seen = -1
        self.secrets: list[str] = []

    def _current(self) -> list[str]:
        with _known_guard:
            if self._seen != len(_known):
                self._seen = len(_known)
                self.secrets = sorted(self.own | _known, key=len, reverse=True)
        return self.secrets

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = self._current()
        if not secrets:
            return True
        message = record.getMessage()
        redacted = message
        for secret in secrets:
            redacted = redacted.replace(secret, MASK)
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            for secret in secrets:
                text = text.replace(secret, MASK)
            record.exc_text = text
            record.exc_info = None
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def _secret_field_names(model: Any, seen: set[Any] | None = None) -> set[str]:
    """Names of the SecretStr fields anywhere in a settings model (bot_token, api_key...)."""
    from pydantic import BaseModel, SecretStr

    seen = seen if seen is not None else set()
    if model in seen:
        return set()
    seen.add(model)
    names: set[str] = set()
    for name, field in model.model_fields.items():
        pending = [field.annotation]
        while pending:
            kind = pending.pop()
            if kind is SecretStr:
                names.add(name)
            elif isinstance(kind, type) and issubclass(kind, BaseModel):
                names |= _secret_field_names(kind, seen)
            elif typing.get_origin(kind) is not None or isinstance(kind, types.UnionType):
                pending.extend(typing.get_args(kind))
    return names


def environment_secrets(environ: dict[str, str] | None = None) -> list[str]:
    """Secret values set as PODOPS_... variables, and the database URL's password."""
    from podops.settings import ENV_PREFIX, Settings

    environ = dict(os.environ) if environ is None else environ
    names = _secret_field_names(Settings)
    found = []
    for key, value in environ.items():
        upper = key.upper()
        if not upper.startswith(ENV_PREFIX.upper()):
            continue
        if upper.rsplit("__", 1)[-1].lower() in names:
            found.append(value)
        elif upper == f"{ENV_PREFIX.upper()}DATABASE__URL" and "@" in value:
            found.extend(_url_password(value))
    return found


def _url_password(url: str) -> list[str]:
    try:
        from sqlalchemy.engine import make_url

        password = make_url(url).password
    except Exception:  # an unparsable URL: mask what looks like its password
        userinfo = url.split("://", 1)[-1].rsplit("@", 1)[0]
        password = userinfo.partition(":")[2] or None
    return [str(password)] if password else []


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at the time (tests and wrappers swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def configure_command(level: str = "WARNING") -> None:
    """Warnings and errors of any command on stderr, secrets masked (once per process)."""
    remember_secrets(environment_secrets())
    root = logging.getLogger()
    if any(isinstance(h, _CurrentStderr) for h in root.handlers):
        return
    handler = _CurrentStderr(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets())
    handler.setLevel(level.upper())
    root.addHandler(handler)
    quiet_libraries(level)


def quiet_libraries(level: str) -> None:
    """Library loggers at WARNING, or following the root logger when `level` is DEBUG."""
    wanted = logging.NOTSET if level.upper() == "DEBUG" else logging.WARNING
    for name in NOISY:
        logging.getLogger(name).setLevel(wanted)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["error"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def configure(*, json_lines: bool, level: str = "INFO", secrets: Iterable[str] = ()) -> None:
    """The service's logging: replaces the command's handler; secrets stay masked."""
    remember_secrets(environment_secrets())
    handler = logging.StreamHandler(sys.stderr)
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
        )
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    quiet_libraries(level)
