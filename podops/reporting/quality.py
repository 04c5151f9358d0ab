"""Which provider fails, rejects or is late, and what needed staff: per group, submit
failures (attempts and orders), provider rejections, cancellations before and after
submission, returns, refunds, remakes and orders that needed a design fix.

A rejection is a provider's answer refusing an order (a submit failure that is not
an outage: not retryable) or a status podops does not know (a design rejection, a
hold at the provider). A design fix is an order flagged as needing design, a refused
render, a staff edit of its personalization or crop, a low-resolution photo, a design
replaced at the provider, or a line rendered more than once.
"""

from __future__ import annotations

import pandas as pd

from podops.reporting.frames import Frames
from podops.reporting.groups import order_weights

REASON_CHARS = 140


def order_facts(frames: Frames) -> pd.DataFrame:
    """One row per order: the quality facts reports count (booleans and counts)."""
    orders = frames.orders
    facts = pd.DataFrame(index=orders.index)
    cancelled = (orders["status"] == "cancelled").to_numpy()
    sent = orders["sent"].to_numpy()
    facts["cancelled_before"] = cancelled & ~sent
    facts["cancelled_after"] = cancelled & sent
    facts["returned"] = (orders["status"] == "returned").to_numpy()
    fails = frames.fails
    facts["submit_failures"] = (
        fails.groupby("order_id").size().reindex(facts.index, fill_value=0).astype("int64")
    )
    facts["failed"] = facts["submit_failures"] > 0
    events = frames.events.reindex(facts.index)
    refused = fails.loc[~fails["retryable"]].groupby("order_id").size()
    facts["rejections"] = (
        refused.reindex(facts.index, fill_value=0) + events["status_unknown"].fillna(0)
    ).astype("int64")
    rerendered = frames.members.loc[frames.members["rerendered"], "order_id"]
    facts["design_fix"] = events["design"].fillna(False).astype(bool).to_numpy() | (
        facts.index.isin(rerendered)
    )
    facts["refunded"] = events["refunded"].fillna(False).astype(bool).to_numpy()
    facts["remakes"] = orders["remakes"].astype("int64")
    return facts


COUNTS = {
    "orders": "orders",
    "failed": "orders with a submit failure",
    "submit_failures": "submit failures",
    "rejections": "provider rejections",
    "cancelled_before": "cancelled before submission",
    "cancelled_after": "cancelled after submission",
    "returned": "returned",
    "refunded": "refunded (in part or whole)",
    "remakes": "remakes",
    "design_fix": "needed a design fix",
}


def quality(
    frames: Frames, facts: pd.DataFrame, by: str, weights: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per group: each count of `COUNTS`; an order counts whole in each of its groups
    (`weights`: the frames' `order_weights`, when already computed)."""
    if weights is None:
        weights = order_weights(frames)
    members = weights[["order_id", "group"]].drop_duplicates()
    joined = members.join(facts, on="order_id")
    numeric = joined.drop(columns=["order_id"]).astype(
        {name: "int64" for name in COUNTS if name != "orders"}
    )
    table = numeric.groupby("group", sort=True, observed=True).sum()
    table.insert(0, "orders", members.groupby("group", sort=True, observed=True).size())
    table.index = table.index.astype("string")
    if by == "provider":  # failures belong to the provider that refused, not the order's
        per_provider = frames.fails.groupby("provider").size()
        named = per_provider.reindex(table.index).fillna(0).astype("int64")
        table["submit_failures"] = named.where(named > 0, table["submit_failures"])
    table.index.name = by
    return table[list(COUNTS)]


def failure_reasons(frames: Frames, limit: int = 10) -> list[tuple[str, str, int]]:
    """(provider, reason, how many) of the submit failures, most first."""
    fails = frames.fails
    if fails.empty:
        return []
    reasons = fails["reason"].str.slice(0, REASON_CHARS).replace("", "(no reason given)")
    counted = (
        fails.assign(reason=reasons, provider=fails["provider"].replace("", "?"))
        .groupby(["provider", "reason"])
        .size()
        .sort_values(ascending=False, kind="stable")
        .head(limit)
    )
    return [(str(p), str(r), int(n)) for (p, r), n in counted.items()]
