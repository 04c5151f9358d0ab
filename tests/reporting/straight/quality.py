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

from podops.events import EventName
from tests.reporting.straight.frames import DESIGN_FIX_EVENTS, Frames
from tests.reporting.straight.groups import order_weights

REASON_CHARS = 140


def order_facts(frames: Frames) -> pd.DataFrame:
    """One row per order: the quality facts reports count (booleans and counts)."""
    orders = frames.orders.set_index("order_id")
    events = frames.events
    parts = frames.parts
    facts = pd.DataFrame(index=orders.index)
    sent = parts.loc[parts["submitted_at"].notna(), "order_id"].unique()
    cancelled = orders["status"].astype("string") == "cancelled"
    facts["cancelled_before"] = cancelled & ~facts.index.isin(sent)
    facts["cancelled_after"] = cancelled & facts.index.isin(sent)
    facts["returned"] = orders["status"].astype("string") == "returned"
    fails = events.loc[events["action"] == EventName.SUBMIT_FAIL.value]
    facts["submit_failures"] = fails.groupby("order_id").size().reindex(facts.index, fill_value=0)
    facts["failed"] = facts["submit_failures"] > 0
    rejected = ((events["action"] == EventName.SUBMIT_FAIL.value) & ~events["retryable"]) | (
        events["action"] == EventName.PROVIDER_STATUS_UNKNOWN.value
    )
    facts["rejections"] = (
        events.loc[rejected].groupby("order_id").size().reindex(facts.index, fill_value=0)
    )
    design = events.loc[events["action"].isin([e.value for e in DESIGN_FIX_EVENTS]), "order_id"]
    rerendered = frames.lines.loc[frames.lines["revision"].fillna(0) > 1, "order_id"]
    facts["design_fix"] = facts.index.isin(design) | facts.index.isin(rerendered)
    refunds = events["action"].isin(
        [EventName.STORE_REFUND.value, EventName.STORE_REFUNDED_AFTER_SUBMISSION.value]
    )
    facts["refunded"] = facts.index.isin(events.loc[refunds, "order_id"])
    remakes = parts.loc[(parts["kind"] == "remake") & (parts["part_status"] != "cancelled")]
    facts["remakes"] = remakes.groupby("order_id").size().reindex(facts.index, fill_value=0)
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


def quality(frames: Frames, facts: pd.DataFrame, by: str) -> pd.DataFrame:
    """Per group: each count of `COUNTS`; an order counts whole in each of its groups."""
    members = order_weights(frames, by)[["order_id", "group"]].drop_duplicates()
    joined = members.join(facts, on="order_id")
    numeric = joined.drop(columns=["order_id"]).astype(
        {name: "int64" for name in COUNTS if name != "orders"}
    )
    table = numeric.groupby("group", sort=True).sum()
    table.insert(0, "orders", members.groupby("group", sort=True).size())
    if by == "provider":  # failures belong to the provider that refused, not the order's
        fails = frames.events.loc[frames.events["action"] == EventName.SUBMIT_FAIL.value]
        per_provider = fails.groupby("provider").size()
        named = per_provider.reindex(table.index).fillna(0).astype("int64")
        table["submit_failures"] = named.where(named > 0, table["submit_failures"])
    table.index.name = by
    return table[list(COUNTS)]


def failure_reasons(frames: Frames, limit: int = 10) -> list[tuple[str, str, int]]:
    """(provider, reason, how many) of the submit failures, most first."""
    fails = frames.events.loc[frames.events["action"] == EventName.SUBMIT_FAIL.value]
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
