"""Fixtures for the fault suite: the fake outside systems on 127.0.0.1 (each
behind a Gate), a config + environment for a worker process, and a recorder
whose results `bench/faults.py` turns into RELIABILITY.md.

Secrets have known, distinctive values so the secret test can look for them
in everything the workers wrote.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text, update

from podops.db import Database
from podops.models import Fulfillment, OutboxMessage, utcnow
from podops.settings import Settings, read_config_file
from tests.fakes.customcat import API_KEY, FakeCustomCat
from tests.fakes.sheets_server import FakeSheetsServer
from tests.fakes.slack import FakeSlack
from tests.fakes.tls import test_ca
from tests.fakes.woocommerce import CONSUMER_KEY, CONSUMER_SECRET, FakeWooCommerce
from tests.reliability.gates import Gate, gate
from tests.reliability.guards import GUARD_ENV, HOOK_DIR
from tests.reliability.kill_points import KILL_ENV, REACHED

ROOT = Path(__file__).resolve().parents[2]
RESULTS_ENV = "PODOPS_RELIABILITY_RESULTS"
BOT_TOKEN = "xoxb-reliability-5c9e11f0a7"
SIGNING_SECRET = "slack-signing-reliability-41d7c2"
WEBHOOK_SECRET = "wc-webhook-reliability-88e3a1"
LINK_SECRET = "render-link-reliability-0b6f4e"
SECRETS = {
    "woocommerce consumer key": CONSUMER_KEY,
    "woocommerce consumer secret": CONSUMER_SECRET,
    "customcat api key": API_KEY,
    "slack bot token": BOT_TOKEN,
    "slack signing secret": SIGNING_SECRET,
    "webhook secret": WEBHOOK_SECRET,
    "link secret": LINK_SECRET,
}
WORKER_TIMEOUT_S = 90

_results: list[dict[str, Any]] = []


@dataclass
class Outcome:
    """One scenario's result row for RELIABILITY.md."""

    scenario: str
    kind: str  # crash | outage | abuse | secrets
    promise: str
    faults: int = 0
    bad_inputs: int = 0
    orders: int = 0
    lost: int = 0
    duplicates: int = 0
    detail: str = ""
    counted: bool = False
    """`lost` and `duplicates` were counted from what the outside systems received
    (provider orders per reference, store writes, Slack messages, sheet rows); only
    then does the row's fault count as survived."""
    inputs: set[str] = field(default_factory=set)
    """Digests of the distinct bad inputs sent (`bad_inputs` is their number)."""

    def outside(self, *, lost: int, duplicates: int) -> None:
        """Record what the outside systems received, before any assertion."""
        self.lost, self.duplicates, self.counted = lost, duplicates, True

    def row(self) -> dict[str, Any]:
        """The JSON row: the inputs as a sorted list of digests, so runs can be merged."""
        fields = {k: v for k, v in self.__dict__.items() if k != "inputs"}
        return {**fields, "inputs": sorted(self.inputs)}


KIND_BY_MODULE = {"crashes": "crash", "outages": "outage", "abuse": "abuse", "secrets": "secrets"}


def digest(data: str | bytes) -> str:
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()[:16]


def tried(record: list[Outcome], outcome: Outcome, *inputs: str | bytes) -> None:
    """Count the distinct inputs a fuzzed (hypothesis) test actually sent: the first
    example adds the row, every example adds what it sent, and an input hypothesis
    draws again (shrinking, replays) is counted once, so the page never shows a
    planned or repeated count."""
    if not record:
        record.append(outcome)
    record[0].inputs.update(digest(data) for data in inputs)
    record[0].bad_inputs = len(record[0].inputs)


def _failure_reason(report: pytest.TestReport | None) -> str:
    if report is None:
        return "the scenario did not run to its end (set-up failed or it was interrupted)"
    crash = getattr(report.longrepr, "reprcrash", None)
    message = str(getattr(crash, "message", "") or report.longrepr or "failed")
    first = message.strip().splitlines()[0] if message.strip() else "failed"
    return first[:200]


