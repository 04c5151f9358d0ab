"""The web role under oversized unsigned bodies (part of bench/faults.py).

`podops run --role web` runs in its own process, as in production, with every
inbound route open (WooCommerce webhooks, provider callbacks, the three Slack
routes). 20 unsigned 100 MB bodies arrive at once on each route, half with a
`Content-Length`, half chunked without one, sent by raw sockets that keep
writing until the server answers. Measured: the web process's peak resident
memory (VmHWM, its own high-water mark), each answer, how much of its body had
been sent when it came and how long it took, and that nothing was stored.

"Refused before the body is read whole" is proven by bytes, not by a clock: each
answer must come before a quarter of its 100 MB was sent (what the socket
buffers hold plus a route's limit is a few MB). A one-second deadline failed on
a busy machine (two busy loops on two cores: answers after 1.0-2.1 s with a
few MB sent), though nothing was read whole; the clock only bounds a hang
(no answer within ANSWER_WITHIN_S is a failure).
"""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

PER_ROUTE = 20
BODY_BYTES = 100 * 1024 * 1024
CHUNK = 256 * 1024
ANSWER_WITHIN_S = 10.0
"""No answer by then is a hang (the socket's own timeout), however busy the machine."""
SENT_AT_MOST = BODY_BYTES // 4
"""An answer after more than this much of the body was sent: the body was read, not refused."""
ROUTES = (
    "/webhooks/woocommerce/main",
    "/providers/shine/shipments/main-1001/" + "0" * 40,
    "/slack/events",
    "/slack/commands",
    "/slack/interactions",
)
CONFIG = """data_dir = "{folder}"
[database]
url = "sqlite:///{folder}/abuse.db"
[server]
port = {port}
[stores.main]
platform = "woocommerce"
url = "https://shop.example"
default_provider = "shine"
[providers.shine]
kind = "shineon"
[slack]
enabled = true
base_url = "http://127.0.0.1:9/api/"
[sheet]
backend = "none"
"""
SECRETS = {
    "PODOPS_STORES__MAIN__CONSUMER_KEY": "ck_abuse_0123456789",
    "PODOPS_STORES__MAIN__CONSUMER_SECRET": "cs_abuse_0123456789",
    "PODOPS_STORES__MAIN__WEBHOOK_SECRET": "wc-abuse-secret-77",
    "PODOPS_PROVIDERS__SHINE__API_KEY": "shineon-abuse-key-77",
    "PODOPS_SLACK__BOT_TOKEN": "xoxb-abuse-77",
    "PODOPS_SLACK__SIGNING_SECRET": "slack-abuse-signing-77",
    "PODOPS_RENDER__LINK_SECRET": "render-abuse-link-secret-77",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _serve(folder: Path, port: int) -> subprocess.Popen[bytes]:
    from podops.runtime.root import Runtime
    from podops.settings import load_settings

    config = folder / "podops.toml"
    config.write_text(CONFIG.format(folder=folder.as_posix(), port=port))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODOPS_")} | SECRETS
    os.environ.update(SECRETS)  # the schema is made with the same settings
    Runtime(load_settings(config)).db.upgrade()
    command = [sys.executable, "-m", "podops", "--config", str(config), "run", "--role", "web"]
    server = subprocess.Popen(
        [*command, "--log-text", "--log-level", "WARNING"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(folder / "server.log").open("wb"),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit((folder / "server.log").read_text()[-2000:])
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the web role did not start within 60 s")


def _send(
    port: int, path: str, chunked: bool, start: threading.Barrier
) -> tuple[str, int, float, int]:
    """One unsigned 100 MB POST; (path, status, seconds to the answer, bytes of the
    body sent before it)."""
    length = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {BODY_BYTES}"
    head = f"POST {path} HTTP/1.1\r\nHost: podops\r\nContent-Type: application/json\r\n"
    chunk = b"{" * CHUNK
    piece = b"%x\r\n%s\r\n" % (CHUNK, chunk) if chunked else chunk
    with socket.create_connection(("127.0.0.1", port), timeout=ANSWER_WITHIN_S) as sock:
        start.wait()  # every connection is open: the bodies arrive at once
        started = time.monotonic()
        sock.sendall(f"{head}{length}\r\n\r\n".encode())
        sent = 0
        try:
            while sent < BODY_BYTES and not select.select([sock], [], [], 0)[0]:
                sock.sendall(piece)
                sent += CHUNK
        except OSError:
            pass  # the server answered and closed: read what it said
        try:
            answer = sock.recv(4096)
        except OSError:
            answer = b""
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0
    return path, status, time.monotonic() - started, sent


def _stored(folder: Path) -> int:
    import sqlite3

    with sqlite3.connect(folder / "abuse.db") as db:
        return sum(
            db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("orders", "events", "inbound_deliveries")
        )


def measure() -> dict[str, Any]:
    """Run the burst; print what a person reads; return the figure."""
    with tempfile.TemporaryDirectory() as name:
        folder, port = Path(name), _free_port()
        server = _serve(folder, port)
        try:
            before = _peak_mb(server.pid)
            jobs = [(path, i % 2 == 1) for path in ROUTES for i in range(PER_ROUTE)]
            start = threading.Barrier(len(jobs))
            with ThreadPoolExecutor(len(jobs)) as pool:
                answers = list(pool.map(lambda job: _send(port, *job, start), jobs))
            peak = _peak_mb(server.pid)
            stored = _stored(folder)
        finally:
            server.terminate()
            server.wait(30)
    late = [a for a in answers if a[1] not in (413, 401) or a[3] > SENT_AT_MOST]
    print(f"\nWeb role under {len(answers)} unsigned 100 MB bodies ({PER_ROUTE} per route):")
    for path in ROUTES:
        mine = [a for a in answers if a[0] == path]
        codes = sorted({a[1] for a in mine})
        slowest, most = max(a[2] for a in mine), max(a[3] for a in mine) / 2**20
        print(
            f"  {path[:40]:40}  answers {codes}, slowest after {slowest:.2f} s "
            f"and {most:.0f} MB sent"
        )
    print(f"  peak resident memory {peak:.0f} MB (idle {before:.0f} MB); rows stored: {stored}")
    print(
        f"  every body answered 413/401 before {SENT_AT_MOST >> 20} MB of it were sent"
        if not late
        else f"  READ WHOLE OR WRONG: {late}"
    )
    ok = not late and stored == 0
    return {
        "value": round(peak),
        "unit": "MB",
        "target": "< 250 (none stored, every body 413/401 before 25 MB of its 100 MB were sent)",
        "ok": ok and peak < 250,
    }
