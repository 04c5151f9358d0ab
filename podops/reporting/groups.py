"""Which groups (store, provider, product, SKU) each order is in, and its share in each.

An order belongs to every group one of its lines is in (a mug and a tee: both
products; a split order: both providers); money is shared between its groups by
the value of their lines (`order_weights`), so a report's groups add up to its
total. Each line's group is found in SQL (`frames.read_frames`); this module
only weighs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from podops.reporting.frames import NONE, NOT_SENT, Frames

__all__ = ["NONE", "NOT_SENT", "order_weights"]


def order_weights(frames: Frames) -> pd.DataFrame:
    """(order_id, group, weight): each order's share in each of its groups, by the value
    of its lines there (equal shares when its lines carry no price); orders without
    lines sit whole in their store's group, or `(none)`. One row per (order, group).
    The group is a category (its categories sorted): a million orders' groups are
    compared and grouped as small integers, not as strings."""
    per_group = frames.members
    totals = per_group.groupby("order_id")[["value", "lines"]].transform("sum")
    by_value = per_group["value"] / totals["value"].where(totals["value"] > 0)
    weight = by_value.fillna(per_group["lines"] / totals["lines"])
    without = frames.orders.loc[~frames.orders.index.isin(per_group["order_id"]), "store"]
    lone = without.astype(object) if frames.by == "store" else pd.Series(NONE, index=without.index)
    member_groups = per_group["group"].cat
    categories = sorted({str(c) for c in member_groups.categories} | set(lone.dropna()))
    at = pd.Index(categories)
    member_codes = np.append(at.get_indexer(member_groups.categories.astype(str)), -1)
    codes = np.concatenate(
        [
            member_codes[member_groups.codes.to_numpy()],
            at.get_indexer(lone.to_numpy()),
        ]
    ).astype(np.int32)
    return pd.DataFrame(
        {
            "order_id": np.concatenate([per_group["order_id"].to_numpy(), lone.index.to_numpy()]),
            "group": pd.Categorical.from_codes(
                codes, categories=pd.Index(categories, dtype=object)
            ),
            "weight": np.concatenate([weight.to_numpy(), np.ones(len(lone))]),
        }
    )
