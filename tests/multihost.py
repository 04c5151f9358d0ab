"""Several hosts, simulated on one machine: one web and two worker `podops run`
processes, each in its own folder (no shared disk), one PostgreSQL database, a
real S3-compatible server (moto), the sandbox store sending orders and a fake
CustomCat counting every request and every order per reference (repeats accepted,
so a double submission shows) and which process created it (each process is given
the provider's address under a path of its own, `/via/NAME`). Used by
tests/runtime/test_multihost.py and bench/multihost.py.

    with Cluster(tmp_path, db_url, ClusterPlan()) as cluster:
        cluster.start_all()
        killed = cluster.kill_while_sending(after=2)   # SIGKILL mid-call
        ...                               # wait until settled
        outcome = cluster.outcome()       # links, duplicates, peak, lost, who sent

What counts (`Outcome`): every print-file link a provider got, and every line's
signed link on the web role, downloads the bytes whose SHA-256 the line records;
the most requests the provider saw in any window of one second, over the limit
summed over processes; references created more than once; orders ready to go
that never reached the provider exactly once; how many orders each worker created.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from podops.db import Database
from podops.fulfillment_status import FulfillmentStatus
from podops.links import signed_url
from podops.models import Fulfillment, LineItem, Order, utcnow
from podops.runtime.demo import serve_photos
from podops.services.receiving import watched_since
from podops.status import OrderStatus
from tests.fakes.customcat import API_KEY, FakeCustomCat
from tests.fakes.s3_server import S3Server

ROOT = Path(__file__).resolve().parents[1]
LINK_SECRET = "multihost-link-secret-0123456789abcdef"
WINDOW_S = 1.0
WORKERS = ("worker-1", "worker-2")
GONE = {OrderStatus.PENDING, OrderStatus.SUBMITTING, OrderStatus.SUBMIT_FAILED}
"""Order states that, once the run settled, mean an order was lost on the way."""
AT_PROVIDER = {
    FulfillmentStatus.SUBMITTED,
    FulfillmentStatus.IN_PRODUCTION,
    FulfillmentStatus.PARTIALLY_SHIPPED,
    FulfillmentStatus.SHIPPED,
}

CONFIG = """timezone = "UTC"
data_dir = "var"

[stores.shop]
platform = "sandbox"
default_provider = "cc"
countdown_hours = {countdown_h}
poll_minutes = {poll_minutes}
sandbox_every_s = {every_s}
sandbox_backfill_h = {backfill_h}
sandbox_photo_url = "http://127.0.0.1:{photo_port}/photo-{{n}}.jpg"

[providers.cc]
kind = "customcat"
base_url = "{cc_url}"
rate_limit_per_s = {rate}

[[routing]]
sku = "TEE-*"
provider = "cc"
provider_sku = "PC54-BLK"
product_key = "tee-front"

[[routing]]
sku = "MUG-*"
provider = "cc"
provider_sku = "MUG11"
product_key = "mug-11oz"

[sheet]
backend = "none"

[render]
public_base_url = "http://127.0.0.1:{web_port}"
allow_loopback_image_hosts = true

[storage]
kind = "s3"
bucket = "{bucket}"
prefix = "print-files"
endpoint_url = "{s3_url}"

[server]
port = {web_port}
"""


@dataclass(frozen=True)
class ClusterPlan:
    """How the shop is set up: how many orders are waiting, how fast new ones come."""

    backfill_s: float = 240.0
    """The orders placed this long before the start are all found at the first pass."""
    every_s: float = 20.0
    """The sandbox store places about one order in 0.6 of these slots."""
    poll_minutes: float = 60.0
    """60: one pass at start-up, so the run has a fixed set of orders."""
    countdown_s: float = 3.6
    rate_per_s: float = 2.0
    """The provider's limit, summed over every process."""


@dataclass
class Outcome:
    orders: int = 0
    submitted: int = 0
    waiting_for_staff: int = 0
    links_checked: int = 0
    links_broken: list[str] = field(default_factory=list)
    duplicates: int = 0
    lost: list[str] = field(default_factory=list)
    peak_per_window: int = 0
    allowed_per_window: int = 0
    first_created_s: float = 0.0
    last_created_s: float = 0.0
    sent_by: dict[str, int] = field(default_factory=dict)
    """Orders each process created at the provider."""

    @property
    def peak_over_limit(self) -> int:
        return max(0, self.peak_per_window - self.allowed_per_window)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def peak(times: list[float], window: float) -> int:
    """The most requests any window of `window` seconds, (t - window, t], held."""
    ordered = sorted(times)
    counts = (i - bisect_right(ordered, t - window) + 1 for i, t in enumerate(ordered))
    return max(counts, default=0)


