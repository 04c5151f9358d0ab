"""The report aggregated in SQL gives the numbers of the straightforward computation
(`tests/reporting/straight`: every line and fulfillment read and joined in pandas),
for every grouping, on a random shop with the awkward cases: split orders, a
cancelled fulfillment replaced by a fallback, remakes paid by the shop or the
provider, refunds, unknown provider statuses, re-rendered lines, lines without a
product or price, orders without lines, charges in another currency or not
reported, imported orders never sent, and times missing or running backwards."""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import insert, select

from podops.db import Database
from podops.models import Event, Fulfillment, FulfillmentLine, LineItem, Order, Store
from podops.reporting.columnar import driver_target
from podops.reporting.frames import read_frames
from podops.reporting.period import local_days
from podops.reporting.report import build_report
from podops.settings import DatabaseConfig, FeesConfig, ProviderConfig, Settings, StoreConfig
from tests.reporting.straight.report import tables

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
STORES = ("main", "etsy", "bare")
PROVIDERS = ("cc", "so", "pf")
PRODUCTS = (("TEE-M", "tee"), ("MUG", "mug"), ("POSTER", ""), ("", "tee"), ("50%-OFF", "kid's"))
"""(SKU, product): the last one's quote and percent sign reach the columnar reader's SQL
as literals."""
ORDER_STATES = ("pending", "submitted", "in_production", "shipped", "completed", "cancelled",
                "returned", "partially_shipped")  # fmt: skip
PART_STATES = ("submitted", "in_production", "shipped", "partially_shipped", "cancelled",
               "submit_failed", "waiting")  # fmt: skip
ACTIONS = ("submit_fail", "provider_status_unknown", "refuse_cancel", "store_refund",
           "store_refunded_after_submission", "flag_design", "edit_personalization",
           "receive", "submit_ok")  # fmt: skip


def _maybe(rng: random.Random, value: Any, chance: float = 0.9) -> Any:
    return value if rng.random() < chance else None


