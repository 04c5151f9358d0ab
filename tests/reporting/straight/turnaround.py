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

import pandas as pd

from tests.reporting.straight.frames import Frames
from tests.reporting.straight.groups import NOT_SENT, part_groups

LEGS = {
    "placed_submitted": ("placed_at", "submitted_at"),
    "submitted_shipped": ("submitted_at", "shipped_at"),
    "placed_shipped": ("placed_at", "shipped_at"),
}
AT_PROVIDER = {"submitted", "in_production", "cancel_requested", "partially_shipped", "shipped"}
SHIPPED_PARTS = {"partially_shipped", "shipped"}
SHIPPED_ORDERS = {"partially_shipped", "shipped", "completed", "returned"}
DAY = pd.Timedelta(days=1)


@dataclass(frozen=True, slots=True)
class NotTimed:
    reference: str
    missing: str


def timed_parts(frames: Frames) -> pd.DataFrame:
    """One row per fulfillment of the order's own lines (and one per order that has
    none, timed by the order's shipping), with the days each leg took (NaN: untimed)."""
    orders = frames.orders[
        ["order_id", "store", "number", "status", "placed_at", "order_shipped_at"]
    ]
    parts = frames.parts.loc[frames.parts["kind"] == "order"]
    rows = parts.merge(orders, on="order_id")
    lone = orders.loc[~orders["order_id"].isin(parts["order_id"])].copy()
    lone["part_id"] = pd.array([pd.NA] * len(lone), dtype="Int64")
    lone["provider"] = NOT_SENT
    lone["part_status"] = pd.NA
    lone["submitted_at"] = pd.Series(pd.NaT, index=lone.index, dtype="datetime64[us, UTC]")
    lone["shipped_at"] = lone["order_shipped_at"]
    rows = pd.concat(
        [rows.astype({"provider": "string", "part_status": "string"}), lone],
        ignore_index=True,
    )
    for leg, (begin, end) in LEGS.items():
        days = (rows[end] - rows[begin]) / DAY
        rows[leg] = days.where(days >= 0)
    return rows


def not_timed(rows: pd.DataFrame) -> list[NotTimed]:
    """Fulfillments (or orders) past a step whose time podops does not have."""
    status = rows["part_status"].fillna("")
    order_status = rows["status"].astype("string").fillna("")
    at_provider = status.isin(AT_PROVIDER)
    shipped = status.isin(SHIPPED_PARTS) | (
        rows["part_id"].isna() & order_status.isin(SHIPPED_ORDERS)
    )
    missing = {
        "submitted time": at_provider & rows["submitted_at"].isna(),
        "shipped time": shipped & rows["shipped_at"].isna(),
        "never sent by podops": rows["part_id"].isna() & order_status.isin(SHIPPED_ORDERS),
        "times out of order": (rows["shipped_at"] < rows["submitted_at"])
        | (rows["submitted_at"] < rows["placed_at"])
        | (rows["shipped_at"] < rows["placed_at"]),
    }
    found: dict[str, list[str]] = {}
    reference = rows["store"].astype("string") + ":" + rows["number"].astype("string")
    for label, mask in missing.items():
        for ref in reference[mask.fillna(False)]:
            found.setdefault(str(ref), []).append(label)
    return [NotTimed(ref, ", ".join(labels)) for ref, labels in sorted(found.items())]


def turnaround(
    frames: Frames, rows: pd.DataFrame, by: str, promised: Mapping[str, float]
) -> pd.DataFrame:
    """Per group: fulfillments, then count, median and p90 (days) of each leg, and the
    share of shipped fulfillments that left within their provider's promise."""
    if by == "provider":
        rows = rows.assign(group=rows["provider"].astype("string"))
    elif by == "store":
        rows = rows.assign(group=rows["store"].astype("string"))
    else:
        keys = part_groups(frames, by)
        lone_keys = frames.lines[["order_id", by]].rename(columns={by: "group"})
        lone_keys = lone_keys.astype({"group": "string"}).drop_duplicates()
        # As first built, a line with no product or SKU ('') of an order never sent
        # made a group '' of its own here (and "(none)" everywhere else): fixed since.
        lone_keys["group"] = lone_keys["group"].replace("", "(none)")
        sent = rows.loc[rows["part_id"].notna()].merge(keys, on="part_id", how="left")
        unsent = rows.loc[rows["part_id"].isna()].merge(lone_keys, on="order_id", how="left")
        rows = pd.concat([sent, unsent], ignore_index=True)
        rows["group"] = rows["group"].fillna("(none)")
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
    table.index.name = by
    return table
