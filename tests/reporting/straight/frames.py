"""The straightforward reading: every row of the period's orders, lines, fulfillments
and fulfillment lines, as first built (kept to check the aggregated reading).

Only the columns a report needs, read raw (no ORM objects, no per-value conversion
in Python: SQLite hands times as text, PostgreSQL as datetimes, and pandas converts
a whole column at once), in chunks (`CHUNK_ROWS`) so a year of orders never holds
every row twice, and typed: strings that repeat (store, provider, status, SKU) as
categories, times as UTC datetimes, money as floats rounded to the cent only when
shown (a report sums, it never stores).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from pandas.api.types import union_categoricals
from sqlalchemy import (
    ColumnElement,
    Connection,
    Float,
    Select,
    and_,
    cast,
    select,
    type_coerce,
)
from sqlalchemy.types import NullType

from podops.events import EventName
from podops.models import Event, Fulfillment, FulfillmentLine, LineItem, Order, Store

CHUNK_ROWS = 50_000

DESIGN_FIX_EVENTS: tuple[EventName, ...] = (
    EventName.FLAG_DESIGN,
    EventName.RENDER_REFUSED,
    EventName.EDIT_PERSONALIZATION,
    EventName.PHOTO_CROP,
    EventName.PHOTO_LOW_DPI,
    EventName.DESIGN_REPLACED,
)
"""An order that had one of these needed staff on its design."""
QUALITY_EVENTS: tuple[EventName, ...] = (
    EventName.SUBMIT_FAIL,
    EventName.PROVIDER_STATUS_UNKNOWN,
    EventName.REFUSE_CANCEL,
    EventName.STORE_REFUND,
    EventName.STORE_REFUNDED_AFTER_SUBMISSION,
    *DESIGN_FIX_EVENTS,
)
"""The events a report reads (rare ones: receive, submit and ship events are not read)."""


def raw(column: Any, name: str) -> ColumnElement[Any]:
    """The column as the driver hands it (no SQLAlchemy result processing)."""
    return type_coerce(column, NullType()).label(name)


def epoch(column: Any, name: str, dialect: str) -> ColumnElement[Any]:
    """A time as SQLAlchemy reads it: an aware UTC datetime, to the microsecond (the
    report's own reader computes seconds since 1970 in SQL; this one does not)."""
    return column.label(name)


def number(column: Any, name: str) -> ColumnElement[Any]:
    """Money as a float (a report sums; it never stores), not a Decimal per row."""
    return type_coerce(cast(column, Float), NullType()).label(name)


@dataclass(frozen=True, slots=True)
class Frames:
    orders: pd.DataFrame
    """One row per order placed in the period (id as index)."""
    parts: pd.DataFrame
    """One row per fulfillment of those orders (order kind and remakes)."""
    lines: pd.DataFrame
    """One row per order line (sku, product, quantity, value, print-file revision)."""
    part_lines: pd.DataFrame
    """Which fulfillment makes which line (fulfillment id, line id)."""
    events: pd.DataFrame
    """The quality events of those orders (order id, action, provider, reason)."""

    @property
    def empty(self) -> bool:
        return self.orders.empty


def _chunks(connection: Connection, query: Select[Any]) -> Iterator[pd.DataFrame]:
    """All the query's rows at once, through SQLAlchemy's own result."""
    result = connection.execute(query)
    columns = list(result.keys())
    rows = [tuple(row) for row in result]
    if rows:
        yield pd.DataFrame.from_records(rows, columns=columns, coerce_float=False)


def _read(
    connection: Connection,
    query: Select[Any],
    *,
    times: tuple[str, ...] = (),
    categories: tuple[str, ...] = (),
    money: tuple[str, ...] = (),
    ints: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Read `query` chunk by chunk, typing each chunk before the next is read."""
    typed = []
    for chunk in _chunks(connection, query):
        for name in times:
            chunk[name] = _utc(chunk[name])
        for name in money:
            chunk[name] = pd.to_numeric(chunk[name], errors="coerce").astype("float64")
        for name in ints:
            chunk[name] = pd.to_numeric(chunk[name], errors="coerce").astype("Int64")
        for name in categories:  # straight from the driver's objects: no string pass
            chunk[name] = chunk[name].astype("category")
        typed.append(chunk)
    if not typed:
        frame = pd.DataFrame(columns=[c.key for c in query.selected_columns])
        for name in times:
            frame[name] = pd.Series(dtype="datetime64[us, UTC]")
        for name in money:
            frame[name] = pd.Series(dtype="float64")
        for name in ints:
            frame[name] = pd.Series(dtype="Int64")
        for name in categories:
            frame[name] = pd.Series(dtype="string")
        return frame
    if len(typed) == 1:
        return typed[0]
    # Chunks saw different values: their categories are united, not turned back to text.
    united = {
        name: union_categoricals([chunk[name] for chunk in typed], ignore_order=True)
        for name in categories
    }
    frame = pd.concat([chunk.drop(columns=list(categories)) for chunk in typed], ignore_index=True)
    for name in categories:
        frame[name] = pd.Categorical(united[name])
    return frame[[c.key for c in query.selected_columns]]


def _utc(values: pd.Series) -> pd.Series:
    """Aware datetimes (None when unknown) -> a UTC datetime column, to the microsecond."""
    return pd.Series(pd.to_datetime(values, utc=True), index=values.index).astype(
        "datetime64[us, UTC]"
    )


def read_frames(connection: Connection, start: datetime, end: datetime) -> Frames:
    """Everything a report of the orders placed in [start, end) reads."""
    dialect = connection.dialect.name
    in_period = and_(Order.placed_at >= start, Order.placed_at < end)
    orders = _read(
        connection,
        select(
            raw(Order.id, "order_id"),
            raw(Store.key, "store"),
            raw(Order.number, "number"),
            raw(Order.status, "status"),
            epoch(Order.placed_at, "placed_at", dialect),
            epoch(Order.shipped_at, "order_shipped_at", dialect),
            raw(Order.currency, "currency"),
            number(Order.total, "total"),
            number(Order.shipping_total, "shipping_total"),
        )
        .join(Store, Store.id == Order.store_id)
        .where(in_period),
        times=("placed_at", "order_shipped_at"),
        categories=("store", "status", "currency"),
        money=("total", "shipping_total"),
        ints=("order_id",),
    )
    parts = _read(
        connection,
        select(
            raw(Fulfillment.id, "part_id"),
            raw(Fulfillment.order_id, "order_id"),
            raw(Fulfillment.kind, "kind"),
            raw(Fulfillment.provider, "provider"),
            raw(Fulfillment.status, "part_status"),
            epoch(Fulfillment.submitted_at, "submitted_at", dialect),
            epoch(Fulfillment.shipped_at, "shipped_at", dialect),
            raw(Fulfillment.paid_by, "paid_by"),
            number(Fulfillment.cost, "cost"),
            raw(Fulfillment.cost_currency, "cost_currency"),
        )
        .join(Order, Order.id == Fulfillment.order_id)
        .where(in_period),
        times=("submitted_at", "shipped_at"),
        categories=("kind", "provider", "part_status", "paid_by", "cost_currency"),
        money=("cost",),
        ints=("part_id", "order_id"),
    )
    lines = _read(
        connection,
        select(
            raw(LineItem.id, "line_id"),
            raw(LineItem.order_id, "order_id"),
            raw(LineItem.sku, "sku"),
            raw(LineItem.product_key, "product"),
            raw(LineItem.quantity, "quantity"),
            number(LineItem.unit_price, "unit_price"),
            raw(LineItem.print_file_revision, "revision"),
        )
        .join(Order, Order.id == LineItem.order_id)
        .where(in_period),
        categories=("sku", "product"),
        money=("unit_price",),
        ints=("line_id", "order_id", "quantity", "revision"),
    )
    part_lines = _read(
        connection,
        select(
            raw(FulfillmentLine.fulfillment_id, "part_id"),
            raw(FulfillmentLine.line_item_id, "line_id"),
        )
        .join(Fulfillment, Fulfillment.id == FulfillmentLine.fulfillment_id)
        .join(Order, Order.id == Fulfillment.order_id)
        .where(in_period),
        ints=("part_id", "line_id"),
    )
    return Frames(orders, parts, lines, part_lines, _events(connection, in_period))


def _events(connection: Connection, in_period: ColumnElement[bool]) -> pd.DataFrame:
    """The quality events, with the provider and reason from their detail (few rows, so
    their JSON is read by SQLAlchemy)."""
    query = (
        select(Event.order_id, Event.action, Event.channel, Event.detail)
        .join(Order, Order.id == Event.order_id)
        .where(in_period, Event.action.in_([e.value for e in QUALITY_EVENTS]))
    )
    rows = [
        (
            order_id,
            action,
            channel,
            str((detail or {}).get("provider") or ""),
            str((detail or {}).get("reason") or ""),
            bool((detail or {}).get("retryable")),
        )
        for order_id, action, channel, detail in connection.execute(query)
    ]
    frame = pd.DataFrame.from_records(
        rows, columns=["order_id", "action", "channel", "provider", "reason", "retryable"]
    )
    frame["order_id"] = frame["order_id"].astype("Int64")
    return frame
