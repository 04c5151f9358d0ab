"""The report's data as pandas frames, aggregated per order in SQL first.

A year of a busy shop is a million orders with half again as many lines and
fulfillment lines; handing every one of those rows to Python cost more than all
the pandas work. So the database does what it can per order (sums, counts and
flags over an order's fulfillments, each line's group and the value of the
order's lines in each group) and pandas gets one row per order, one per
fulfillment of an order's own lines (their times are what medians need) and one
per (order, group). Only numbers and short repeated strings cross: times as
seconds since 1970 (floats; NaN when unknown), money as floats (a report sums, it
never stores), flags as small integers; stores arrive as their ids. Rows are read
`CHUNK_ROWS` at a time and each chunk is turned into typed numpy columns
(categories for repeated strings) before the next is read. On PostgreSQL the rows
stream through the driver's own server-side cursor.

The lists of references (fulfillments that cannot be timed) are selected in SQL
too: they are few, and carrying every order's number to find them is not.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from itertools import count
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Connection,
    Float,
    Integer,
    Select,
    Text,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.types import NullType

from podops.events import EventName
from podops.fulfillment_status import FulfillmentStatus
from podops.models import Event, Fulfillment, FulfillmentLine, LineItem, Order, Store
from podops.reporting.columnar import ColumnReader, column_readers, give_back_freed_memory
from podops.status import OrderStatus

CHUNK_ROWS = 50_000

T = TypeVar("T")

DESIGN_FIX_EVENTS: tuple[EventName, ...] = (
    EventName.FLAG_DESIGN,
    EventName.RENDER_REFUSED,
    EventName.EDIT_PERSONALIZATION,
    EventName.PHOTO_CROP,
    EventName.PHOTO_LOW_DPI,
    EventName.DESIGN_REPLACED,
)
"""An order that had one of these needed staff on its design."""
REFUND_EVENTS: tuple[EventName, ...] = (
    EventName.STORE_REFUND,
    EventName.STORE_REFUNDED_AFTER_SUBMISSION,
)
QUALITY_EVENTS: tuple[EventName, ...] = (
    EventName.SUBMIT_FAIL,
    EventName.PROVIDER_STATUS_UNKNOWN,
    EventName.REFUSE_CANCEL,
    *REFUND_EVENTS,
    *DESIGN_FIX_EVENTS,
)
"""The events a report reads (rare ones: receive, submit and ship events are not read)."""

NOT_SENT = "(not sent)"
"""The provider group of lines no fulfillment makes (yet): held, cancelled before, or
orders that never went through podops' submission (imported history)."""
NONE = "(none)"

AT_PROVIDER = ("submitted", "in_production", "cancel_requested", "partially_shipped", "shipped")
SHIPPED_PARTS = ("partially_shipped", "shipped")
SHIPPED_ORDERS = ("partially_shipped", "shipped", "completed", "returned")
NOT_TIMED_LABELS = ("submitted time", "shipped time", "never sent by podops", "times out of order")


def epoch(column: Any, dialect: str) -> ColumnElement[Any]:
    """A time as seconds since 1970, to the microsecond as stored, computed in SQL (the
    DB-API reader's way: a float the driver hands as it is). The columnar reader
    reads the time itself (`moment`) and computes the same float."""
    if dialect == "sqlite":
        # Stored as naive UTC text, "YYYY-MM-DD HH:MM:SS.ffffff". julianday() keeps
        # only milliseconds, and SQLite versions round them differently: whole
        # seconds and microseconds as integers, then one division.
        whole = cast(func.strftime("%s", func.substr(column, 1, 19)), Integer)
        digits = func.substr(func.substr(column, 21).op("||")(literal_column("'000000'")), 1, 6)
        micros = whole * 1_000_000 + cast(digits, Integer)
        return type_coerce(micros / literal_column("1000000.0"), NullType())
    return type_coerce(cast(func.extract("epoch", column), Float), NullType())


