"""Burst benchmark: a busy moment on one `podops run`, over real HTTP on loopback.

60 signed WooCommerce webhooks arrive at once (each a new order) while staff
type `/order show N` in Slack every 2 s and run `podops status` every 5 s, and
the service's own jobs (intake at start-up, countdown, outbox drain, the sheet
mirror to a local workbook) run as usual. `podops run` is its own process, as
in production; the fake shop and the fake Slack run in this one.

Measured: each webhook's time to its HTTP answer (10 s client limit), each
Slack command's time until its answer reaches response_url (late: over 3 s,
or never), and "database is locked" anywhere (server log, Slack answers,
`podops status`). Runs on SQLite, then on PostgreSQL when
PODOPS_TEST_DATABASE_URL is set (in a schema of its own, dropped afterwards).
Each database has its own figures, never merged: SQLite's under the plain names,
PostgreSQL's with `_postgresql` appended, each naming its `database`.

Run: python bench/burst.py   (prints a table, then one JSON line)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from sqlalchemy import create_engine, text

from podops.db import Database
from sync.webhooks import signature_for
from tests.bot.conftest import SECRET, SlackSender, free_port, wait_for
from tests.fakes.slack import FakeSlack
from tests.fakes.woocommerce import CONSUMER_KEY, CONSUMER_SECRET, FakeWooCommerce
from tests.fakes.woocommerce_orders import sample_order

WEBHOOKS = 60
SHOP_ORDERS = 200
WATCH_S = 20.0
SLACK_EVERY_S, STATUS_EVERY_S = 2.0, 5.0
WEBHOOK_LIMIT_S, SLACK_LIMIT_S = 10.0, 3.0
HOOK_SECRET = "burst-webhook-secret"
LOCKED = "database is locked"

CONFIG = """data_dir = "{folder}"
[database]
url = "{url}"
[stores.main]
platform = "woocommerce"
url = "{shop}"
countdown_hours = 24
default_provider = "manual"
[providers.manual]
kind = "manual"
[sheet]
backend = "xlsx"
[slack]
enabled = true
channel = "#orders"
base_url = "{slack}"
[slack.allowed_users]
cancel = ["U1"]
"""


@dataclass
class Seen:
    webhooks: list[float] = field(default_factory=list)
    slack: list[float | None] = field(default_factory=list)
    status: list[tuple[float, int]] = field(default_factory=list)
    locked: dict[str, int] = field(default_factory=dict)


def postgres_schema(base: str) -> tuple[str, str]:
    schema = f"podops_burst_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    joiner = "&" if "?" in base else "?"
    return f"{base}{joiner}options={quote(f'-csearch_path={schema}')}", schema


def drop_schema(base: str, schema: str) -> None:
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def start_service(folder: Path, url: str, shop: FakeWooCommerce, slack: FakeSlack) -> tuple:
    """`podops run` (role all) with secrets from the environment; its base URL."""
    port = free_port()
    config = folder / "podops.toml"
    config.write_text(CONFIG.format(folder=folder.as_posix(), url=url, shop=shop.url,
                                    slack=slack.api_url))  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODOPS_")}
    env.update(
        PODOPS_SERVER__PORT=str(port),
        PODOPS_STORES__MAIN__CONSUMER_KEY=CONSUMER_KEY,
        PODOPS_STORES__MAIN__CONSUMER_SECRET=CONSUMER_SECRET,
        PODOPS_STORES__MAIN__WEBHOOK_SECRET=HOOK_SECRET,
        PODOPS_SLACK__BOT_TOKEN="xoxb-test",
        PODOPS_SLACK__SIGNING_SECRET=SECRET,
        PYTHONPATH=str(Path(__file__).resolve().parent.parent),
    )
    Database(url).upgrade()
    command = [sys.executable, "-m", "podops", "--config", str(config), "run"]
    log = (folder / "server.log").open("wb")
    server = subprocess.Popen([*command, "--log-text"], env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        if server.poll() is not None:
            raise RuntimeError((folder / "server.log").read_text()[-2000:])
        try:
            return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(healthy, timeout=60)
    return server, base, env, config


def send_webhook(client: httpx.Client, base: str, number: int) -> float:
    at = datetime.now(UTC) - timedelta(minutes=1)
    body = json.dumps(sample_order(number, created=at)).encode()
    headers = {
        "content-type": "application/json",
        "x-wc-webhook-topic": "order.created",
        "x-wc-webhook-delivery-id": f"burst-{number}",
        "x-wc-webhook-signature": signature_for(body, HOOK_SECRET),
    }
    started = time.perf_counter()
    try:
        response = client.post(f"{base}/webhooks/woocommerce/main", content=body,
                               headers=headers, timeout=WEBHOOK_LIMIT_S)  # fmt: skip
    except httpx.HTTPError:
        return float("inf")
    elapsed = time.perf_counter() - started
    return elapsed if response.status_code == 200 else float("inf")


def slack_show(sender: SlackSender, slack: FakeSlack, number: int, seen: Seen) -> None:
    body = sender.command_body(f"show {number}")
    path = "/" + parse_qs(body)["response_url"][0].split("/", 3)[-1]
    started = time.perf_counter()
    sender.post("/slack/commands", body, "application/x-www-form-urlencoded")
    answer = None
    while time.perf_counter() - started < SLACK_LIMIT_S * 4:
        found = [r for r in list(slack.responses) if r["path"] == path]
        if found:
            answer = time.perf_counter() - started
            if LOCKED in json.dumps(found):
                seen.locked["slack"] = seen.locked.get("slack", 0) + 1
            break
        time.sleep(0.02)
    seen.slack.append(answer)


def run_status(env: dict[str, str], config: Path, seen: Seen) -> None:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "podops", "--config", str(config), "status"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    seen.status.append((time.perf_counter() - started, done.returncode))
    if LOCKED in done.stdout + done.stderr:
        seen.locked["status"] = seen.locked.get("status", 0) + 1


def every(seconds: float, until: float, action) -> threading.Thread:  # type: ignore[no-untyped-def]
    def loop() -> None:
        index = 0
        while time.perf_counter() < until:
            action(index)
            index += 1
            time.sleep(max(0.0, seconds - 0.0))

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return thread


def burst(url: str, label: str) -> Seen:
    """One burst against a fresh `podops run` on the database at `url`."""
    seen = Seen()
    shop, slack = FakeWooCommerce(), FakeSlack().start()
    start = datetime.now(UTC) - timedelta(hours=2)
    shop.add(*[sample_order(9000 + i, created=start + timedelta(seconds=i))
               for i in range(SHOP_ORDERS)])  # fmt: skip
    with shop, tempfile.TemporaryDirectory() as folder:
        server, base, env, config = start_service(Path(folder), url, shop, slack)
        sender = SlackSender(base, slack, client=httpx.Client(timeout=10))
        try:
            until = time.perf_counter() + WATCH_S
            watchers = [
                every(SLACK_EVERY_S, until, lambda i: slack_show(sender, slack, 9000 + i, seen)),
                every(STATUS_EVERY_S, until, lambda i: run_status(env, config, seen)),
            ]
            limits = httpx.Limits(max_connections=WEBHOOKS)
            with httpx.Client(limits=limits) as client, ThreadPoolExecutor(WEBHOOKS) as pool:
                seen.webhooks = list(
                    pool.map(lambda n: send_webhook(client, base, 20000 + n), range(WEBHOOKS))
                )
            for thread in watchers:
                thread.join(timeout=WATCH_S + 60)
        finally:
            server.terminate()
            server.wait(30)
            slack.stop()
        logged = (Path(folder) / "server.log").read_text(errors="replace").count(LOCKED)
        if logged:
            seen.locked["server log"] = logged
    report(label, seen)
    return seen


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def report(label: str, seen: Seen) -> None:
    answered = [s for s in seen.webhooks if s != float("inf")]
    late = sum(1 for s in seen.slack if s is None or s > SLACK_LIMIT_S)
    slowest_status = max((s for s, _ in seen.status), default=0.0)
    print(f"\n{label}")
    print(f"  {'webhooks answered':<26}{len(answered)} of {len(seen.webhooks)} (10 s limit)")
    if answered:
        print(f"  {'webhook p50 / p99 / max':<26}{percentile(answered, 0.5):.2f} / "
              f"{percentile(seen.webhooks, 0.99):.2f} / {max(seen.webhooks):.2f} s")  # fmt: skip
    print(f"  {'slack answers late':<26}{late} of {len(seen.slack)} (over 3 s or never)")
    failed = sum(1 for _, code in seen.status if code != 0)
    print(f"  {'podops status':<26}{len(seen.status)} runs, {failed} failed, "
          f"slowest {slowest_status:.1f} s")  # fmt: skip
    print(f"  {'database is locked':<26}{sum(seen.locked.values())} {seen.locked or ''}")


def figures(results: dict[str, Seen]) -> dict[str, dict[str, object]]:
    """Each database's own figures, each naming its database: SQLite's under the plain
    names (the targets are set for the embedded default), the others' with the
    database's name appended (`burst_webhook_p99_s_postgresql`)."""
    figs: dict[str, dict[str, object]] = {}
    for database, seen in results.items():
        suffix = "" if database == "sqlite" else f"_{database}"
        p99 = percentile(seen.webhooks, 0.99)
        late = sum(1 for a in seen.slack if a is None or a > SLACK_LIMIT_S)
        mine: dict[str, dict[str, object]] = {
            "burst_webhook_p99_s": {"value": round(p99, 2) if p99 != float("inf") else "timeout",
                                    "unit": "s", "target": "<= 2"},
            "burst_slack_late": {"value": late, "unit": f"of {len(seen.slack)} answers",
                                 "target": "0"},
            "burst_db_locked": {"value": sum(seen.locked.values()), "unit": "errors",
                                "target": "0"},
        }  # fmt: skip
        for name, figure in mine.items():
            figs[name + suffix] = {**figure, "database": database}
    return figs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.parse_args()  # no options: an unknown flag is an error
    results: dict[str, Seen] = {}
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'podops.db'}"
        results["sqlite"] = burst(url, "SQLite (the embedded default)")
    base = os.environ.get("PODOPS_TEST_DATABASE_URL")
    if base:
        url, schema = postgres_schema(base)
        try:
            results["postgresql"] = burst(url, "PostgreSQL")
        finally:
            drop_schema(base, schema)
    print(json.dumps({"bench": "burst", "databases": list(results), "figures": figures(results)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
