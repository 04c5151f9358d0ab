"""What each order earned, honestly.

Per order, in its own currency:
- revenue: what the store says the customer paid (`orders.total`: after discounts,
  with shipping and any tax the store put in its total, since podops stores no tax
  line); a cancelled order earns nothing; a partly refunded one earns its remaining
  lines plus shipping (an estimate: the store's refund amount is not stored);
- provider charges: what each provider reported for the fulfillments it took, and
  for remakes the shop pays (`fulfillments.cost`); a fulfillment at a provider that
  reported no charge makes the order's margin unknown, never the full price;
- labels: podops buys no labels yet, so none are subtracted (said in the report);
- fees: the store's and payment processor's percentage plus fixed fee, as configured
  per store (`stores.NAME.fees`): an estimate.

Margin is revenue minus all of these, summed only over orders whose every part is
known; orders in a currency other than the shop's are reported in their own rows.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from podops.reporting.frames import Frames, per_category
from podops.reporting.groups import order_weights
from podops.settings import FeesConfig

UNKNOWN = ("", "not at a provider", "charged in another currency", "provider reported no charge")
"""Why an order's margin is unknown ("": it is known)."""


def order_money(
    frames: Frames, facts: pd.DataFrame, fees: Mapping[str, FeesConfig]
) -> pd.DataFrame:
    """One row per order: currency, revenue, charges, fees, margin (NaN: unknown), why
    unknown, and whether a part is an estimate. What the order's fulfillments add up
    to (charges, whether any is charged, unreported or in another currency) comes
    summed from SQL (`frames.read_frames`). Store, currency and why unknown are
    categories (a million orders' strings cost more than the rest of it)."""
    orders = frames.orders
    status = orders["status"]
    members = frames.members
    line_value = (
        members["value"].groupby(members["order_id"]).sum().reindex(orders.index, fill_value=0.0)
    )
    refunded = facts["refunded"].reindex(orders.index, fill_value=False)
    revenue = orders["total"].fillna(0.0).where(~refunded, line_value + orders["shipping_total"])
    revenue = revenue.where(status != "cancelled", 0.0)

    charges = orders["charges"]
    why = np.zeros(len(orders), dtype=np.int8)  # a position in UNKNOWN, later ones win
    why[(~orders["charged"] & (status != "cancelled")).to_numpy()] = 1
    why[orders["other_currency"].to_numpy()] = 2
    why[orders["no_cost"].to_numpy()] = 3

    percent = per_category(orders["store"], {k: v.percent for k, v in fees.items()})
    fixed = per_category(orders["store"], {k: v.fixed for k, v in fees.items()})
    fee = (revenue * percent.fillna(0.0) / 100 + fixed.fillna(0.0)).where(revenue > 0, 0.0)
    configured = percent.fillna(0.0).gt(0) | fixed.fillna(0.0).gt(0)

    margin = (revenue - charges - fee).where(why == 0, np.nan)
    return pd.DataFrame(
        {
            "store": orders["store"],
            "currency": orders["currency"],
            "revenue": revenue,
            "charges": charges,
            "fees": fee,
            "margin": margin,
            "unknown": pd.Categorical.from_codes(why, categories=UNKNOWN),
            "estimate": configured | refunded,
            "fees_configured": configured,
        }
    )


def money(
    frames: Frames,
    per_order: pd.DataFrame,
    by: str,
    shop_currency: str,
    weights: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per (group, currency), the shop's currency first: orders, revenue, provider
    charges, fees, margin over the orders whose margin is known, how many are not,
    margin per known order, and the basis ("reported", "estimate", "before fees").
    `weights`: the frames' `order_weights`, when already computed."""
    if weights is None:
        weights = order_weights(frames)
    needed = ["revenue", "charges", "fees", "margin", "estimate", "fees_configured"]
    # Grouped by the categories of group and currency (small integers), not by text;
    # an order is in a group once (`order_weights`) and in one currency, so its
    # orders per (group, currency) are counted, not found unique.
    rows = weights.join(per_order[needed], on="order_id")  # not every order's text columns
    rows["currency"] = frames.orders["currency"].reindex(rows["order_id"]).to_numpy()
    w = rows["weight"]
    known = rows["margin"].notna()
    rows = rows.assign(
        revenue=rows["revenue"] * w,
        charges=rows["charges"] * w,
        fees=rows["fees"] * w,
        margin=rows["margin"] * w,
        est=rows["estimate"],
        unfeed=~rows["fees_configured"],
    )
    keys = ["group", "currency"]
    grouped = rows.groupby(keys, sort=True, observed=True)
    # The known and unknown rows taken once each, with only the columns summed.
    with_margin = rows.loc[known, [*keys, "charges", "margin"]].groupby(keys, observed=True)
    without_margin = rows.loc[~known, keys].groupby(keys, observed=True)
    table = pd.DataFrame(
        {
            "orders": grouped.size(),
            "revenue": grouped["revenue"].sum(),
            "provider_charges": with_margin["charges"].sum(),
            "fees": grouped["fees"].sum(),
            "margin": with_margin["margin"].sum(),
            "margin_orders": with_margin.size(),
            "margin_unknown": without_margin.size(),
            "estimate": grouped["est"].any(),
            "before_fees": grouped["unfeed"].any(),
        }
    )
    table[["provider_charges", "margin"]] = table[["provider_charges", "margin"]].fillna(0.0)
    table[["margin_orders", "margin_unknown"]] = (
        table[["margin_orders", "margin_unknown"]].fillna(0).astype("int64")
    )
    table.loc[table["margin_orders"] == 0, "margin"] = np.nan
    table["margin_per_order"] = table["margin"] / table["margin_orders"].where(
        table["margin_orders"] > 0
    )
    basis = pd.Series("reported", index=table.index, dtype="string")
    basis[table["estimate"]] = "estimate"
    basis[table["before_fees"]] = "before store fees"
    basis[table["estimate"] & table["before_fees"]] = "estimate, before store fees"
    table["basis"] = basis
    table = table.drop(columns=["estimate", "before_fees"]).reset_index()
    table = table.astype({"group": "string", "currency": "string"})
    table["shop_currency"] = table["currency"] == shop_currency
    table = table.sort_values(["shop_currency", "group", "currency"], ascending=[False, True, True])
    return table.drop(columns=["shop_currency"]).rename(columns={"group": by})