def moment(column: Any, source: Source) -> ColumnElement[Any]:
    """A time column as the reader wants it (its type in `Types`: "time"): the stored
    value for the columnar reader (SQLite's text, '' for none; PostgreSQL's
    timestamp), seconds since 1970 computed in SQL for the DB-API one."""
    dialect = source.connection.dialect.name
    if source.columns is None:
        return epoch(column, dialect)
    if dialect == "sqlite":
        return type_coerce(func.coalesce(column, ""), NullType())
    return raw(column)


def number(column: Any) -> ColumnElement[Any]:
    """Money as a float (a report sums; it never stores), not a Decimal per row."""
    return type_coerce(cast(column, Float), NullType())


def flag(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    """1 where the condition holds, else 0 (NULL counts as not holding)."""
    return case((condition, 1), else_=0)


def raw(column: Any) -> ColumnElement[Any]:
    """The column as the driver hands it (no SQLAlchemy result processing)."""
    return type_coerce(column, NullType())


def as_text(values: pd.Series) -> pd.Series:
    """What `values.astype("string")` gives, taken from a category column's few
    categories instead of converted value by value (a million orders' stores)."""
    if not isinstance(values.dtype, pd.CategoricalDtype):
        return values.astype("string")
    categories = pd.array(list(values.cat.categories), dtype="string")
    taken = categories.take(values.cat.codes.to_numpy(), allow_fill=True)
    return pd.Series(taken, index=values.index, name=values.name)


def per_category(values: pd.Series, mapping: Mapping[str, float | None]) -> pd.Series:
    """`values.map(mapping)` as floats for a category column (NaN where not mapped),
    looked up once per category."""
    table = [mapping.get(str(c)) for c in values.cat.categories]
    found = np.array([np.nan if v is None else float(v) for v in table] + [np.nan])
    return pd.Series(found[values.cat.codes.to_numpy()], index=values.index)


@dataclass(frozen=True, slots=True)
class Frames:
    by: str
    orders: pd.DataFrame
    """One row per order placed in the period, indexed by order id: store, status,
    currency (categories), placed_at and shipped_at (epoch seconds), total,
    shipping_total, and over its fulfillments: sent (one was submitted), remakes (not
    cancelled), charges (sum of the reported costs the shop pays), charged (any
    fulfillment the shop pays for), no_cost (one of those reported no charge),
    other_currency (one was charged in another currency than the order)."""
    parts: pd.DataFrame
    """One row per fulfillment of an order's own lines (not remakes): part_id,
    order_id, provider, part_status, submitted_at, shipped_at (epoch seconds)."""
    members: pd.DataFrame
    """One row per (order, group its lines are in): order_id, group, value (unit price
    x quantity), lines, rerendered (a line rendered more than once)."""
    part_groups: pd.DataFrame
    """(part_id, group) for the product and SKU groupings: the groups of the lines each
    fulfillment makes (empty for the others)."""
    events: pd.DataFrame
    """Per order with quality events, indexed by order id: status_unknown (count),
    design (a design fix), refunded."""
    fails: pd.DataFrame
    """One row per submit failure: order_id, provider, reason, retryable."""
    untimed: list[tuple[str, str]]
    """(reference, what is missing) of the fulfillments (or orders) not timed."""

    @property
    def empty(self) -> bool:
        return self.orders.empty


_cursor_names = count(1)


def _chunks(connection: Connection, query: Select[Any]) -> Iterator[Sequence[Any]]:
    """The query's rows, CHUNK_ROWS at a time, as the driver's plain tuples.

    SQLite's cursor reads as it goes. On PostgreSQL a named psycopg cursor keeps the
    rows on the server and sends a chunk per fetch (SQLAlchemy's stream_results
    buffers rows through its own Result, which cost more than the query)."""
    if connection.dialect.name == "postgresql":
        compiled = query.compile(
            dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
        )
        driver = connection.connection.driver_connection
        with driver.cursor(name=f"podops_report_{next(_cursor_names)}") as cursor:  # type: ignore[union-attr]
            cursor.itersize = CHUNK_ROWS
            cursor.execute(str(compiled), compiled.params)
            while rows := cursor.fetchmany(CHUNK_ROWS):
                yield rows
        return
    result = connection.execute(query)
    cursor = result.cursor
    try:
        while rows := cursor.fetchmany(CHUNK_ROWS):
            yield rows
    finally:
        result.close()


def coded(column: Any, labels: Sequence[str]) -> ColumnElement[Any]:
    """A repeated string as its position in `labels` (NULL when not there): a small
    integer crosses from the database far cheaper than a string object per row."""
    if not labels:
        return type_coerce(literal(None), NullType())
    return type_coerce(case({label: i for i, label in enumerate(labels)}, value=column), NullType())


def label(column: Any, labels: Sequence[str], source: Source) -> ColumnElement[Any]:
    """A repeated string column as the reader wants it (its type in `Types`: the
    labels): `coded` in SQL for the DB-API reader; the string itself for the columnar
    one, which finds its position in C (on SQLite a NULL reads as a string that is no
    label, so the driver never types the column by NULLs)."""
    if source.columns is None:
        return coded(column, labels)
    if source.connection.dialect.name == "sqlite":
        missing = "(null)"
        while missing in labels:
            missing += "_"
        return type_coerce(func.coalesce(column, missing), NullType())
    return raw(column)


Types = dict[str, "str | Sequence[str]"]
"""Each selected column's type: a numpy dtype ("float64", "int64", "int32", "bool"),
"time" (`moment`: seconds since 1970 as float64, NaN when unknown),
the labels of a column `coded` in SQL (a category), or "text": a string column that
is never NULL (`raw`), as a category of the values the read finds (sorted), so that
no distinct values are read from a whole table beforehand."""


@dataclass(frozen=True, slots=True)
class Source:
    """Where the frames are read: the SQLAlchemy connection (small reads, and the
    large ones when no columnar driver opens the database) and the columnar reader."""

    connection: Connection
    columns: ColumnReader | None


def _read(source: Source, query: Select[Any], types: Types) -> pd.DataFrame:
    """Read `query` (numbers only) as float columns (NULL becomes NaN), then type them
    column by column: through the columnar reader, or else chunk by chunk through
    the DB-API cursor, each chunk into one float array."""
    names = [c.key for c in query.selected_columns]
    assert list(types) == names, (list(types), names)
    texts = [name for name, kind in types.items() if kind == "text"]
    if source.columns is not None:
        floats = [name for name, kind in types.items() if kind == "float64"]
        times = [name for name, kind in types.items() if kind == "time"]
        labels = {name: kind for name, kind in types.items() if not isinstance(kind, str)}
        columns, found = source.columns.read(query, floats, times, labels, texts)
        types = {**types, **found}
    else:
        query, types = _texts_coded(source.connection, query, types, texts)
        chunks = [np.array(rows, dtype=np.float64) for rows in _chunks(source.connection, query)]
        values = np.concatenate(chunks) if chunks else np.empty((0, len(names)))
        columns = [values[:, index] for index in range(len(names))]
    data: dict[str, Any] = {}
    for column, (name, kind) in zip(columns, types.items(), strict=True):
        if not isinstance(kind, str):
            if column.dtype.kind == "f":
                codes = np.where(np.isnan(column), -1, column).astype(np.int32)
            else:
                codes = column.astype(np.int32, copy=False)
            data[name] = pd.Categorical.from_codes(
                codes, categories=pd.Index(list(kind), dtype=object)
            )
        elif kind == "bool":
            data[name] = column > 0
        elif kind in ("float64", "time"):
            data[name] = column
        else:
            data[name] = column.astype(kind, copy=False)
    return pd.DataFrame(data, columns=names, copy=False)


def _texts_coded(
    connection: Connection, query: Select[Any], types: Types, texts: Sequence[str]
) -> tuple[Select[Any], Types]:
    """For the DB-API reader: the `texts` columns' values found by the query (sorted),
    and the query with those columns `coded` by them, as the columnar reader finds
    and codes them."""
    if not texts:
        return query, types
    inner = query.subquery()
    found = {name: _distinct(connection, inner.c[name]) for name in texts}
    coded_query = select(
        *[
            coded(column, found[column.key]).label(column.key) if column.key in found else column
            for column in inner.c
        ]
    )
    return coded_query, {**types, **found}


def _distinct(connection: Connection, column: Any) -> list[str]:
    """The values a column holds (for `coded`), in a stable order."""
    return sorted(
        str(v) for v in connection.execute(select(column).distinct()).scalars() if v is not None
    )


READERS = 3
"""Columnar connections a report reads on at once: the orders and events on the
first, the fulfillments on the second, the lines (the largest read) on the third."""


def read_frames(
    connection: Connection, start: datetime, end: datetime, by: str, *, columnar: bool = True
) -> Frames:
    """Everything a report of the orders placed in [start, end), grouped `by`, reads.

    The large reads go through columnar driver connections of their own when one
    opens the database (`columnar`: unless told not to), the rest through
    `connection`. With `READERS` such connections reading the same snapshot, the
    reads run at once, each on its own (the database and the driver work on all of
    them together); with one, one after the other."""
    url = connection.engine.url
    with column_readers(url if columnar else None, connection.dialect, READERS) as readers:
        sources = [Source(connection, reader) for reader in readers] or [Source(connection, None)]
        frames = _read_frames(sources, start, end, by)
    if len(sources) > 1:
        give_back_freed_memory()
    return frames


def _read_frames(sources: list[Source], start: datetime, end: datetime, by: str) -> Frames:
    main = sources[0]
    parts_from, lines_from = sources[1 % len(sources)], sources[2 % len(sources)]
    connection = main.connection
    dialect = connection.dialect.name
    in_period = and_(Order.placed_at >= start, Order.placed_at < end)
    labels = _group_labels(connection, by)
    with ThreadPoolExecutor(max_workers=len(sources) - 1 or 1) as pool:
        group_reads = _aside(
            pool, lines_from, main, lambda: _group_reads(lines_from, in_period, by, labels)
        )
        every_part_read = _aside(
            pool, parts_from, main, lambda: _parts(parts_from, in_period, dialect)
        )
        orders = _orders(main, in_period, dialect)
        events, fails = _events(main, in_period)
        every_part = every_part_read()
        orders, parts = _with_parts(orders, every_part)
        # While the lines are still read: the few references not timed.
        untimed = _untimed(connection, orders, parts)
        lines, part_groups = group_reads()
    members = _provider_members(lines, every_part) if by == "provider" else lines
    del lines  # by provider, a row per line: not kept beside the members
    return Frames(
        by=by,
        orders=orders,
        parts=parts,
        members=members,
        part_groups=part_groups,
        events=events,
        fails=fails,
        untimed=untimed,
    )


def _with_parts(
    orders: pd.DataFrame, every_part: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The orders with what their fulfillments add up to (`_per_order`), and the
    fulfillments of their own lines (not remakes)."""
    orders = orders.join(_per_order(every_part)).fillna(
        {
            "sent": False,
            "remakes": 0,
            "charges": 0.0,
            "charged": False,
            "no_cost": False,
            "other_currency": False,
        }
    )
    orders = orders.astype(
        {"sent": bool, "remakes": "int32", "charged": bool, "no_cost": bool, "other_currency": bool}
    )
    parts = every_part.loc[every_part["kind"] == "order", list(PART_COLUMNS)]
    return orders, parts.reset_index(drop=True)


def _aside(
    pool: ThreadPoolExecutor, source: Source, main: Source, job: Callable[[], T]
) -> Callable[[], T]:
    """`job`'s result when asked: computed in a thread of the pool from now on when it
    reads on a reader of its own (`source`, not `main`'s), else when asked."""
    if source is main:
        return job
    return pool.submit(job).result


def _group_reads(
    source: Source, in_period: ColumnElement[bool], by: str, labels: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What is read line by line for the grouping (through `source.columns` alone when
    there is one, so it can run beside the other reads): by provider, every (line,
    fulfillment) pair (the lines' groups are found once the fulfillments are read:
    `_provider_members`); else the members and the part groups."""
    if by == "provider":
        return _line_pairs(source, in_period), _part_groups(source, in_period, by, labels)
    return _members(source, in_period, by, labels), _part_groups(source, in_period, by, labels)


PART_COLUMNS = ("part_id", "order_id", "provider", "part_status", "submitted_at", "shipped_at")


def _orders(source: Source, in_period: ColumnElement[bool], dialect: str) -> pd.DataFrame:
    """One row per order (its store from its id, with the stores' keys read apart)."""
    connection = source.connection
    order_states = [s.value for s in OrderStatus]
    frame = _read(
        source,
        select(
            raw(Order.id).label("order_id"),
            raw(Order.store_id).label("store_id"),
            label(Order.status, order_states, source).label("status"),
            moment(Order.placed_at, source).label("placed_at"),
            moment(Order.shipped_at, source).label("shipped_at"),
            raw(Order.currency).label("currency"),
            number(Order.total).label("total"),
            number(Order.shipping_total).label("shipping_total"),
        ).where(in_period),
        {
            "order_id": "int64",
            "store_id": "int64",
            "status": order_states,
            "placed_at": "time",
            "shipped_at": "time",
            "currency": "text",
            "total": "float64",
            "shipping_total": "float64",
        },
    )
    stores = {row[0]: row[1] for row in connection.execute(select(Store.id, Store.key))}
    store_ids = frame.pop("store_id")
    frame.insert(
        0,
        "store",
        pd.Categorical.from_codes(
            pd.Index(sorted(stores)).get_indexer(store_ids).astype(np.int32),
            categories=pd.Index([stores[i] for i in sorted(stores)], dtype=object),
        ),
    )
    return frame.set_index("order_id")


def _parts(source: Source, in_period: ColumnElement[bool], dialect: str) -> pd.DataFrame:
    """Every fulfillment of the period's orders (remakes too), with what money needs:
    its reported cost, whether that is in another currency than the order's, and
    whether the shop pays for it."""
    part = Fulfillment
    shop_pays = or_(
        and_(
            part.kind == "order",
            or_(part.submitted_at.is_not(None), part.status.in_(AT_PROVIDER)),
        ),
        and_(
            part.kind == "remake",
            func.coalesce(part.paid_by, "shop") == "shop",
            part.status != "cancelled",
        ),
    )
    other_currency = and_(
        part.cost.is_not(None),
        func.coalesce(part.cost_currency, Order.currency) != Order.currency,
    )
    kinds = ["order", "remake"]
    states = [s.value for s in FulfillmentStatus]
    return _read(
        source,
        select(
            raw(part.id).label("part_id"),
            raw(part.order_id).label("order_id"),
            label(part.kind, kinds, source).label("kind"),
            raw(part.provider).label("provider"),
            label(part.status, states, source).label("part_status"),
            moment(part.submitted_at, source).label("submitted_at"),
            moment(part.shipped_at, source).label("shipped_at"),
            number(part.cost).label("cost"),
            raw(flag(shop_pays) + 2 * flag(other_currency)).label("money_flags"),
        )
        .join(Order, Order.id == part.order_id)
        .where(in_period),
        {
            "part_id": "int64",
            "order_id": "int64",
            "kind": kinds,
            "provider": "text",
            "part_status": states,
            "submitted_at": "time",
            "shipped_at": "time",
            "cost": "float64",
            "money_flags": "int32",
        },
    )


def _per_order(parts: pd.DataFrame) -> pd.DataFrame:
    """What each order's fulfillments add up to: sent (one was submitted), remakes (not
    cancelled), charges (the reported costs the shop pays), charged (the shop pays for
    one), no_cost (one of those reported no charge), other_currency (one of those was
    charged in another currency than the order)."""
    pays = (parts["money_flags"] & 1).astype(bool)
    facts = pd.DataFrame(
        {
            "order_id": parts["order_id"],
            "sent": parts["submitted_at"].notna(),
            "remakes": (parts["kind"] == "remake") & (parts["part_status"] != "cancelled"),
            "charges": parts["cost"].where(pays),
            "charged": pays,
            "no_cost": pays & parts["cost"].isna(),
            "other_currency": pays & (parts["money_flags"] & 2).astype(bool),
        }
    )
    return facts.groupby("order_id").agg(
        sent=("sent", "any"),
        remakes=("remakes", "sum"),
        charges=("charges", "sum"),
        charged=("charged", "any"),
        no_cost=("no_cost", "any"),
        other_currency=("other_currency", "any"),
    )


def _line_group(by: str) -> ColumnElement[Any]:
    """The group of a line (an order line: `LineItem`), as SQL."""
    if by == "store":
        return Store.key.expression
    if by in ("product", "sku"):
        column = LineItem.product_key if by == "product" else LineItem.sku
        return func.coalesce(func.nullif(column, ""), NONE)
    # The live fulfillment of a line (a cancelled one was replaced by a fallback).
    maker = (
        select(Fulfillment.provider)
        .join(FulfillmentLine, FulfillmentLine.fulfillment_id == Fulfillment.id)
        .where(FulfillmentLine.line_item_id == LineItem.id, Fulfillment.kind == "order")
        .order_by(flag(Fulfillment.status == "cancelled"), Fulfillment.id)
        .limit(1)
        .scalar_subquery()
    )
    return func.coalesce(maker, NOT_SENT)


def _group_labels(connection: Connection, by: str) -> list[str]:
    """The groups a line can be in, for `coded` (by provider none: a line's provider
    is found from the fulfillments read, `_provider_members`)."""
    if by == "provider":
        return []
    if by == "store":
        return _distinct(connection, Store.key)
    return _distinct(connection, _line_group(by))


def _members(
    source: Source, in_period: ColumnElement[bool], by: str, labels: list[str]
) -> pd.DataFrame:
    """One row per (order, group of its lines): their value and how many (not by
    provider: `_provider_members`)."""
    value = func.coalesce(LineItem.unit_price, 0) * func.coalesce(LineItem.quantity, 0)
    lines = (  # each line's group found once, then summed per order and group
        select(
            LineItem.order_id.label("order_id"),
            coded(_line_group(by), labels).label("grp"),
            value.label("value"),
            flag(LineItem.print_file_revision > 1).label("rerendered"),
        )
        .join(Order, Order.id == LineItem.order_id)
        .where(in_period)
    )
    if by == "store":
        lines = lines.join(Store, Store.id == Order.store_id)
    each = lines.subquery()
    return _read(
        source,
        select(
            raw(each.c.order_id).label("order_id"),
            raw(each.c.grp).label("group"),
            number(func.sum(each.c.value)).label("value"),
            raw(func.count()).label("lines"),
            raw(func.max(each.c.rerendered)).label("rerendered"),
        ).group_by(each.c.order_id, each.c.grp),
        {
            "order_id": "int64",
            "group": labels,
            "value": "float64",
            "lines": "int32",
            "rerendered": "bool",
        },
    )


def _line_pairs(source: Source, in_period: ColumnElement[bool]) -> pd.DataFrame:
    """Every (line, fulfillment line) pair of the period's lines, a line no fulfillment
    makes with part_id -1 (for `_provider_members`)."""
    value = func.coalesce(LineItem.unit_price, 0) * func.coalesce(LineItem.quantity, 0)
    return _read(
        source,
        select(
            raw(LineItem.id).label("line_id"),
            raw(LineItem.order_id).label("order_id"),
            number(value).label("value"),
            raw(flag(LineItem.print_file_revision > 1)).label("rerendered"),
            # -1: no fulfillment line (an integer, so the column stays one)
            raw(func.coalesce(FulfillmentLine.fulfillment_id, -1)).label("part_id"),
        )
        .select_from(LineItem)
        .join(Order, Order.id == LineItem.order_id)
        .outerjoin(FulfillmentLine, FulfillmentLine.line_item_id == LineItem.id)
        .where(in_period),
        {
            "line_id": "int64",
            "order_id": "int64",
            "value": "float64",
            "rerendered": "bool",
            "part_id": "int64",
        },
    )


def _provider_members(pairs: pd.DataFrame, parts: pd.DataFrame) -> pd.DataFrame:
    """`_members` by provider: each line's group is the provider of its live
    fulfillment (of the order's own lines; a cancelled one only when no other makes
    it; the first made of those left), else NOT_SENT. Every (line, fulfillment) pair
    is read in one pass and the live one picked here: finding it per line in SQL (a
    correlated subquery) cost more than all the rest of the report's reading. The
    fulfillments' kind, provider and status come from `parts` (every fulfillment of
    the period's orders, already read): a fulfillment of another order making a
    line (podops writes none) does not count, as in the reference computation."""
    providers = list(parts["provider"].cat.categories)
    labels = [*providers, NOT_SENT]
    line = pairs["line_id"].to_numpy()
    part = pairs["part_id"].to_numpy()
    known = parts[["part_id", "kind", "provider", "part_status"]]
    where = pd.Index(known["part_id"]).get_indexer(part)
    found = where >= 0
    at = np.where(found, where, 0)
    made = found & (known["kind"] == "order").to_numpy()[at]
    cancelled = (known["part_status"] == "cancelled").to_numpy()[at]
    unmade = ~made
    # Per line, its rows by: made by a fulfillment first, not cancelled first, then
    # the first made; the first row of each line is its live fulfillment (or none).
    ranked = np.lexsort((np.where(unmade, 0, part), cancelled & made, unmade, line))
    keep = ranked[np.r_[True, line[ranked][1:] != line[ranked][:-1]]] if len(line) else ranked
    codes = known["provider"].cat.codes.to_numpy()[at[keep]]
    group = np.where(unmade[keep] | (codes < 0), len(providers), codes).astype(np.int64)
    # Then summed per (order, group), in that order.
    key = pairs["order_id"].to_numpy()[keep] * len(labels) + group
    keys, which = np.unique(key, return_inverse=True)
    rerendered = np.bincount(which, weights=pairs["rerendered"].to_numpy()[keep])
    return pd.DataFrame(
        {
            "order_id": keys // len(labels),
            "group": pd.Categorical.from_codes(
                (keys % len(labels)).astype(np.int32), categories=pd.Index(labels, dtype=object)
            ),
            "value": np.bincount(which, weights=pairs["value"].to_numpy()[keep]),
            "lines": np.bincount(which).astype(np.int32),
            "rerendered": rerendered > 0,
        },
        columns=["order_id", "group", "value", "lines", "rerendered"],
    )


def _part_groups(
    source: Source, in_period: ColumnElement[bool], by: str, labels: list[str]
) -> pd.DataFrame:
    """(part_id, group): the products or SKUs each fulfillment of an order's own lines
    makes (the other groupings take the fulfillment's provider or order's store)."""
    if by not in ("product", "sku"):
        return pd.DataFrame({"part_id": np.empty(0, dtype=np.int64), "group": []})
    group = coded(_line_group(by), labels)
    return _read(
        source,
        select(raw(FulfillmentLine.fulfillment_id).label("part_id"), raw(group).label("group"))
        .join(Fulfillment, Fulfillment.id == FulfillmentLine.fulfillment_id)
        .join(LineItem, LineItem.id == FulfillmentLine.line_item_id)
        .join(Order, Order.id == Fulfillment.order_id)
        .where(in_period, Fulfillment.kind == "order")
        .group_by(FulfillmentLine.fulfillment_id, group),
        {"part_id": "int64", "group": labels},
    )


def _events(source: Source, in_period: ColumnElement[bool]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The quality events, in one pass: per order (indexed by order id) how many
    provider statuses were unknown, whether its design needed a fix, whether it was
    refunded; and the submit failures with the provider, reason and whether it was
    retryable from their detail (the only events whose JSON is read: as text, ''
    for the others, parsed here)."""
    fail_detail = case((Event.action == EventName.SUBMIT_FAIL.value, cast(Event.detail, Text)))
    query = (
        select(
            raw(Event.order_id).label("order_id"),
            raw(Event.action).label("action"),
            raw(func.coalesce(fail_detail, "")).label("detail"),
        )
        .join(Order, Order.id == Event.order_id)
        .where(in_period, Event.action.in_([e.value for e in QUALITY_EVENTS]))
    )
    found: Iterable[Sequence[Any]] = (
        source.columns.rows(query)
        if source.columns is not None
        else source.connection.execute(query)
    )
    design = {e.value for e in DESIGN_FIX_EVENTS}
    refund = {e.value for e in REFUND_EVENTS}
    unknown = EventName.PROVIDER_STATUS_UNKNOWN.value
    facts: dict[int, list[int]] = {}
    fails = []
    for order_id, action, text in found:
        if action == EventName.SUBMIT_FAIL.value:
            detail = (json.loads(text) if text else None) or {}
            fails.append(
                (
                    order_id,
                    str(detail.get("provider") or ""),
                    str(detail.get("reason") or ""),
                    bool(detail.get("retryable")),
                )
            )
            continue
        counts = facts.setdefault(order_id, [0, 0, 0])
        counts[0] += action == unknown
        counts[1] |= action in design
        counts[2] |= action in refund
    per_order = pd.DataFrame.from_dict(
        facts, orient="index", columns=["status_unknown", "design", "refunded"]
    ).astype({"status_unknown": "int32", "design": bool, "refunded": bool})
    per_order.index = per_order.index.astype("int64")
    per_order.index.name = "order_id"
    failed = pd.DataFrame.from_records(
        fails, columns=["order_id", "provider", "reason", "retryable"]
    ).astype({"order_id": "int64", "provider": "object", "reason": "object", "retryable": "bool"})
    return per_order, failed


def _untimed(
    connection: Connection, orders: pd.DataFrame, parts: pd.DataFrame
) -> list[tuple[str, str]]:
    """Fulfillments (or orders never sent) past a step whose time podops does not have,
    or whose times run backwards: (reference, what is missing), by reference. Found
    in the frames; only their references are read (they are few)."""
    micros = {  # compared as the database keeps them: to the microsecond
        name: (values * 1_000_000).round()
        for name, values in (
            ("placed", orders["placed_at"].reindex(parts["order_id"]).to_numpy()),
            ("submitted", parts["submitted_at"].to_numpy()),
            ("shipped", parts["shipped_at"].to_numpy()),
        )
    }
    placed, submitted, shipped = micros["placed"], micros["submitted"], micros["shipped"]
    status = parts["part_status"].astype(object).to_numpy()
    part_flags = np.stack(
        [
            np.isin(status, AT_PROVIDER) & np.isnan(submitted),
            np.isin(status, SHIPPED_PARTS) & np.isnan(shipped),
            np.zeros(len(parts), dtype=bool),
            (shipped < submitted) | (submitted < placed) | (shipped < placed),
        ],
        axis=1,
    )
    lone = orders.loc[~orders.index.isin(parts["order_id"])]
    went = lone["status"].astype(object).isin(SHIPPED_ORDERS).to_numpy()
    lone_shipped = (lone["shipped_at"] * 1_000_000).round().to_numpy()
    lone_placed = (lone["placed_at"] * 1_000_000).round().to_numpy()
    lone_flags = np.stack(
        [
            np.zeros(len(lone), dtype=bool),
            went & np.isnan(lone_shipped),
            went,
            lone_shipped < lone_placed,
        ],
        axis=1,
    )
    # Rows in part order, then the orders never sent; labels gather per reference in
    # the order of NOT_TIMED_LABELS.
    order_ids = np.concatenate(
        [
            parts["order_id"].to_numpy()[np.argsort(parts["part_id"].to_numpy(), kind="stable")],
            lone.index.to_numpy(),
        ]
    )
    flags = np.concatenate(
        [part_flags[np.argsort(parts["part_id"].to_numpy(), kind="stable")], lone_flags]
    )
    hit = flags.any(axis=1)
    order_ids, flags = order_ids[hit], flags[hit]
    if not len(order_ids):
        return []
    references: dict[int, str] = {}
    wanted = sorted(set(order_ids.tolist()))
    for first in range(0, len(wanted), 500):
        query = (
            select(Order.id, Store.key, Order.number)
            .join(Store, Store.id == Order.store_id)
            .where(Order.id.in_(wanted[first : first + 500]))
        )
        for order_id, store, number_ in connection.execute(query):
            references[order_id] = f"{store}:{number_}"
    found: dict[str, list[str]] = {}
    for index, label in enumerate(NOT_TIMED_LABELS):
        for order_id, row in zip(order_ids.tolist(), flags, strict=True):
            if row[index]:
                found.setdefault(references[order_id], []).append(label)
    return [(ref, ", ".join(labels)) for ref, labels in sorted(found.items())]
