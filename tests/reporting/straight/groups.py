"""Which group (store, provider, product, SKU) each order, line and fulfillment is in.

An order belongs to every group one of its lines is in (a mug and a tee: both
products; a split order: both providers); money is shared between its groups by
the value of their lines (`weights`), so a report's groups add up to its total.
"""

from __future__ import annotations

import pandas as pd

from tests.reporting.straight.frames import Frames

NOT_SENT = "(not sent)"
"""The provider group of lines no fulfillment makes (yet): held, cancelled before, or
orders that never went through podops' submission (imported history)."""
NONE = "(none)"


def line_groups(frames: Frames, by: str) -> pd.DataFrame:
    """One row per line: order_id, line_id, group, value (unit price x quantity)."""
    lines = frames.lines[["line_id", "order_id", "sku", "product", "quantity", "unit_price"]]
    value = lines["unit_price"].fillna(0.0) * lines["quantity"].astype("float64").fillna(0.0)
    out = pd.DataFrame({"order_id": lines["order_id"], "line_id": lines["line_id"], "value": value})
    if by == "store":
        stores = frames.orders.set_index("order_id")["store"].astype("string")
        out["group"] = out["order_id"].map(stores)
    elif by in ("product", "sku"):
        out["group"] = lines[by].astype("string").replace("", NONE)
    else:
        makers = frames.part_lines.merge(
            frames.parts.loc[
                frames.parts["kind"] == "order", ["part_id", "provider", "part_status"]
            ],
            on="part_id",
        )
        # The live fulfillment of a line (a cancelled one was replaced by a fallback).
        # As first built the sort was not stable: a line two live fulfillments make went
        # to either. Now the first one (the lowest id) wins, here and in SQL.
        makers = makers.sort_values(
            ["part_status", "part_id"],
            key=lambda s: s == "cancelled" if s.name == "part_status" else s,
            kind="stable",
        )
        makers = makers.drop_duplicates("line_id")
        out["group"] = out["line_id"].map(makers.set_index("line_id")["provider"].astype("string"))
    out["group"] = out["group"].fillna(NOT_SENT if by == "provider" else NONE)
    return out


def order_weights(frames: Frames, by: str) -> pd.DataFrame:
    """(order_id, group, weight): each order's share in each of its groups, by the value
    of its lines there (equal shares when its lines carry no price); orders without
    lines sit whole in their store's group, or `(none)`."""
    lines = line_groups(frames, by)
    per_group = lines.groupby(["order_id", "group"], observed=True, as_index=False).agg(
        value=("value", "sum"), lines=("line_id", "size")
    )
    totals = per_group.groupby("order_id")[["value", "lines"]].transform("sum")
    by_value = per_group["value"] / totals["value"].where(totals["value"] > 0)
    per_group["weight"] = by_value.fillna(per_group["lines"] / totals["lines"])
    without = frames.orders.loc[
        ~frames.orders["order_id"].isin(per_group["order_id"]), ["order_id", "store"]
    ]
    lone = pd.DataFrame(
        {
            "order_id": without["order_id"],
            "group": without["store"].astype("string") if by == "store" else NONE,
            "weight": 1.0,
        }
    )
    result = pd.concat([per_group[["order_id", "group", "weight"]], lone], ignore_index=True)
    result["group"] = result["group"].astype("string")
    return result


def part_groups(frames: Frames, by: str) -> pd.DataFrame:
    """(part_id, group) for the fulfillments: their provider, their order's store, or the
    products/SKUs of the lines they make."""
    parts = frames.parts[["part_id", "order_id", "provider"]]
    if by == "provider":
        return pd.DataFrame(
            {"part_id": parts["part_id"], "group": parts["provider"].astype("string")}
        )
    if by == "store":
        stores = frames.orders.set_index("order_id")["store"].astype("string")
        return pd.DataFrame({"part_id": parts["part_id"], "group": parts["order_id"].map(stores)})
    keys = frames.part_lines.merge(frames.lines[["line_id", by]], on="line_id")
    keys = keys[["part_id", by]].rename(columns={by: "group"})
    keys["group"] = keys["group"].astype("string").replace("", NONE)
    return keys.drop_duplicates()
