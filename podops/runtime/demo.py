"""`podops demo`: the whole product in about a minute, with no accounts.

A SQLite file, the local workbook, the console notifier, the sandbox store
(test mode) and the sandbox provider (test mode), with time compressed by
configuration only: orders every few seconds, a countdown of seconds, a
provider that ships in seconds. The loop runs the service's own jobs (the same
functions `podops run` schedules), just more often; it edits orders the way
staff would (a message a customer left out, the shipping address one left
blank), and ends with the daily summary and where to look.

Part of the composition root: adapters are reached through the Runtime.
"""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, or_, select

from podops import services
from podops.address import NO_ADDRESS
from podops.errors import ConfigError, PodopsError
from podops.events import Actor, Channel
from podops.fulfillment_status import FulfillmentStatus
from podops.models import LineItem, Order, utcnow
from podops.refs import OrderRef
from podops.runtime.root import Runtime
from podops.services.fulfillments import held_lines, order_parts
from podops.services.receiving import watched_since
from podops.settings import load_settings
from podops.status import OrderStatus

MARKER = ".podops-demo"
EMPTY_FIELD = re.compile(r"field '([^']+)' is empty")
UNPRINTED = re.compile(r"prints no (.+?) \(clear ")
"""A field the customer filled that the line's template does not print (render/design_checks)."""
TOLD_BY_EMAIL = {
    "line1": "350 5th Ave",
    "line2": "Apt 4",
    "city": "New York",
    "state": "NY",
    "postcode": "10118",
    "country": "US",
}
"""The address a customer sends by e-mail when they left it blank at checkout."""
STAFF = Actor("demo:maria (staff)", Channel.SLACK)
PHOTOS = 6
LOOP_JOBS = (
    "notify.alert_scan",
    "fulfillment.countdown",
    "fulfillment.reconcile",
    "fulfillment.tracking",
    "store.pushback",
    "notify.drain",
)
_DESIGN_UNDER_HOLD = and_(
    Order.status == OrderStatus.ON_HOLD, Order.held_from == OrderStatus.NEEDS_DESIGN
)
"""Held orders keep their hold; staff still fix the design under it. The opening order
of the test shop is one (held as placed before podops watched, its message missing):
the first staff edit must find it, or a run without another design problem shows none."""
WAITING_FOR_STAFF = {OrderStatus.ON_HOLD, OrderStatus.NEEDS_DESIGN, OrderStatus.SUBMIT_FAILED}
DONE = {OrderStatus.COMPLETED, OrderStatus.CANCELLED}
PART_DONE = {FulfillmentStatus.SHIPPED, FulfillmentStatus.CANCELLED}

CONFIG = """# Written by `podops demo`: a shop in TEST MODE with time compressed.
timezone = "UTC"
data_dir = "var"

[database]
url = ""

[stores.shop]
platform = "sandbox"
default_provider = "sandbox"
countdown_hours = {countdown_h}
sandbox_every_s = {every_s}
sandbox_backfill_h = {backfill_h}
sandbox_photo_url = "http://127.0.0.1:{photo_port}/photo-{{n}}.jpg"
sandbox_opened_at = {opened_at}

# What the customer paid for: the sandbox store's shipping lines as speeds. Express
# has its own countdown (a rush speed: no wait), flagged on every card and row.
[stores.shop.shipping.methods]
"flat_rate:1" = "standard"
"Express Shipping" = "express"

[stores.shop.shipping.speeds]
express = {{ countdown_hours = 0 }}

[providers.sandbox]
kind = "sandbox"
sandbox_stage_s = {stage_s}
rate_limit_per_s = 20

[[routing]]
sku = "TEE-*"
provider = "sandbox"
product_key = "tee-front"

[[routing]]
sku = "MUG-11OZ*"
provider = "sandbox"
product_key = "mug-11oz"

# podops ships no 15 oz template yet: the demo prints its 15 oz mug with the 11 oz
# wrap on purpose (the sandbox provider takes any file). A real shop adds its
# provider's 15 oz template to render/templates and routes MUG-15OZ* to it.
[[routing]]
sku = "MUG-15OZ*"
provider = "sandbox"
product_key = "mug-11oz"

[slack]
enabled = false
alert_before_minutes = 60

[sheet]
backend = "xlsx"
workbook = "orders.xlsx"

[render]
output_dir = "print-files"
# The demo serves its sample customer photos from this machine.
allow_loopback_image_hosts = true
"""


@dataclass
class DemoTiming:
    """How compressed the demo's time is (seconds)."""

    intake_s: float = 30.0
    every_s: float = 2.0
    countdown_s: float = 20.0
    stage_s: float = 4.0
    timeout_s: float = 180.0