def random_shop(db: Database, orders: int = 400, seed: int = 19) -> None:
    rng = random.Random(seed)
    rows: dict[str, list[dict[str, Any]]] = {k: [] for k in ("o", "l", "f", "fl", "e")}
    line_id = part_id = event_id = 0
    for n in range(1, orders + 1):
        placed = NOW - timedelta(days=rng.uniform(0, 40), seconds=rng.random())
        currency = rng.choice(("USD", "USD", "USD", "EUR"))
        rows["o"].append({
            "id": n, "store_id": rng.randint(1, 3), "number": str(1000 + n),
            "external_id": str(n), "status": rng.choice(ORDER_STATES), "placed_at": placed,
            "submit_at": placed, "currency": currency,
            "total": Decimal(f"{rng.uniform(5, 90):.2f}"),
            "shipping_total": Decimal("4.90"),
            "shipped_at": _maybe(rng, placed + timedelta(days=rng.uniform(-1, 9)), 0.5),
            "customer_name": "c", "shipping_address": {}, "problems": [], "note": "",
            "created_at": placed, "updated_at": placed, "version": 1,
        })  # fmt: skip
        mine = []
        for position in range(1, rng.choice((0, 1, 1, 2, 3)) + 1):
            line_id += 1
            mine.append(line_id)
            sku, product = rng.choice(PRODUCTS)
            rows["l"].append({
                "id": line_id, "order_id": n, "position": position, "sku": sku,
                "product_key": product, "provider": "cc", "quantity": rng.randint(1, 3),
                "unit_price": Decimal(rng.choice(("15.00", "0.00", "7.25"))),
                "personalization": {}, "image_urls": {}, "problems": [],
                "print_file_revision": rng.choice((0, 1, 1, 1, 2)), "photos": {},
                "print_file_current": True,
            })  # fmt: skip
        kinds = ["order"] * rng.choice((0, 1, 1, 1, 2)) + ["remake"] * rng.choice((0, 0, 0, 1))
        for seq, kind in enumerate(kinds, start=1):
            part_id += 1
            submitted = _maybe(rng, placed + timedelta(days=rng.uniform(-0.5, 3)), 0.8)
            cost = _maybe(rng, Decimal(f"{rng.uniform(5, 30):.2f}"), 0.85)
            charged_in = rng.choice((currency, currency, None, "GBP"))
            rows["f"].append({
                "id": part_id, "order_id": n, "seq": seq, "kind": kind,
                "status": rng.choice(PART_STATES), "provider": rng.choice(PROVIDERS),
                "provider_order_id": f"P{part_id}", "submit_attempts": 1,
                "submitted_at": submitted,
                "shipped_at": _maybe(rng, placed + timedelta(days=rng.uniform(0, 12)), 0.6),
                "paid_by": rng.choice((None, "shop", "provider")) if kind == "remake" else None,
                "cost": cost,
                "cost_currency": None if cost is None else charged_in,
                "created_at": placed, "updated_at": placed, "version": 1,
            })  # fmt: skip
            made = (
                mine
                if kind == "remake" or len(kinds) == 1
                else rng.sample(mine, k=min(len(mine), len(mine) // 2 + (seq % 2)))
            )
            for lid in made:
                rows["fl"].append({"fulfillment_id": part_id, "line_item_id": lid, "quantity": 1})
        for _ in range(rng.choice((0, 0, 1, 3))):
            event_id += 1
            rows["e"].append({
                "id": event_id, "order_id": n, "at": placed, "actor": "t", "channel": "system",
                "action": rng.choice(ACTIONS),
                "detail": rng.choice(({}, {"provider": rng.choice(PROVIDERS), "reason": "bad sku",
                                           "retryable": rng.random() < 0.5})),
            })  # fmt: skip
    with db.engine.begin() as connection:
        connection.execute(
            insert(Store),
            [
                {"id": i, "key": key, "platform": "csv", "created_at": NOW}
                for i, key in enumerate(STORES, start=1)
            ],
        )
        for name, model in (("o", Order), ("l", LineItem), ("f", Fulfillment),
                            ("fl", FulfillmentLine), ("e", Event)):  # fmt: skip
            connection.execute(insert(model), rows[name])


def shop_settings(url: str) -> Settings:
    fees = FeesConfig(percent=2.9, fixed=0.30)
    return Settings(
        database=DatabaseConfig(url=url),
        stores={
            "main": StoreConfig(platform="csv", fees=fees),
            "etsy": StoreConfig(platform="csv", fees=FeesConfig(percent=6.5, fixed=0.2)),
            "bare": StoreConfig(platform="csv"),
        },
        providers={
            "cc": ProviderConfig(kind="customcat", promised_days=5),
            "so": ProviderConfig(kind="shineon", promised_days=3),
            "pf": ProviderConfig(kind="printful"),
        },
    )


def assert_same_table(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got.columns) == list(want.columns)
    assert list(got.index) == list(want.index)
    for column in want.columns:
        for mine, theirs in zip(got[column].tolist(), want[column].tolist(), strict=True):
            if isinstance(theirs, float) and math.isnan(theirs):
                assert isinstance(mine, float) and math.isnan(mine), column
            elif isinstance(theirs, float):
                assert mine == pytest.approx(theirs, rel=1e-9, abs=1e-9), column
            else:
                assert mine == theirs, column


@pytest.mark.parametrize("by", ["provider", "store", "product", "sku"])
def test_the_aggregated_report_has_the_straightforward_numbers(db: Database, by: str) -> None:
    random_shop(db)
    settings = shop_settings(str(db.url))
    period = local_days(date(2026, 10, 25), date(2026, 11, 30), UTC)
    want = tables(db, settings, period, by)
    got = build_report(db, settings, period, by, NOW)
    assert got.orders == want["orders"] > 300
    assert_same_table(got.turnaround, want["turnaround"])
    assert_same_table(got.quality, want["quality"])
    assert_same_table(got.money.reset_index(drop=True), want["money"].reset_index(drop=True))
    assert [(n.reference, n.missing) for n in got.not_timed] == want["not_timed"]
    assert got.failure_reasons == want["failure_reasons"]
    counted = {
        store: {day: n for day, n in counts.items() if n}
        for store, counts in got.per_day.to_dict().items()
    }
    assert counted == {
        store: {day: n for day, n in counts.items() if n}
        for store, counts in want["per_day"].to_dict().items()
    }


@pytest.mark.parametrize("by", ["provider", "store", "product", "sku"])
def test_the_columnar_and_the_row_readers_read_the_same_frames(db: Database, by: str) -> None:
    """The report reads through ADBC when a driver opens the database, and through the
    SQLAlchemy connection otherwise (SQLite in memory): the same frames either way,
    to the microsecond (SQLite's julianday() kept milliseconds, rounded differently by
    the driver's own SQLite)."""
    random_shop(db)
    assert driver_target(db.url) is not None
    period = local_days(date(2026, 10, 25), date(2026, 11, 30), UTC)
    with db.reading() as session:
        columnar = read_frames(session.connection(), period.start, period.end, by)
        rows = read_frames(session.connection(), period.start, period.end, by, columnar=False)
    for name in ("orders", "parts", "members", "part_groups", "events", "fails"):
        pd.testing.assert_frame_equal(
            getattr(columnar, name), getattr(rows, name), check_exact=True, obj=name
        )
    assert columnar.untimed == rows.untimed
    assert len(columnar.orders) > 300


def test_a_fulfillment_of_another_order_does_not_make_a_line_of_this_one(db: Database) -> None:
    """podops writes no such fulfillment; if one were there, the report counts the
    line as the reference computation does (it reads the period's fulfillments)."""
    random_shop(db)
    settings = shop_settings(str(db.url))
    period = local_days(date(2026, 10, 25), date(2026, 11, 30), UTC)
    with db.engine.begin() as connection:
        made = {row[0] for row in connection.execute(select(FulfillmentLine.line_item_id))}
        line = next(
            row
            for row in connection.execute(
                select(LineItem.id, LineItem.order_id)
                .join(Order, Order.id == LineItem.order_id)
                .where(Order.placed_at >= period.start)
            )
            if row[0] not in made
        )
        old = NOW - timedelta(days=90)
        connection.execute(insert(Order), [{
            "id": 9000, "store_id": 1, "number": "9000", "external_id": "9000",
            "status": "shipped", "placed_at": old, "submit_at": old, "currency": "USD",
            "total": Decimal("10.00"), "shipping_total": Decimal("0"), "customer_name": "c",
            "shipping_address": {}, "problems": [], "note": "", "created_at": old,
            "updated_at": old, "version": 1,
        }])  # fmt: skip
        connection.execute(insert(Fulfillment), [{
            "id": 9000, "order_id": 9000, "seq": 1, "kind": "order", "status": "shipped",
            "provider": "so", "provider_order_id": "P9000", "submit_attempts": 1,
            "created_at": old, "updated_at": old, "version": 1,
        }])  # fmt: skip
        connection.execute(
            insert(FulfillmentLine),
            [{"fulfillment_id": 9000, "line_item_id": line[0], "quantity": 1}],
        )
    want = tables(db, settings, period, "provider")
    got = build_report(db, settings, period, "provider", NOW)
    assert_same_table(got.money.reset_index(drop=True), want["money"].reset_index(drop=True))
    assert_same_table(got.quality, want["quality"])
