"""The fake Google Sheets API served over HTTP on 127.0.0.1, and a requests
session that sends gspread's calls to it instead of Google."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import requests

from tests.fakes.sheets import REAL_BASE, ApiFailure, FakeSheets, Logged


def _handler(fake: FakeSheets) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            return

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            split = urlsplit(self.path)
            status, answer = 200, None
            with fake.lock:
                try:
                    if not self.headers.get("Authorization", "").startswith("Bearer "):
                        raise ApiFailure(
                            401,
                            "UNAUTHENTICATED",
                            "Request is missing required authentication credential.",
                        )
                    failing = fake.fail_writes if self.command == "POST" else []
                    if fake.fail_queue or failing:
                        code = (fake.fail_queue or failing).pop(0)
                        raise ApiFailure(
                            code,
                            "RESOURCE_EXHAUSTED" if code == 429 else "UNAVAILABLE",
                            "Quota exceeded for quota metric 'Write requests' and limit "
                            "'Write requests per minute per user' of service "
                            "'sheets.googleapis.com'",
                        )
                    body = json.loads(raw) if raw else {}
                    answer = fake.handle(self.command, split.path, parse_qs(split.query), body)
                except ApiFailure as exc:
                    status = exc.code
                    answer = {
                        "error": {"code": exc.code, "message": exc.message, "status": exc.status}
                    }
                out = json.dumps(answer).encode()
                fake.log.append(
                    Logged(self.command, unquote(split.path), len(raw), len(out), status)
                )
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        do_GET = do_POST = do_PUT = _serve

    return Handler


class FakeSheetsServer:
    """Runs a FakeSheets on a free port in a thread."""

    def __init__(self, fake: FakeSheets | None = None) -> None:
        self.fake = fake or FakeSheets()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.fake))
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> FakeSheetsServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class RedirectSession(requests.Session):
    """A requests session that sends Google Sheets calls to the fake instead."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base
        self.headers["Authorization"] = "Bearer test-token"

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:  # type: ignore[override]
        text = url.decode() if isinstance(url, bytes) else url
        verb = method.decode() if isinstance(method, bytes) else method
        return super().request(verb, text.replace(REAL_BASE, self.base), *args, **kwargs)
