"""A fake Slack Web API on 127.0.0.1, faithful to the parts podops uses.

`WebClient(base_url=fake.api_url)` talks to it. It records every call, checks
the bot token, answers like Slack (`{"ok": ...}`, errors as `ok:false`),
serves the file-upload flow (files.getUploadURLExternal -> raw POST to the
returned upload_url -> files.completeUploadExternal) and `response_url`
endpoints, and enforces chat.postMessage's per-channel limit (about 1/s with a
small burst) with HTTP 429, `Retry-After` and `{"ok":false,"error":"ratelimited"}`.

Messages keep their `metadata` ({event_type, event_payload}); the read methods
(`conversations.history`: top-level messages newest first; `conversations.replies`:
the parent then its replies oldest first; both with oldest/latest/inclusive,
limit and cursor pages) return it only with `include_all_metadata`, as Slack
documents. History needs a channel id (a "#name" is channel_not_found);
`conversations.list` maps names to ids. A file shared with
files.completeUploadExternal appears as a message with `files` in its channel
(or thread). Timestamps (`ts`) are real Unix times, unique and increasing.
It refuses what Slack refuses (tests/fakes/slack_rules.py): a post where the bot
is not a member (`not_in_channel`), an unknown or archived channel, a missing
scope, blocks or views beyond Block Kit's limits.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fakes.slack_rules import SlackRules

CHANNEL_IDS = {"#orders": "C0ORDERS", "orders": "C0ORDERS"}
CHANNEL_NAMES = {"C0ORDERS": "orders"}
BOT = {"user": "U0BOT", "bot_id": "B0BOT", "app_id": "A0APP"}
TRUE = ("1", "true", True)


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


@dataclass
class _Bucket:
    tokens: float
    updated: float


class FakeSlack(SlackRules):
    def __init__(
        self,
        *,
        token: str = "xoxb-test",
        per_channel_rate: float | None = None,
        burst: int = 3,
    ) -> None:
        super().__init__(CHANNEL_NAMES)
        self.token = token
        self.per_channel_rate = per_channel_rate
        self.burst = burst
        self.calls: list[Call] = []
        self.responses: list[dict[str, Any]] = []  # posts to response_url
        self.uploads: dict[str, bytes] = {}
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self._file_names: dict[str, str] = {}
        self._last_ts = 0.0
        self.groups: dict[str, list[str]] = {}
        self.rejected_429 = 0
        self._failures: dict[str, list[tuple[int, dict[str, Any], dict[str, str]]]] = {}
        self.delays: dict[str, float] = {}  # method -> seconds before answering (a slow Slack)
        self._buckets: dict[str, _Bucket] = {}
        self._ts = itertools.count(1)
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # -- control -----------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, name: str = "r1") -> str:
        return f"{self.base_url}/response/{name}"

    def start(self) -> FakeSlack:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        error: str = "ratelimited",
        retry_after: int = 1,
        count: int = 1,
    ) -> None:
        headers = {"Retry-After": str(retry_after)} if status == 429 else {}
        with self._lock:
            self._failures.setdefault(method, []).extend(
                [(status, {"ok": False, "error": error}, headers)] * count
            )

    def delete_message(self, ref: str) -> None:
        """What a person deleting the message `channel:ts` in Slack does."""
        channel, _, ts = ref.partition(":")
        with self._lock:
            del self.messages[(channel, ts)]

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def channel_messages(self, channel: str = "C0ORDERS") -> list[dict[str, Any]]:
        """Top-level messages of a channel, oldest first (what people scroll through)."""
        with self._lock:
            return [m for m in self._sorted(channel) if m.get("thread_ts") in (None, m["ts"])]

    def thread_replies(self, ref: str) -> list[dict[str, Any]]:
        """The replies under the message `channel:ts`, oldest first."""
        channel, _, ts = ref.partition(":")
        with self._lock:
            return [m for m in self._sorted(channel) if m.get("thread_ts") == ts != m["ts"]]

    def _sorted(self, channel: str) -> list[dict[str, Any]]:
        found = [m for (c, _), m in self.messages.items() if c == channel]
        return sorted(found, key=lambda m: Decimal(m["ts"]))

    def _next_ts(self) -> str:
        self._last_ts = max(time.time(), self._last_ts + 0.000001)
        return f"{self._last_ts:.6f}"

    # -- the API -----------------------------------------------------------

    def _rate_limited(self, channel: str) -> bool:
        if self.per_channel_rate is None:
            return False
        now = time.monotonic()
        bucket = self._buckets.setdefault(channel, _Bucket(float(self.burst), now))
        bucket.tokens = min(
            self.burst, bucket.tokens + (now - bucket.updated) * self.per_channel_rate
        )
        bucket.updated = now
        if bucket.tokens < 1:
            return True
        bucket.tokens -= 1
        return False

    def _channel(self, name: str) -> str:
        return CHANNEL_IDS.get(name, name)

    def api(
        self, method: str, params: dict[str, Any]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        with self._lock:
            self.calls.append(Call(method, params))
            failures = self._failures.get(method)
            if failures:
                return failures.pop(0)
            channel = self._channel(str(params.get("channel") or params.get("channel_id") or ""))
            refused = self.refusal(method, params, channel)
            if refused is not None:
                return 200, refused, {}
            if method == "chat.postMessage" and self._rate_limited(channel):
                self.rejected_429 += 1
                return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"}
            return 200, self._answer(method, params), {}

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://shop.slack.com/",
                "team": "Shop",
                "user": "podops",
                "team_id": "T0SHOP",
                "user_id": "U0BOT",
                "bot_id": "B0BOT",
            }
        if method == "chat.postMessage":
            return self._post_message(params)
        if method == "chat.update":
            key = (params["channel"], params["ts"])
            if not self._known(key[0]):
                return {"ok": False, "error": "channel_not_found"}
            if key not in self.messages:
                return {"ok": False, "error": "message_not_found"}
            self.messages[key].update(text=params.get("text"), blocks=params.get("blocks"))
            return {"ok": True, "channel": key[0], "ts": key[1], "text": params.get("text")}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method in ("conversations.history", "conversations.replies"):
            return self._read(method, params)
        if method == "conversations.list":
            return self._list_channels(params)
        if method == "views.open":
            return {"ok": True, "view": {"id": f"V{next(self._ts)}", **params["view"]}}
        if method == "conversations.open":
            return self.open_dm(params)
        if method == "views.publish":
            return {"ok": True, "view": {"id": "VHOME", "type": "home", "hash": "h1"}}
        if method == "usergroups.users.list":
            users = self.groups.get(params.get("usergroup", ""))
            if users is None:
                return {"ok": False, "error": "no_such_subteam"}
            return {"ok": True, "users": users}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts)}"
            self._file_names[file_id] = str(params.get("filename", ""))
            return {
                "ok": True,
                "file_id": file_id,
                "upload_url": f"{self.base_url}/upload/{file_id}",
            }
        if method == "files.completeUploadExternal":
            return self._share_files(params)
        return {"ok": False, "error": "unknown_method"}

    def _post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(params["channel"])
        meta = params.get("metadata")
        if meta is not None and not (
            isinstance(meta, dict)
            and isinstance(meta.get("event_type"), str)
            and isinstance(meta.get("event_payload"), dict)
        ):
            return {"ok": False, "error": "invalid_metadata_format"}
        ts = self._next_ts()
        message = {
            "type": "message",
            **BOT,
            "ts": ts,
            "text": params.get("text"),
            "blocks": params.get("blocks"),
            "thread_ts": params.get("thread_ts"),
        }
        if meta is not None:
            message["metadata"] = meta
        self.messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _share_files(self, params: dict[str, Any]) -> dict[str, Any]:
        raw = params["files"]
        files = [
            {"id": f["id"], "name": self._file_names.get(f["id"], ""), "title": f.get("title")}
            for f in (json.loads(raw) if isinstance(raw, str) else raw)
        ]
        channel = params.get("channel_id") or params.get("channels")
        if channel:
            ts = self._next_ts()
            self.messages[(self._channel(str(channel)), ts)] = {
                "type": "message",
                **BOT,
                "ts": ts,
                "text": params.get("initial_comment") or "",
                "files": files,
                "upload": True,
                "thread_ts": params.get("thread_ts"),
            }
        return {"ok": True, "files": files}

    def _known(self, channel: str) -> bool:
        return channel in CHANNEL_NAMES or any(c == channel for c, _ in self.messages)

    def _read(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """conversations.history / conversations.replies, as Slack pages them."""
        channel = str(params.get("channel", ""))
        if not self._known(channel):
            return {"ok": False, "error": "channel_not_found"}
        try:
            oldest = Decimal(str(params.get("oldest") or "0"))
            latest = Decimal(str(params.get("latest") or f"{time.time() + 1:.6f}"))
        except InvalidOperation:
            return {"ok": False, "error": "invalid_ts_oldest"}
        inclusive = params.get("inclusive") in TRUE

        def in_range(m: dict[str, Any]) -> bool:
            ts = Decimal(m["ts"])
            return (oldest <= ts <= latest) if inclusive else (oldest < ts < latest)

        everything = self._sorted(channel)
        if method == "conversations.history":
            top = [m for m in everything if m.get("thread_ts") in (None, m["ts"]) and in_range(m)]
            found = list(reversed(top))
        else:
            parent = self.messages.get((channel, str(params.get("ts", ""))))
            if parent is None:
                return {"ok": False, "error": "thread_not_found"}
            root = parent.get("thread_ts") or parent["ts"]
            replies = [m for m in everything if m.get("thread_ts") == root != m["ts"]]
            found = [self.messages[(channel, root)]] + [m for m in replies if in_range(m)]
        return self._page(found, params, with_metadata=params.get("include_all_metadata") in TRUE)

    def _page(
        self, found: list[dict[str, Any]], params: dict[str, Any], *, with_metadata: bool
    ) -> dict[str, Any]:
        cursor = str(params.get("cursor") or "")
        try:
            start = int(base64.b64decode(cursor).decode().removeprefix("offset:")) if cursor else 0
        except ValueError:
            return {"ok": False, "error": "invalid_cursor"}
        limit = max(1, min(int(params.get("limit") or 100), 999))
        chunk = found[start : start + limit]
        more = start + limit < len(found)
        nxt = base64.b64encode(f"offset:{start + limit}".encode()).decode() if more else ""
        shown = [
            {k: v for k, v in m.items() if v is not None and (with_metadata or k != "metadata")}
            for m in chunk
        ]
        return {
            "ok": True,
            "messages": shown,
            "has_more": more,
            "response_metadata": {"next_cursor": nxt},
        }

    def _list_channels(self, params: dict[str, Any]) -> dict[str, Any]:
        channels = [
            {"id": cid, "name": name, "is_channel": True, "is_private": False, "is_archived": False}
            for cid, name in CHANNEL_NAMES.items()
        ]
        return {"ok": True, "channels": channels, "response_metadata": {"next_cursor": ""}}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return

            def _send(self, status: int, body: bytes, headers: dict[str, str], ctype: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path.startswith("/upload/"):
                    with fake._lock:
                        fake.uploads[self.path.rsplit("/", 1)[1]] = raw
                    self._send(200, f"OK - {len(raw)}".encode(), {}, "text/plain")
                    return
                if self.path.startswith("/response/"):
                    with fake._lock:
                        fake.responses.append({"path": self.path, **json.loads(raw or b"{}")})
                    self._send(200, b"ok", {}, "text/plain")
                    return
                if not self.path.startswith("/api/"):
                    self._send(404, b"not found", {}, "text/plain")
                    return
                self._answer_api(self.path[5:], self._params(raw))

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if not url.path.startswith("/api/"):
                    self._send(404, b"not found", {}, "text/plain")
                    return
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                self._answer_api(url.path[5:], query)

            def _answer_api(self, method: str, params: dict[str, Any]) -> None:
                if self.headers.get("Authorization") != f"Bearer {fake.token}":
                    body = {"ok": False, "error": "invalid_auth"}
                    self._send(200, json.dumps(body).encode(), {}, "application/json")
                    return
                delay = fake.delays.get(method, 0.0)
                if delay:
                    time.sleep(delay)
                status, body, headers = fake.api(method, params)
                self._send(status, json.dumps(body).encode(), headers, "application/json")

            def _params(self, raw: bytes) -> dict[str, Any]:
                if "json" in (self.headers.get("Content-Type") or ""):
                    return dict(json.loads(raw or b"{}"))
                params: dict[str, Any] = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                for key in ("blocks", "view", "metadata"):
                    if isinstance(params.get(key), str):
                        params[key] = json.loads(params[key])
                return params

        return Handler
