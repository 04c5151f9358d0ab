"""Benchmark: the Slack bot under load, over real HTTP on loopback.

1. Acknowledgement latency: 200 signed `/order` slash commands (show, hold,
   release, find, help, bad input) at concurrency 20 against the running web
   server: `podops run --role web` in its own process, as in production
   (uvicorn, Starlette, Bolt with signature checks; SQLite database), while the
   load generator and the fake Slack run in this process, as Slack's servers
   are elsewhere. Latency is request sent -> HTTP 200 received (Slack's 3 s
   deadline). The run also waits for every command's answer on response_url,
   so the lazy work really happened.
2. Alert delivery: 12 orders enter the alert window at once; the notify drain
   posts their alerts to the fake Slack, which enforces 1 message/s per
   channel (burst 3) with HTTP 429 + Retry-After. Throughput is alerts / wall
   time until all are delivered, with none lost.

Run: python bench/slack.py   (prints a table, then one JSON line)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from pydantic import SecretStr
from sqlalchemy import func, select

from podops import services
from podops.models import Order, utcnow
from podops.notify.digests import BURST
from podops.runtime.root import Runtime
from podops.settings import DatabaseConfig, Settings, SlackConfig
from sync.notify_job import drain, scan_alerts
from tests.bot.conftest import SECRET, SlackSender, free_port, wait_for
from tests.factories import SYSTEM, incoming
from tests.fakes.slack import FakeSlack

COMMANDS = 200
CONCURRENCY = 20
ORDERS = 50
ALERTS = 12


def make_runtime(folder: Path, fake: FakeSlack) -> Runtime:
    slack = SlackConfig(
        enabled=True,
        base_url=fake.api_url,
        bot_token=SecretStr("xoxb-test"),
        signing_secret=SecretStr(SECRET),
        allowed_users={"cancel": ["U1"]},
    )
    runtime = Runtime(
        Settings(database=DatabaseConfig(url=f"sqlite:///{folder / 'bench.db'}"), slack=slack)
    )
    runtime.db.upgrade()
    later = utcnow() + timedelta(days=30)  # far from the alert window
    batch = [incoming(str(20000 + i), placed_at=later) for i in range(ORDERS)]
    with runtime.db.unit_of_work() as session:
        services.receive_orders(session, batch, runtime.policy, SYSTEM)
    return runtime


def command_text(index: int) -> str:
    number = 20000 + index % ORDERS
    kinds = [
        f"show {number}",
        f"hold {number}",
        f"release {number}",
        "find smith",
        "help",
        f"show #{number}",
        "track 1 UPS",
        f"show {number}",
    ]
    return kinds[index % len(kinds)]


def serve(folder: Path, fake: FakeSlack) -> tuple[subprocess.Popen[bytes], str]:
    """`podops run --role web` on the bench's database, secrets from the environment."""
    port = free_port()
    config = folder / "podops.toml"
    config.write_text(
        f'data_dir = "{folder.as_posix()}"\n[sheet]\nbackend = "none"\n'
        f'[slack]\nenabled = true\nbase_url = "{fake.api_url}"\n'
        '[slack.allowed_users]\ncancel = ["U1"]\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODOPS_")}
    env.update(
        PODOPS_DATABASE__URL=f"sqlite:///{folder / 'bench.db'}",
        PODOPS_SERVER__PORT=str(port),
        PODOPS_SLACK__BOT_TOKEN="xoxb-test",
        PODOPS_SLACK__SIGNING_SECRET=SECRET,
    )
    command = [sys.executable, "-m", "podops", "--config", str(config), "run", "--role", "web"]
    server = subprocess.Popen(
        [*command, "--log-text", "--log-level", "WARNING"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(folder / "server.log").open("wb"),
    )
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        if server.poll() is not None:
            raise RuntimeError((folder / "server.log").read_text()[-2000:])
        try:
            return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(healthy, timeout=60)
    return server, url


def measure_acks(sender: SlackSender, fake: FakeSlack) -> tuple[list[float], float]:
    sender.command("help")  # warm up (auth.test, first connection)
    lazy_expected = sum(
        1 for i in range(COMMANDS) if command_text(i) not in ("help", "track 1 UPS")
    )

    def one(index: int) -> float:
        started = time.perf_counter()
        response = sender.command(command_text(index))
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.text
        return elapsed

    started = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        latencies = list(pool.map(one, range(COMMANDS)))
    wait_for(lambda: len(fake.responses) >= lazy_expected, timeout=120)
    return latencies, time.perf_counter() - started


def measure_alerts(runtime: Runtime, fake: FakeSlack) -> tuple[float, int]:
    """Alert cards through Slack's pacing (1 message a second per channel), none lost.

    Orders enter the alert window in groups smaller than a digest (`BURST`): a
    larger burst is told as one message naming every order, which is not what
    this figure measures (tests/bot/test_digests.py covers that)."""
    fake.per_channel_rate, fake.burst = 1.0, 3
    soon = utcnow() - timedelta(hours=23, minutes=30)  # submits in 30 minutes
    group = BURST - 1
    numbers: list[str] = []
    drain(runtime)  # the hold/release notices of part 1 (no alert yet: nothing to post)
    started = time.perf_counter()
    for first in range(0, ALERTS, group):
        batch = [
            incoming(str(30000 + i), placed_at=soon)
            for i in range(first, min(first + group, ALERTS))
        ]
        with runtime.db.unit_of_work() as session:
            services.receive_orders(session, batch, runtime.policy, SYSTEM)
        numbers += [order.number for order in batch]
        scan_alerts(runtime)
        while alerted(runtime, numbers) < len(numbers) and time.perf_counter() - started < 120:
            drain(runtime)
    elapsed = time.perf_counter() - started
    assert alerted(runtime, numbers) == ALERTS, "alerts were lost"
    return ALERTS / elapsed, fake.rejected_429


def alerted(runtime: Runtime, numbers: list[str]) -> int:
    with runtime.db.unit_of_work() as session:
        query = select(func.count()).where(Order.number.in_(numbers), Order.alert_ref.is_not(None))
        return int(session.scalar(query) or 0)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    fake = FakeSlack().start()
    with tempfile.TemporaryDirectory() as folder:
        runtime = make_runtime(Path(folder), fake)
        server, url = serve(Path(folder), fake)
        sender = SlackSender(
            url,
            fake,
            client=httpx.Client(timeout=10, limits=httpx.Limits(max_connections=CONCURRENCY)),
        )
        try:
            latencies, wall = measure_acks(sender, fake)
            alerts_per_s, rejected = measure_alerts(runtime, fake)
        finally:
            server.terminate()
            server.wait(20)
            runtime.close()
            fake.stop()
    p50, p99 = percentile(latencies, 0.5) * 1000, percentile(latencies, 0.99) * 1000
    worst = max(latencies) * 1000
    print(f"{'slash commands':<28}{COMMANDS} at {CONCURRENCY} at once, answered in {wall:.1f} s")
    print(f"{'ack latency p50':<28}{p50:8.1f} ms")
    print(f"{'ack latency p99':<28}{p99:8.1f} ms")
    print(f"{'ack latency max':<28}{worst:8.1f} ms  (over 3 s: {sum(x > 3 for x in latencies)})")
    print(f"{'alerts delivered':<28}{ALERTS} to one channel, 429s from the fake: {rejected}")
    print(f"{'alert throughput':<28}{alerts_per_s:8.2f} /s  (limit 1/s per channel, burst 3)")
    figures = {
        "ack_p50_ms": {"value": round(p50, 1), "unit": "ms", "target": "-"},
        "ack_p99_ms": {"value": round(p99, 1), "unit": "ms", "target": "< 300"},
        "alerts_per_s": {
            "value": round(alerts_per_s, 2),
            "unit": "1/s",
            "target": "~1 per channel",
        },
    }
    print(json.dumps({"bench": "slack", "figures": figures}))


if __name__ == "__main__":
    main()