@dataclass
class DemoResult:
    folder: Path
    counts: dict[OrderStatus, int] = field(default_factory=dict)
    edited: str | None = None
    workbook: Path | None = None
    print_files: Path | None = None
    chart: Path | None = None
    store_journal: Path | None = None
    photos: Path | None = None
    finished: bool = False
    fixed: list[str] = field(default_factory=list)
    """Orders staff completed by typing the message the customer left out, or by
    emptying a field the product does not print (a name on a mug)."""
    addressed: list[str] = field(default_factory=list)
    """Orders held without a shipping address that staff gave one (then sent)."""
    waiting: list[tuple[str, str, str]] = field(default_factory=list)
    """(order, status, why) for the orders still waiting for staff at the end."""


def prepare_folder(folder: Path) -> None:
    """Start from a clean demo folder; never wipe a folder the demo did not make."""
    if folder.exists() and any(folder.iterdir()):
        if not (folder / MARKER).exists():
            raise ConfigError(
                f"{folder} exists and is not a podops demo folder; choose another with --folder"
            )
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text("made by podops demo; safe to delete\n")


def serve_photos(folder: Path) -> ThreadingHTTPServer:
    """Customer photos for the sandbox orders, served on 127.0.0.1 (no internet here)."""
    from render.sample_photo import make_sample_photo

    folder.mkdir(parents=True, exist_ok=True)
    for n in range(PHOTOS):
        # Large enough for the frames the demo prints at their minimum (150 DPI in the
        # tee's 9 in circle needs 1350 px), and no larger: the demo's timing is tight.
        make_sample_photo((1400, 1400), seed=n + 1).save(folder / f"photo-{n}.jpg", quality=88)

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True, name="demo-photos").start()
    return server


def write_config(folder: Path, timing: DemoTiming, photo_port: int) -> Path:
    path = folder / "podops.toml"
    path.write_text(
        CONFIG.format(
            countdown_h=timing.countdown_s / 3600,
            every_s=timing.every_s,
            backfill_h=1,
            stage_s=timing.stage_s,
            photo_port=photo_port,
            opened_at=(utcnow() - timedelta(seconds=timing.every_s * 3)).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            ),
        )
    )
    return path


def build_runtime(config: Path) -> Runtime:
    settings = load_settings(config)
    expected = (config.parent / "var" / "podops.db").resolve()
    if not settings.database_url.endswith(expected.as_posix()):
        raise ConfigError(
            "the demo keeps its own SQLite file, but PODOPS_DATABASE__URL is set; "
            "unset it to run the demo"
        )
    runtime = Runtime(settings)
    runtime.db.upgrade()
    watch_from_opening(runtime)
    return runtime


def watch_from_opening(runtime: Runtime) -> None:
    """podops watches the test shop from the moment it opened. Without saying so, the
    first pass would be a first sync, which holds the orders already past their
    countdown as placed before podops watched the store: with the demo's short
    countdown, whether the opening order (the one staff fix) is held would depend on
    how long this machine took to start (a slow start held it and showed no staff
    edit)."""
    for key, store in runtime.settings.stores.items():
        if store.sandbox_opened_at is not None:
            with runtime.db.unit_of_work() as session:
                watched_since(session, key, store.platform, store.sandbox_opened_at)


def rest_waits_for_staff(order: Order) -> bool:
    """An order whose parts all shipped (or were cancelled) while lines routing could not
    place stay for staff (a product not set up): the demo has nothing more to do."""
    if OrderStatus(order.status) != OrderStatus.PARTIALLY_SHIPPED or not held_lines(order):
        return False
    return all(part.status in PART_DONE for part in order_parts(order))


