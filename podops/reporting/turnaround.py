"""How fast orders go out: placed -> submitted, submitted -> shipped and placed ->
shipped, per fulfillment (each provider's part of an order has its own times), as
median and 90th percentile in days, and the share shipped within the provider's
promised days (`providers.NAME.promised_days`).

A fulfillment whose step has no time (imported history, an order fulfilled outside
podops) or whose times run backwards is left out of that leg and listed as not
timed; it still counts in the legs it has times for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from podops.reporting.frames import Frames
from podops.reporting.groups import NONE, NOT_SENT

LEGS = {
    "placed_submitted": ("placed_at", "submitted_at"),
    "submitted_shipped": ("submitted_at", "shipped_at"),
    "placed_shipped": ("placed_at", "shipped_at"),
}
MICROS_PER_DAY = 86_400_000_000.0


@dataclass(frozen=True, slots=True)
class NotTimed:
    reference: str
    missing: str


def timed_parts(frames: Frames) -> pd.DataFrame:
    """One row per fulfillment of the order's own lines (and one per order that has
    none, timed by the order's shipping), with the days each leg took (NaN: untimed).
    Times are epoch seconds, taken to the microsecond as the database keeps them.
    The provider is a category (not a string per row)."""
    orders = frames.orders
    parts = frames.parts
    providers = parts["provider"].cat
    provider_labels = pd.Index([*providers.categories, NOT_SENT], dtype=object)
    sent = pd.DataFrame(
        {
            "part_id": parts["part_id"].astype("Int64"),
            "order_id": parts["order_id"],
            "provider": pd.Categorical.from_codes(
                providers.codes.to_numpy(), categories=provider_labels
            ),
            "store": orders["store"].reindex(parts["order_id"]).to_numpy(),
            "placed_at": orders["placed_at"].reindex(parts["order_id"]).to_numpy(),
            "submitted_at": parts["submitted_at"],
            "shipped_at": parts["shipped_at"],
        }
    )
    lone = orders.loc[~orders.index.isin(parts["order_id"])]
    unsent = pd.DataFrame(
        {
            "part_id": pd.array([pd.NA] * len(lone), dtype="Int64"),
            "order_id": lone.index.to_numpy(),
            "provider": pd.Categorical.from_codes(
                np.full(len(lone), len(provider_labels) - 1, dtype=np.int32),
                categories=provider_labels,
            ),
            "store": lone["store"].to_numpy(),
            "placed_at": lone["placed_at"].to_numpy(),
            "submitted_at": np.nan,
            "shipped_at": lone["shipped_at"].to_numpy(),
        }
    )
    rows = pd.concat([sent, unsent], ignore_index=True)
    micros = {
        name: (rows[name] * 1_000_000).round()
        for name in ("placed_at", "submitted_at", "shipped_at")
    }
    for leg, (begin, end) in LEGS.items():
        days = (micros[end] - micros[begin]) / MICROS_PER_DAY
        rows[leg] = days.where(days >= 0)
    return rows


def not_timed(frames: Frames) -> list[NotTimed]:
    """Fulfillments (or orders) past a step whose time podops does not have (found in
    SQL with their references: `frames.read_frames`)."""
    return [NotTimed(reference, missing) for reference, missing in frames.untimed]


def turnaround(
    frames: Frames, rows: pd.DataFrame, by: str, promised: Mapping[str, float]
) -> pd.DataFrame:
    """Per group: fulfillments, then count, median and p90 (days) of each leg, and the
    share of shipped fulfillments that left within their provider's promise."""
    if by == "provider":
        rows = rows.assign(group=rows["provider"])  # a category: grouped by its codes
    elif by == "store":
        rows = rows.assign(group=rows["store"].astype("string"))
    else:
        keys = frames.part_groups.astype({"group": "string"})
        lone_keys = frames.members[["order_id", "group"]].astype({"group": "string"})
        sent = rows.loc[rows["part_id"].notna()].merge(keys, on="part_id", how="left")
        unsent = rows.loc[rows["part_id"].isna()].merge(lone_keys, on="order_id", how="left")
        rows = pd.concat([sent, unsent], ignore_index=True)
        rows["group"] = rows["group"].fillna(NONE)
    promise = rows["provider"].map(dict(promised)).astype("float64")
    judged = rows["placed_shipped"].notna() & promise.notna()
    rows = rows.assign(judged=judged, within=judged & (rows["placed_shipped"] <= promise))
    grouped = rows.groupby("group", observed=True, sort=True)
    table = pd.DataFrame({"fulfillments": grouped.size()})
    for leg in LEGS:
        table[f"{leg}_n"] = grouped[leg].count()
        table[f"{leg}_median"] = grouped[leg].median()
        table[f"{leg}_p90"] = grouped[leg].quantile(0.9)
    judged_n = grouped["judged"].sum()
    table["promise_judged"] = judged_n
    table["within_promise"] = (grouped["within"].sum() / judged_n.where(judged_n > 0)).astype(
        "float64"
    )
    table.index = table.index.astype("string")
    table.index.name = by
    return table.sort_index()  # by name (a category's groups come in its own order)
