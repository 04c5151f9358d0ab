"""Which groups (store, provider, product, SKU) each order is in, and its share in each.

An order belongs to every group one of its lines is in (a mug and a tee: both
products; a split order: both providers); money is shared between its groups by
the value of their lines (`order_weights`), so a report's groups add up to its
total. Each line's group is found in SQL (`frames.read_frames`); this module
only weighs.
"""

from __future__ import annotations

import pandas as pd

from podops.reporting.frames import NONE, NOT_SENT, Frames, as_text

__all__ = ["NONE", "NOT_SENT", "order_weights"]


def order_weights(frames: Frames) -> pd.DataFrame:
    """(order_id, group, weight): each order's share in each of its groups, by the value
    of its lines there (equal shares when its lines carry no price); orders without
    lines sit whole in their store's group, or `(none)`. One row per (order, group)."""
    per_group = frames.members
    totals = per_group.groupby("order_id")[["value", "lines"]].transform("sum")
    by_value = per_group["value"] / totals["value"].where(totals["value"] > 0)
    weight = by_value.fillna(per_group["lines"] / totals["lines"])
    without = frames.orders.loc[~frames.orders.index.isin(per_group["order_id"]), "store"]
    lone = pd.DataFrame(
        {
            "order_id": without.index.to_numpy(),
            "group": without.astype("string").to_numpy() if frames.by == "store" else NONE,
            "weight": 1.0,
        }
    )
    result = pd.concat(
        [
            pd.DataFrame(
                {
                    "order_id": per_group["order_id"],
                    "group": as_text(per_group["group"]),
                    "weight": weight,
                }
            ),
            lone,
        ],
        ignore_index=True,
    )
    result["group"] = result["group"].astype("string")
    return result
