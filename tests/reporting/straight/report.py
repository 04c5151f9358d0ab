"""The report's tables computed the straightforward way (see the package doc)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from podops.db import Database
from podops.reporting.period import Period
from podops.settings import Settings
from tests.reporting.straight.frames import read_frames
from tests.reporting.straight.money import money, order_money
from tests.reporting.straight.quality import failure_reasons, order_facts, quality
from tests.reporting.straight.turnaround import not_timed, timed_parts, turnaround


def tables(db: Database, settings: Settings, period: Period, by: str) -> dict[str, Any]:
    with db.reading() as session:
        frames = read_frames(session.connection(), period.start, period.end)
    promised = {
        name: p.promised_days
        for name, p in settings.providers.items()
        if p.promised_days is not None
    }
    fees = {name: store.fees for name, store in settings.stores.items()}
    rows = timed_parts(frames)
    facts = order_facts(frames)
    per_order = order_money(frames, facts, fees)
    local = frames.orders["placed_at"].dt.tz_convert(settings.tz).dt.date
    return {
        "orders": len(frames.orders),
        "turnaround": turnaround(frames, rows, by, promised),
        "quality": quality(frames, facts, by),
        "money": money(frames, per_order, by, settings.reports.currency),
        "not_timed": [(n.reference, n.missing) for n in not_timed(rows)],
        "failure_reasons": failure_reasons(frames),
        "per_day": pd.crosstab(local, frames.orders["store"].astype("string")),
    }
