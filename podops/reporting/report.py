"""One report: its period and grouping, the tables (turnaround, quality, money), the
lists to act on (late, stuck, not timed) and the notes that say what is estimated.

`build_report` reads the frames in one read-only transaction, then computes in
pandas with no transaction open; an empty period gives an empty report that says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from podops.db import Database
from podops.models import utcnow
from podops.queries import remake_counts
from podops.reporting.frames import Frames, as_text, read_frames
from podops.reporting.groups import order_weights
from podops.reporting.money import money, order_money
from podops.reporting.period import Period
from podops.reporting.quality import failure_reasons, order_facts, quality
from podops.reporting.turnaround import NotTimed, not_timed, timed_parts, turnaround
from podops.reporting.watch import Watched, late_orders, stuck_parts
from podops.settings import Settings

NO_LABELS = "label costs: none subtracted (podops buys no labels yet)"
NO_DELIVERY = "delivered: not known (no provider or carrier reports delivery to podops yet)"
NO_TAX = "revenue includes any tax in the store's total (podops stores no tax line)"


@dataclass(frozen=True, slots=True)
class Report:
    period: Period
    by: str
    generated_at: datetime
    currency: str
    orders: int
    turnaround: pd.DataFrame
    quality: pd.DataFrame
    money: pd.DataFrame
    late: list[Watched]
    stuck: list[Watched]
    not_timed: list[NotTimed]
    failure_reasons: list[tuple[str, str, int]]
    remakes: list[tuple[str, str, int]]
    notes: list[str] = field(default_factory=list)
    per_day: pd.DataFrame | None = None
    """Orders placed per local day and store (rows: days, columns: stores)."""
    period_timezone: str = "UTC"
    """The shop's time zone, whose days the period's are."""

    @property
    def empty(self) -> bool:
        return self.orders == 0

    @property
    def headline(self) -> str:
        if self.empty:
            return f"No orders were placed {self.period.label}: nothing to report."
        return f"{self.orders} orders placed {self.period.label}, by {self.by}"


def build_report(
    db: Database, settings: Settings, period: Period, by: str, now: datetime | None = None
) -> Report:
    now = now or utcnow()
    config = settings.reports
    with db.reading() as session:
        frames = read_frames(session.connection(), period.start, period.end, by)
        late = late_orders(session, now, config.late_after_days)
        stuck = stuck_parts(session, now, config.stuck_after_days)
        remakes = remake_counts(session, period.start, period.end)
    return compute(frames, settings, period, by, now, late=late, stuck=stuck, remakes=remakes)


def compute(
    frames: Frames,
    settings: Settings,
    period: Period,
    by: str,
    now: datetime,
    *,
    late: list[Watched],
    stuck: list[Watched],
    remakes: list[tuple[str, str, int]],
) -> Report:
    promised = {
        name: p.promised_days
        for name, p in settings.providers.items()
        if p.promised_days is not None
    }
    fees = {name: store.fees for name, store in settings.stores.items()}
    currency = settings.reports.currency
    rows = timed_parts(frames)
    facts = order_facts(frames)
    per_order = order_money(frames, facts, fees)
    weights = order_weights(frames)  # for quality and money both
    notes = [NO_DELIVERY, NO_TAX, NO_LABELS]
    unpromised = sorted(set(rows["provider"].dropna().unique()) - set(promised) - {"(not sent)"})
    if unpromised:
        notes.append(
            "no promised days configured for "
            + ", ".join(unpromised)
            + " (providers.NAME.promised_days): no share within promise"
        )
    unfeed = sorted(set(per_order.loc[~per_order["fees_configured"], "store"].dropna().unique()))
    if unfeed:
        notes.append(
            "store fees not configured for "
            + ", ".join(unfeed)
            + " (stores.NAME.fees): their margins are before store and payment fees"
        )
    others = sorted(set(per_order["currency"].dropna().unique()) - {currency})
    if others:
        notes.append(f"orders in {', '.join(others)} are reported apart from {currency}")
    return Report(
        period=period,
        by=by,
        generated_at=now,
        currency=currency,
        orders=len(frames.orders),
        turnaround=turnaround(frames, rows, by, promised),
        quality=quality(frames, facts, by, weights),
        money=money(frames, per_order, by, currency, weights),
        late=late,
        stuck=stuck,
        not_timed=not_timed(frames),
        failure_reasons=failure_reasons(frames),
        remakes=remakes,
        notes=notes,
        per_day=per_day(frames, settings.tz, period),
        period_timezone=settings.timezone,
    )


def per_day(frames: Frames, tz: Any, period: Period) -> pd.DataFrame:
    """Orders placed per local day (every day of the period) and store."""
    days = pd.date_range(period.first_day, period.last_day, freq="D").date
    if frames.orders.empty:
        return pd.DataFrame(index=pd.Index(days, name="day"))
    micros = (frames.orders["placed_at"] * 1_000_000).round().astype("int64")
    placed = pd.to_datetime(micros.to_numpy(), unit="us", utc=True)
    local = placed.tz_convert(tz).tz_localize(None).floor("D")
    # Counted per (day, store) by grouping (a crosstab walked the times one by one).
    placed_on = pd.DataFrame({"day": local, "store": as_text(frames.orders["store"]).to_numpy()})
    table = placed_on.groupby(["day", "store"]).size().unstack(fill_value=0)
    table.index = table.index.date
    table = table.reindex(days, fill_value=0)
    table.index.name = "day"
    table.columns.name = None
    return table
