"""The demo's shop is watched from the moment it opened, however slowly this machine
starts: its first pass is no first sync, so the opening order (the one staff fix on
screen) is never held as placed before podops watched the store."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from podops.models import Order
from podops.runtime.demo import DemoTiming, build_runtime, prepare_folder, write_config
from podops.runtime.instance import collect_jobs
from podops.services.new_orders import UNWATCHED_REASON
from podops.status import OrderStatus


def test_a_slow_start_does_not_hold_the_opening_order(tmp_path: Path) -> None:
    # A 1 s countdown: every order of the opening slots is past its submit time when
    # the first pass runs, as after a slow start with the short demo's 4 s countdown.
    folder = tmp_path / "demo"
    prepare_folder(folder)
    timing = DemoTiming(intake_s=5, every_s=2, countdown_s=1, stage_s=1, timeout_s=10)
    runtime = build_runtime(write_config(folder, timing, photo_port=9))
    try:
        jobs = {spec.name: spec.func for spec in collect_jobs(runtime)}
        jobs["intake.shop"]()
        with runtime.db.unit_of_work() as session:
            orders = list(session.scalars(select(Order)))
            held = [o.number for o in orders if UNWATCHED_REASON in (o.hold_reason or "")]
            statuses = {o.status for o in orders}
    finally:
        runtime.close()
    assert orders, "the test shop had placed no order yet"
    assert held == []
    assert statuses & {OrderStatus.PENDING, OrderStatus.NEEDS_DESIGN}