class CustomCatByProcess(FakeCustomCat):
    """The fake CustomCat, telling the processes apart by the path each is given
    (`/via/NAME/api/v1`); `on_create` may SIGKILL the process whose order was just
    created, before it hears the answer (the connection is dropped)."""

    def __init__(self) -> None:
        super().__init__(reject_duplicates=False)
        self.sent_by: Counter[str] = Counter()
        self.on_create: Callable[[str], bool] | None = None
        self._caller = threading.local()

    def url_for(self, name: str) -> str:
        return f"{self.url}/via/{name}/api/v1"

    def _dispatch(self, http: Any) -> None:
        self._caller.name = ""
        if http.path.startswith("/via/"):
            self._caller.name, _, rest = http.path.removeprefix("/via/").partition("/")
            http.path = f"/{rest}"
        super()._dispatch(http)

    def _create(self, ref: str, **kwargs: Any) -> Any:
        before = self.created[ref]
        reply = super()._create(ref, **kwargs)
        name = getattr(self._caller, "name", "")
        if self.created[ref] > before:
            with self.lock:
                self.sent_by[name] += 1
            if self.on_create is not None and self.on_create(name):
                return -1, None, {}
        return reply


class Cluster:
    """The outside systems, the folders and the `podops run` processes of one shop."""

    def __init__(self, root: Path, db_url: str, plan: ClusterPlan) -> None:
        self.root = root
        self.db_url = db_url
        self.plan = plan
        self.db = Database(db_url)
        self.web_port = free_port()
        self.s3 = S3Server()
        self.provider = CustomCatByProcess()
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.started = time.monotonic()

    def __enter__(self) -> Cluster:
        self.s3.__enter__()
        self.provider.start()
        self.photos = serve_photos(self.root / "www")
        with self.db.unit_of_work() as session:  # podops watched the shop from then on
            since = utcnow() - timedelta(seconds=self.plan.backfill_s)
            watched_since(session, "shop", "sandbox", since)
        return self

    def __exit__(self, *exc: object) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
        self.photos.shutdown()
        self.provider.stop()
        self.s3.stop()
        self.db.dispose()

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def config(self, name: str) -> str:
        plan = self.plan
        return CONFIG.format(
            countdown_h=plan.countdown_s / 3600,
            poll_minutes=plan.poll_minutes,
            every_s=plan.every_s,
            backfill_h=plan.backfill_s / 3600,
            photo_port=self.photos.server_port,
            cc_url=self.provider.url_for(name),
            rate=plan.rate_per_s,
            web_port=self.web_port,
            bucket=self.s3.bucket,
            s3_url=self.s3.endpoint,
        )

    def start(self, name: str, role: str) -> subprocess.Popen[bytes]:
        """`podops run --role ROLE` in a folder of its own (its own data and print files)."""
        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "podops.toml").write_text(self.config(name))
        env = {k: v for k, v in os.environ.items() if not k.startswith("PODOPS_")}
        env |= {
            "PYTHONPATH": str(ROOT),
            "PODOPS_CONFIG": "podops.toml",
            "PODOPS_DATABASE__URL": self.db_url,
            "PODOPS_STORAGE__ACCESS_KEY_ID": self.s3.keys.access_key_id,
            "PODOPS_STORAGE__SECRET_ACCESS_KEY": self.s3.keys.secret_access_key,
            "PODOPS_PROVIDERS__CC__API_KEY": API_KEY,
            "PODOPS_RENDER__LINK_SECRET": LINK_SECRET,
        }
        log = (folder / "podops.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "podops", "run", "--role", role, "--log-json"],
            cwd=folder,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes[name] = process
        return process

    def start_all(self) -> None:
        """One web and two workers; returns when the web role answers."""
        self.start("web", "web")
        for name in WORKERS:
            self.start(name, "worker")
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                if httpx.get(f"{self.web_url}/healthz", timeout=1).status_code == 200:
                    self.started = time.monotonic()
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise RuntimeError("the web role did not answer /healthz in 90 s")

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None and process.returncode != -signal.SIGKILL:
                log = (self.root / name / "podops.log").read_text(errors="replace")
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{log[-3000:]}")

    def log_of(self, name: str) -> str:
        return (self.root / name / "podops.log").read_text(errors="replace")

    def kill_while_sending(self, after: int, timeout_s: float = 150) -> tuple[str, int]:
        """SIGKILL a worker in the middle of sending (`arm_kill`); wait until it is done.
        Returns the worker's name and the orders the provider had created then."""
        killed = self.arm_kill(after)
        deadline = time.monotonic() + timeout_s
        while not killed:
            self.check_alive()
            if time.monotonic() > deadline:
                self.provider.on_create = None
                raise AssertionError(
                    f"the workers did not both send orders in {timeout_s} s: "
                    f"{dict(self.provider.sent_by)}:\n{self.log_of(WORKERS[0])[-2000:]}"
                )
            time.sleep(0.2)
        return killed[0]

    def arm_kill(self, after: int) -> list[tuple[str, int]]:
        """Once the provider has created `after` orders, every worker some, and another
        order is still to go, the next worker whose order the provider creates dies
        before it hears the answer (the order is at the provider, its claim in the
        database). The list returned gets the worker's name and the orders created."""
        killed: list[tuple[str, int]] = []

        def kill_sender(name: str) -> bool:
            if killed or name not in WORKERS:
                return False
            with self.provider.lock:
                created = sum(self.provider.created.values())
                everyone = all(self.provider.sent_by[w] for w in WORKERS)
            if created < after or not everyone or self.claimed() < 2:
                return False  # (at least one order besides this one still to go)
            self.provider.on_create = None
            self.kill(name)
            killed.append((name, created))
            return True

        self.provider.on_create = kill_sender
        return killed

    def kill(self, name: str) -> None:
        """SIGKILL: no shutdown, no last commit, claims and the lock left as they were."""
        self.processes[name].send_signal(signal.SIGKILL)
        self.processes[name].wait(timeout=10)

    def claimed(self) -> int:
        """Fulfillments claimed and not yet answered (`submitting`)."""
        with self.db.reading() as session:
            return len(
                session.scalars(
                    select(Fulfillment.id).where(Fulfillment.status == FulfillmentStatus.SUBMITTING)
                ).all()
            )

    def unsettled(self, placed_before: datetime | None = None) -> list[str]:
        """Orders still on their way (due, claimed, or failed and to be retried)."""
        query = select(Order.number, Order.status).where(Order.status.in_(list(GONE)))
        if placed_before is not None:
            query = query.where(Order.placed_at <= placed_before)
        with self.db.reading() as session:
            rows = session.execute(query).all()
        return [f"{number} ({status})" for number, status in rows]

    def wait_settled(
        self, timeout_s: float, *, at_least: int = 1, placed_before: datetime | None = None
    ) -> list[str]:
        """Wait until at least `at_least` orders reached the provider and none (placed
        before `placed_before`) is still on its way; returns those still on their way
        at the deadline."""
        deadline = time.monotonic() + timeout_s
        while True:
            self.check_alive()
            left = self.unsettled(placed_before)
            if (not left and len(self.provider.created) >= at_least) or (
                time.monotonic() > deadline
            ):
                return left
            time.sleep(1.0)

    def outcome(self, placed_before: datetime | None = None) -> Outcome:
        """What the run did; orders placed after `placed_before` may still be on their
        way (the store goes on sending): they count for links and duplicates only."""
        result = Outcome(allowed_per_window=int(self.plan.rate_per_s * WINDOW_S) + 1)
        with self.db.reading() as session:
            orders = session.scalars(
                select(Order).options(selectinload(Order.fulfillments), selectinload(Order.items))
            ).all()
            digests = _digests(session)
            sent: dict[str, int] = {}
            later: set[str] = set()
            for order in orders:
                if placed_before is not None and _aware(order.placed_at) > placed_before:
                    later.update(part.reference for part in order.fulfillments)
                    continue
                result.orders += 1
                if order.status in GONE:
                    result.lost.append(f"{order.number} still {order.status}")
                for part in order.fulfillments:
                    if part.status in AT_PROVIDER:
                        sent[part.reference] = sent.get(part.reference, 0)
                if any(part.status in AT_PROVIDER for part in order.fulfillments):
                    result.submitted += 1
                elif order.status not in GONE:
                    result.waiting_for_staff += 1
        created = self.provider.created
        for reference in sent:
            if created[reference] != 1:
                result.lost.append(f"{reference} created {created[reference]} times")
        result.lost += [
            f"{ref} at the provider, not recorded"
            for ref in created
            if ref not in sent and ref not in later
        ]
        result.duplicates = self.provider.duplicates()
        with self.provider.lock:
            result.sent_by = {name: self.provider.sent_by[name] for name in WORKERS}
        result.links_broken, result.links_checked = self._check_links(digests)
        with self.provider.lock:  # the store may still be sending
            requests, times = list(self.provider.requests), list(self.provider.request_times)
        result.peak_per_window = peak(times, WINDOW_S)
        create_times = [
            t for (method, _), t in zip(requests, times, strict=True) if method == "POST"
        ]
        if create_times:
            result.first_created_s = min(create_times) - self.started
            result.last_created_s = max(create_times) - self.started
        return result

    def _check_links(self, digests: dict[str, str]) -> tuple[list[str], int]:
        """Download every link a provider got and every line's link on the web role."""
        links: list[tuple[str, str]] = []
        for reference, order in self.provider.orders.items():
            for item in order["body"]["items"]:
                for key in ("design_url", "design_url_back"):
                    if key in item:
                        links.append((f"{reference} {key}", item[key]))
        secret = LINK_SECRET.encode()
        for name in digests:
            links.append((f"web role {name}", signed_url(self.web_url, name, secret)))
        broken = []
        with httpx.Client(timeout=60, follow_redirects=True) as client:
            for what, url in links:
                name = Path(urlsplit(url).path).name
                expected = digests.get(name)
                answer = client.get(url)
                got = hashlib.sha256(answer.content).hexdigest()
                if answer.status_code != 200 or expected is None or got != expected:
                    broken.append(f"{what}: HTTP {answer.status_code}, file {name}")
        return broken, len(links)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _digests(session: object) -> dict[str, str]:
    """The file name of every line's print file, and the SHA-256 the line records."""
    rows = session.execute(  # type: ignore[attr-defined]
        select(LineItem.print_file, LineItem.print_file_sha256).where(
            LineItem.print_file.is_not(None)
        )
    ).all()
    return {Path(urlsplit(location).path).name: digest for location, digest in rows}