class Demo:
    def __init__(self, runtime: Runtime, timing: DemoTiming, say: Callable[[str], None]) -> None:
        from podops.runtime.instance import collect_jobs

        self.runtime = runtime
        self.timing = timing
        self.say = say
        self.jobs = {spec.name: spec.func for spec in collect_jobs(runtime)}
        self.stop = threading.Event()
        self.edited: str | None = None
        self.fixed: list[str] = []
        self.addressed: list[str] = []
        self._tried: set[tuple[str, int] | tuple[str, int, str]] = set()

    def run(self) -> bool:
        """Drive the jobs until every order is done or waits for staff; True if it finished."""
        renderer = threading.Thread(target=self._render_loop, daemon=True, name="demo-render")
        renderer.start()
        started = time.monotonic()
        last_mirror = 0.0
        finished = False
        try:
            while time.monotonic() - started < self.timing.timeout_s:
                elapsed = time.monotonic() - started
                if elapsed < self.timing.intake_s:
                    self._job("intake.shop")
                for name in LOOP_JOBS:
                    self._job(name)
                if self.edited is None and elapsed > 4:
                    self._edit_one_order()
                if elapsed > 4:  # what a customer left out, typed as staff would
                    self._fill_in_missing_messages()
                    self._clear_unprinted_fields()
                    self._give_missing_addresses()
                if time.monotonic() - last_mirror > 5:
                    self._job("sheet.mirror")
                    last_mirror = time.monotonic()
                if elapsed > self.timing.intake_s and self._settled():
                    finished = True
                    break
                time.sleep(0.5)
        finally:
            self.stop.set()
            renderer.join(timeout=30)
        self._job("sheet.mirror")
        return finished

    def _job(self, name: str) -> Any:
        job = self.jobs.get(name)
        if job is None:
            return None
        try:
            return job()
        except PodopsError as exc:
            self.say(f"  ({name}: {exc.message})")
        return None

    def _render_loop(self) -> None:
        while not self.stop.is_set():
            if not self._job("fulfillment.render_ahead"):
                self.stop.wait(0.5)

    def _settled(self) -> bool:
        with self.runtime.db.unit_of_work() as session:
            statuses = {
                OrderStatus(status) for status in session.scalars(select(Order.status).distinct())
            }
            if not statuses:
                return False
            if statuses <= DONE | WAITING_FOR_STAFF:
                return True
            going = session.scalars(
                select(Order).where(Order.status.not_in([*DONE, *WAITING_FOR_STAFF]))
            )
            return all(rest_waits_for_staff(order) for order in going)

    def _edit_one_order(self) -> None:
        """What staff do in Slack: fill in what a customer left out (or fix a name), and
        see the order re-rendered and back in the countdown."""
        found = self._line_to_fix()
        if found is None:
            return
        reference, position, change = found
        self._save_edit(reference, position, change)
        self.edited = reference
        self.say(f"Staff edit: order {reference} line {position} {change}; re-rendering")
        for outcome in self.runtime.print_files.render_order(reference, STAFF, [position]):
            if outcome.ok:
                self.say(f"  new print file {outcome.path} (preview {outcome.preview_path})")
            else:
                self.say(f"  could not render {outcome.reference}: {outcome.message}")

    def _fill_in_missing_messages(self) -> None:
        """Staff type every message a customer left out, so no such order is left behind."""
        todo = self._lines_needing_design(EMPTY_FIELD)
        for reference, position, name in todo:
            if (reference, position) in self._tried:
                continue  # tried once and refused: left for real staff, listed at the end
            self._tried.add((reference, position))
            try:
                self._save_edit(reference, position, {name: "Love, Grandma Rose"})
            except PodopsError as exc:
                self.say(f"  (staff could not fix {reference}: {exc.message})")
                continue
            if reference not in self.fixed:
                self.fixed.append(reference)
            self.say(f"Staff edit: order {reference} line {position}: typed the missing {name}")
            self.runtime.print_files.render_order(reference, STAFF, [position])

    def _save_edit(self, reference: str, position: int, change: dict[str, str]) -> None:
        """What the Slack form and `podops edit` do: check against the template, save."""
        checked = self.runtime.field_checks.check(reference, position, change)
        with self.runtime.db.unit_of_work() as session:
            services.edit_fields(session, checked, STAFF)

    def _clear_unprinted_fields(self) -> None:
        """Staff decide about a field the customer filled that the product does not print
        (a name on a mug): here they empty it, and the mug prints without it."""
        for reference, position, names in self._lines_needing_design(UNPRINTED):
            if (reference, position, "clear") in self._tried:
                continue
            self._tried.add((reference, position, "clear"))
            fields = [n.strip() for n in re.split(r",| or ", names) if n.strip()]
            try:
                self._save_edit(reference, position, dict.fromkeys(fields, ""))
            except PodopsError as exc:
                self.say(f"  (staff could not fix {reference}: {exc.message})")
                continue
            if reference not in self.fixed:
                self.fixed.append(reference)
            self.say(
                f"Staff edit: order {reference} line {position}: the product prints no "
                f"{names}, so staff emptied it (printed without it)"
            )
            self.runtime.print_files.render_order(reference, STAFF, [position])

    def _lines_needing_design(self, problem: re.Pattern[str]) -> list[tuple[str, int, str]]:
        """(order, line position, what `problem` matched) of lines waiting for design."""
        with self.runtime.db.unit_of_work() as session:
            query = (
                select(Order, LineItem)
                .join(LineItem)
                .where(or_(Order.status == OrderStatus.NEEDS_DESIGN, _DESIGN_UNDER_HOLD))
                .order_by(Order.id, LineItem.position)
            )
            return [
                (OrderRef.of(order).staff, item.position, found.group(1))
                for order, item in session.execute(query)
                for found in [problem.search(" ".join(item.problems))]
                if found
            ]

    def _give_missing_addresses(self) -> None:
        """Staff type the address a customer sent by e-mail, as `podops edit N address.*`
        does: the order held for "no shipping address" goes back to its countdown."""
        with self.runtime.db.unit_of_work() as session:
            query = select(Order).where(Order.status == OrderStatus.ON_HOLD)
            todo = [
                (OrderRef.of(order).staff, order.customer_name)
                for order in session.scalars(query)
                if NO_ADDRESS in order.problems and OrderRef.of(order).staff not in self.addressed
            ]
        for reference, customer in todo:
            self.addressed.append(reference)
            typed = {"name": customer or "Ana Smith", **TOLD_BY_EMAIL}
            try:
                outcome = self.runtime.addresses.change(reference, typed, STAFF)
            except PodopsError as exc:
                self.say(f"  (staff could not give {reference} its address: {exc.message})")
                continue
            self.say(
                f"Staff edit: order {reference} had no shipping address; typed the one the "
                f"customer e-mailed ({TOLD_BY_EMAIL['line1']}, {TOLD_BY_EMAIL['city']}); "
                f"it is {outcome.status.label} again"
            )

    def waiting_for_staff(self) -> list[tuple[str, str, str]]:
        """The orders left for staff at the end, and why (the shop's deliberate problems)."""
        with self.runtime.db.unit_of_work() as session:
            orders = session.scalars(
                select(Order).where(Order.status.in_(WAITING_FOR_STAFF)).order_by(Order.id)
            )
            return [
                (
                    OrderRef.of(order).staff,
                    OrderStatus(order.status).label,
                    order.hold_reason
                    or "; ".join([*order.problems, *(p for i in order.items for p in i.problems)])
                    or "waits for staff",
                )
                for order in orders
            ]

    def _line_to_fix(self) -> tuple[str, int, dict[str, str]] | None:
        with self.runtime.db.unit_of_work() as session:
            query = (
                select(Order, LineItem)
                .join(LineItem)
                .where(
                    or_(
                        Order.status.in_([OrderStatus.NEEDS_DESIGN, OrderStatus.PENDING]),
                        _DESIGN_UNDER_HOLD,
                    )
                )
                .order_by(Order.status == OrderStatus.PENDING, Order.submit_at.desc())
            )
            for order, item in session.execute(query.limit(50)):
                reference = OrderRef.of(order).staff
                for problem in item.problems:
                    missing = EMPTY_FIELD.search(problem)
                    if missing:
                        return reference, item.position, {missing.group(1): "Love, Grandma Rose"}
                if OrderStatus(order.status) == OrderStatus.PENDING and item.print_file_current:
                    field = "name" if item.product_key.startswith("tee") else "message"
                    return reference, item.position, {field: "Grandma Rose"}
        return None

    def post_summary(self) -> Path:
        """Today's summary (the demo's day) through the same outbox path as the daily job."""
        from podops.notify.summary import build_summary
        from podops.outbox import enqueue
        from podops.outbox.messages import summary_message

        today = utcnow().astimezone(self.runtime.settings.tz).date()
        summary = build_summary(self.runtime.db, self.runtime.settings, today)
        with self.runtime.db.unit_of_work() as session:
            enqueue(session, summary_message(summary, demo=True))
        self._job("notify.drain")  # the notifier saves the chart (one file, one path)
        folder = getattr(self.runtime.notifier, "image_dir", None)
        chart = Path(folder or self.runtime.settings.data_dir) / f"orders-{summary.day}.png"
        if not chart.exists():  # a notifier that keeps no files
            chart.parent.mkdir(parents=True, exist_ok=True)
            chart.write_bytes(self.runtime.chart(summary))
        return chart


def run_demo(folder: Path, timing: DemoTiming, say: Callable[[str], None]) -> DemoResult:
    folder = folder.resolve()
    prepare_folder(folder)
    photos = serve_photos(folder / "photos")
    try:
        config = write_config(folder, timing, photos.server_port)
        runtime = build_runtime(config)
        try:
            demo = Demo(runtime, timing, say)
            finished = demo.run()
            chart = demo.post_summary()
            with runtime.db.unit_of_work() as session:
                counts = {
                    OrderStatus(status): int(count)
                    for status, count in session.execute(
                        select(Order.status, func.count()).group_by(Order.status)
                    )
                }
            settings = runtime.settings
            return DemoResult(
                folder=folder,
                counts=counts,
                edited=demo.edited,
                workbook=settings.resolve(settings.sheet.workbook),
                print_files=settings.resolve(settings.render.output_dir),
                chart=chart,
                store_journal=settings.data_dir / "sandbox-store-shop.jsonl",
                photos=folder / "photos",
                finished=finished,
                fixed=demo.fixed,
                addressed=demo.addressed,
                waiting=demo.waiting_for_staff(),
            )
        finally:
            runtime.close()
    finally:
        photos.shutdown()