@pytest.fixture
def record(request: pytest.FixtureRequest) -> Iterator[list[Outcome]]:
    """Append Outcomes (before asserting); they are written with pass/fail, and the
    reason of a failure, once the test has run. A test that fails before it recorded
    anything still leaves a failing row, so a failure never shrinks the table."""
    outcomes: list[Outcome] = []
    yield outcomes
    report = getattr(request.node, "rep_call", None)
    status, reason = "fail", ""
    if report is not None and hasattr(report, "wasxfail"):
        status = "known gap"
    elif report is not None and report.passed:
        status = "pass"
    else:
        reason = _failure_reason(report)
    if not outcomes and status == "fail":
        module = request.node.module.__name__.rsplit(".", 1)[-1]
        kind = next((k for word, k in KIND_BY_MODULE.items() if word in module), "abuse")
        outcomes.append(Outcome(request.node.name, kind, "(failed before it recorded a result)"))
    for outcome in outcomes:
        _results.append(
            {**outcome.row(), "status": status, "reason": reason, "test": request.node.nodeid}
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Write the results where bench/faults.py asked (never a tracked file by default)."""
    if not _results:
        return
    target = os.environ.get(RESULTS_ENV)
    cache = getattr(session.config, "cache", None)
    if target:
        path = Path(target)
    elif cache is not None:
        path = Path(cache.mkdir("reliability")) / "results.json"
    else:
        return
    database = "postgresql" if os.environ.get("PODOPS_TEST_DATABASE_URL") else "sqlite"
    path.write_text(json.dumps({"database": database, "results": _results}, indent=1))


def gated_shop() -> tuple[FakeWooCommerce, Gate]:
    shop = FakeWooCommerce()
    return shop, gate(shop.server)


@pytest.fixture
def shop() -> Iterator[FakeWooCommerce]:
    fake = FakeWooCommerce()
    fake.gate = gate(fake.server)  # type: ignore[attr-defined]
    with fake:
        yield fake
    fake.gate.release()  # type: ignore[attr-defined]


@pytest.fixture
def customcat() -> Iterator[FakeCustomCat]:
    fake = FakeCustomCat()
    fake.gate = gate(fake.server)  # type: ignore[attr-defined]
    fake.start()
    yield fake
    fake.gate.release()  # type: ignore[attr-defined]
    fake.stop()


@pytest.fixture
def slack_api() -> Iterator[FakeSlack]:
    fake = FakeSlack(token=BOT_TOKEN)
    fake.gate = gate(fake.server)  # type: ignore[attr-defined]
    fake.start()
    yield fake
    fake.gate.release()  # type: ignore[attr-defined]
    fake.stop()
    posted = repr([call.params for call in fake.calls])
    assert [name for name, secret in SECRETS.items() if secret in posted] == []


@pytest.fixture
def sheets() -> Iterator[FakeSheetsServer]:
    server = FakeSheetsServer()
    server.gate = gate(server.httpd)  # type: ignore[attr-defined]
    with server:
        yield server
    server.gate.release()  # type: ignore[attr-defined]


CONFIG = """timezone = "UTC"
data_dir = "{data_dir}"

[database]
url = "{db_url}"

[stores.main]
platform = "woocommerce"
url = "{shop_url}"
ca_bundle = "{ca_bundle}"
countdown_hours = {countdown_hours}
default_provider = "cc"

[stores.main.personalization]
fields = {{ "Name" = "name" }}

[providers.cc]
kind = "customcat"
base_url = "{cc_url}"
rate_limit_per_s = 50
concurrency = {cc_concurrency}
timeout_s = {cc_timeout_s}

[[routing]]
sku = "TEE-*"
provider = "cc"
provider_sku = "CC-TEE"
product_key = "tee-front"

[slack]
enabled = {slack_enabled}
channel = "#orders"
base_url = "{slack_url}"
alert_before_minutes = 600

[sheet]
backend = "{sheet_backend}"
spreadsheet_id = "{sheet_id}"

[render]
public_base_url = "https://podops.example"
"""


@dataclass
class Deployment:
    """A config and environment for worker processes, and what they printed."""

    root: Path
    db_url: str
    shop_url: str = "http://127.0.0.1:9"
    cc_url: str = "http://127.0.0.1:9/api/v1"
    slack_url: str = ""
    sheets_url: str = ""
    countdown_hours: float = 1.0
    cc_concurrency: int = 4
    cc_timeout_s: float = 5.0
    output: list[str] = field(default_factory=list)

    @property
    def config(self) -> Path:
        path = self.root / "podops.toml"
        path.write_text(
            CONFIG.format(
                data_dir=self.root.as_posix(),
                db_url=self.db_url,
                shop_url=self.shop_url,
                ca_bundle=test_ca().bundle.as_posix(),
                cc_url=self.cc_url,
                cc_concurrency=self.cc_concurrency,
                cc_timeout_s=self.cc_timeout_s,
                countdown_hours=self.countdown_hours,
                slack_enabled="true" if self.slack_url else "false",
                slack_url=self.slack_url or "https://slack.invalid/api/",
                sheet_backend="google" if self.sheets_url else "none",
                sheet_id="sheet-123",
            )
        )
        return path

    def settings(self) -> Settings:
        """The same config and secrets, for a podops instance inside the test process."""
        data = read_config_file(self.config)
        data["stores"]["main"].update(
            consumer_key=CONSUMER_KEY, consumer_secret=CONSUMER_SECRET,
            webhook_secret=WEBHOOK_SECRET,
        )  # fmt: skip
        data["providers"]["cc"]["api_key"] = API_KEY
        data["render"]["link_secret"] = LINK_SECRET
        return Settings(**data)

    def env(self, *, kill_at: str = "") -> dict[str, str]:
        """A worker's environment; `kill_at` arms a kill point (kill_points.py) in it."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PODOPS_")}
        env.update(
            PODOPS_STORES__MAIN__CONSUMER_KEY=CONSUMER_KEY,
            PODOPS_STORES__MAIN__CONSUMER_SECRET=CONSUMER_SECRET,
            PODOPS_STORES__MAIN__WEBHOOK_SECRET=WEBHOOK_SECRET,
            PODOPS_PROVIDERS__CC__API_KEY=API_KEY,
            PODOPS_SLACK__BOT_TOKEN=BOT_TOKEN,
            PODOPS_SLACK__SIGNING_SECRET=SIGNING_SECRET,
            PODOPS_RENDER__LINK_SECRET=LINK_SECRET,
            PYTHONPATH=str(ROOT),
        )
        env.pop(KILL_ENV, None)
        if kill_at:
            env[KILL_ENV] = kill_at
        if os.environ.get(GUARD_ENV) or kill_at:  # a guard check (workers too), or a kill point
            env["PYTHONPATH"] = os.pathsep.join((str(ROOT), str(HOOK_DIR)))
        return env

    def _command(self, jobs: str, rounds: int) -> list[str]:
        command = [sys.executable, "-m", "tests.reliability.worker", str(self.config), jobs]
        return [*command, str(rounds), self.sheets_url]

    def run(self, jobs: str, rounds: int = 2) -> str:
        """Run the named jobs to the end in a worker process."""
        done = subprocess.run(
            self._command(jobs, rounds),
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=WORKER_TIMEOUT_S,
        )
        self.output.append(done.stdout + done.stderr)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout + done.stderr

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`podops -c CONFIG ARGS...`, the command staff type."""
        done = subprocess.run(
            [sys.executable, "-m", "podops", "-c", str(self.config), *args],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=WORKER_TIMEOUT_S,
        )
        self.output.append(done.stdout + done.stderr)
        return done

    def service(self) -> subprocess.Popen[str]:
        """The real `podops run --role worker` (scheduler, all jobs, its own timing)."""
        command = [sys.executable, "-m", "podops", "-c", str(self.config), "run"]
        return subprocess.Popen(
            [*command, "--role", "worker", "--log-json"],
            cwd=ROOT,
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def stop(self, process: subprocess.Popen[str]) -> None:
        """SIGTERM: the service lets running jobs finish, then exits."""
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
        self.output.append(out + err)

    def start(self, jobs: str, rounds: int = 1, *, kill_at: str = "") -> subprocess.Popen[str]:
        return subprocess.Popen(
            self._command(jobs, rounds),
            cwd=ROOT,
            env=self.env(kill_at=kill_at),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def kill(self, process: subprocess.Popen[str]) -> None:
        """SIGKILL: no clean-up, no `finally`, no atexit, as in a power cut."""
        process.send_signal(signal.SIGKILL)
        out, err = process.communicate(timeout=30)
        self.output.append(out + err)
        assert process.returncode == -signal.SIGKILL


def crash_in_the_middle(deployment: Deployment, jobs: str, held: Gate) -> None:
    """Start a worker, wait until the gate holds its request, SIGKILL it, open the gate."""
    worker = deployment.start(jobs)
    try:
        held.wait_held()
    except AssertionError:
        worker.kill()
        out, err = worker.communicate()
        raise AssertionError(f"worker never reached the gate: {out}{err[-2000:]}") from None
    deployment.kill(worker)
    held.release()


def die_at(deployment: Deployment, jobs: str, kill_at: str) -> None:
    """Run a worker that SIGKILLs itself at a kill point (kill_points.py); fail if
    it finished, or died otherwise, without reaching it."""
    worker = deployment.start(jobs, rounds=2, kill_at=kill_at)
    out, err = worker.communicate(timeout=WORKER_TIMEOUT_S)
    deployment.output.append(out + err)
    reached = worker.returncode == -signal.SIGKILL and REACHED in err
    assert reached, f"never reached {kill_at!r} (exit {worker.returncode}): {err[-2000:]}"


def time_passes(db: Database, minutes: float = 10) -> None:
    """The clock moves on: leases a dead worker took (outbox claims, orders
    left `submitting`) reach the age after which a live worker takes over."""
    earlier = timedelta(minutes=minutes)
    with db.unit_of_work() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.delivered_at.is_(None))
            .values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )
        session.execute(
            update(Fulfillment)
            .where(Fulfillment.status == "submitting")
            .values(updated_at=utcnow() - earlier, claimed_at=utcnow() - earlier)
        )


def every_text_in(db: Database) -> str:
    """Every table's rows as text, for the secret scan."""
    from podops.models import Base

    parts: list[str] = []
    with db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(text(f'SELECT * FROM "{table.name}"')):
                parts.append(" ".join(str(value) for value in row))
    return "\n".join(parts)


def watched_before(db: Database, store: str = "main") -> None:
    """The scenarios happen in a shop podops already watches: a store's very first
    sync holds orders already past their submit time (docs/intake.md), which is not
    what these faults are about."""
    from podops.services.receiving import ensure_store

    with db.unit_of_work() as session:
        ensure_store(session, store, "woocommerce").last_synced_at = utcnow() - timedelta(days=1)


@pytest.fixture
def deployment(tmp_path: Path, db_url: str, db: Database) -> Iterator[Deployment]:
    """A deployment whose every output, and the database it leaves, is searched for
    the known secrets once the scenario is over (the fault scenarios meet 500s,
    503s and outages, whose error texts carry URLs and headers)."""
    chosen = Deployment(tmp_path, db_url)
    watched_before(db)
    yield chosen
    places = {f"worker run {i}": text for i, text in enumerate(chosen.output)}
    places["database"] = every_text_in(db)
    found = [f"{name} in {place}" for name, secret in SECRETS.items()
             for place, content in places.items() if secret in content]  # fmt: skip
    _results.append(
        {
            **Outcome(
                "secrets in every fault scenario (worker logs, CLI output, the database)",
                "secrets",
                "no WooCommerce key/secret, provider key, Slack token or signing secret, "
                "webhook or link secret appears",
            ).row(),
            "status": "fail" if found else "pass",
            "reason": "; ".join(found)[:200],
            "test": "every fault scenario",
        }
    )
    assert found == [], found


def wait_until(predicate: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting")
