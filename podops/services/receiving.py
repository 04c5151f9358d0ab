"""Receiving orders from stores and files: idempotent on (store, store order id).

New orders start their countdown (pending) or wait for staff (needs_design,
on_hold with the reason) when something is missing; nothing is dropped (what
each becomes is decided in `services.new_orders`). Shop text too long for its
column is cut and the order held with the reason. New orders, their lines and
their `receive` events are written with three bulk INSERTs per batch. A
repeated delivery of a known order only updates what the store may change
(`services.store_changes`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from podops.db import bulk_insert
from podops.events import Actor, EventName
from podops.incoming import IncomingOrder, within_bounds
from podops.models import Base, Order, Store, utcnow
from podops.notify.digests import held_at_first_sync
from podops.routing import ShopPolicy
from podops.services.new_orders import UNWATCHED_REASON, NewOrder, new_order
from podops.services.store_changes import apply_store_update
from podops.status import OrderStatus


@dataclass(frozen=True, slots=True)
class CreatedOrder:
    id: int
    number: str
    status: OrderStatus


@dataclass(slots=True)
class ReceiveResult:
    created: list[CreatedOrder] = field(default_factory=list)
    updated: list[Order] = field(default_factory=list)
    unchanged: int = 0


def ensure_store(session: Session, key: str, platform: str = "woocommerce") -> Store:
    store = session.scalar(select(Store).where(Store.key == key))
    if store is None:
        store = Store(key=key, platform=platform)
        session.add(store)
        session.flush()
    return store


def watched_since(session: Session, key: str, platform: str, since: datetime) -> None:
    """podops has watched this store since `since` (a test shop it saw open): its
    first pass is not a first sync, so no order is held as placed before podops
    watched it."""
    store = ensure_store(session, key, platform)
    if store.last_synced_at is None and store.sync_cursor is None:
        store.last_synced_at = since


def receive_order(
    session: Session, incoming: IncomingOrder, policy: ShopPolicy, actor: Actor
) -> Order:
    receive_orders(session, [incoming], policy, actor)
    store = ensure_store(session, incoming.store)
    order = session.scalar(
        select(Order).where(Order.store_id == store.id, Order.external_id == incoming.external_id)
    )
    assert order is not None
    return order


def receive_orders(
    session: Session,
    batch: Iterable[IncomingOrder],
    policy: ShopPolicy,
    actor: Actor,
    *,
    platform: str = "woocommerce",
    fulfil_statuses: Collection[str] | None = None,
    arrived_at: datetime | None = None,
    hold_overdue: bool = False,
) -> ReceiveResult:
    """Create the orders not seen before and apply store-side changes to the rest.

    `arrived_at` (file imports) starts a back-dated order's countdown when it
    arrives, so staff get their window. `hold_overdue` (a store's first sync)
    holds new orders already past their submit time: the shop may have been
    fulfilling them by hand. `fulfil_statuses` lets a shop status outside them
    hold a known order (see services.store_changes).
    """
    now = utcnow()
    incoming = [_fit_columns(within_bounds(order, now)) for order in batch]
    result = ReceiveResult()
    if not incoming:
        return result
    stores = {key: ensure_store(session, key, platform) for key in {o.store for o in incoming}}
    existing = _known_orders(session, [(stores[o.store].id, o.external_id) for o in incoming])
    fresh: list[NewOrder] = []
    seen: set[tuple[int, str]] = set()
    for order_in in incoming:
        key = (stores[order_in.store].id, order_in.external_id)
        if key in existing:
            if apply_store_update(session, existing[key], order_in, actor, fulfil_statuses):
                result.updated.append(existing[key])
            else:
                result.unchanged += 1
        elif key not in seen:
            seen.add(key)
            fresh.append(
                new_order(stores[order_in.store], order_in, policy, arrived_at, hold_overdue)
            )
    _unique_numbers(session, fresh)
    created = _insert(session, fresh, actor)
    result.created.extend(created)
    unwatched = [
        order.id
        for order, new in zip(created, fresh, strict=True)
        if (new.row["hold_reason"] or "").startswith(UNWATCHED_REASON)
    ]
    held_at_first_sync(session, unwatched)
    return result


def _known_orders(session: Session, keys: list[tuple[int, str]]) -> dict[tuple[int, str], Order]:
    """The orders already received among (store, store order id) `keys`, with their lines."""
    existing: dict[tuple[int, str], Order] = {}
    for store_id, external_ids in _by_store(keys):
        query = (
            select(Order)
            .where(Order.store_id == store_id, Order.external_id.in_(external_ids))
            .options(selectinload(Order.items))
        )
        existing.update({(o.store_id, o.external_id): o for o in session.scalars(query)})
    return existing


_ORDER_TEXT = {"number": True, "external_id": True, "store_status": False,
               "customer_name": False, "customer_email": False, "customer_phone": False,
               "currency": False, "shipping_method_id": False,
               "shipping_method": False}  # fmt: skip
_LINE_TEXT = {"external_id": True, "sku": False, "name": False}
"""Text fields stored in sized columns; True marks identities (shortened with a digest)."""


_LIMITS: dict[tuple[str, str], int] = {}


def _limit(table: Any, name: str) -> int:
    key = (table.name, name)
    if key not in _LIMITS:
        _LIMITS[key] = int(table.c[name].type.length)
    return _LIMITS[key]


def _too_long(target: object, table: Any, fields: dict[str, bool]) -> list[str]:
    found = []
    for name in fields:
        value = getattr(target, name)
        if value and len(value if isinstance(value, str) else str(value)) > _limit(table, name):
            found.append(name)
    return found


def _fit_columns(incoming: IncomingOrder) -> IncomingOrder:
    """Shop text longer than its column (PostgreSQL refuses it and the whole page with
    it) is cut, and the order held with the reason; identities stay unique."""
    orders, lines = Base.metadata.tables["orders"], Base.metadata.tables["line_items"]
    if not _too_long(incoming, orders, _ORDER_TEXT) and not any(
        _too_long(item, lines, _LINE_TEXT) for item in incoming.items
    ):
        return incoming
    fitted = replace(incoming, problems=list(incoming.problems), items=list(incoming.items))
    for name in _too_long(fitted, orders, _ORDER_TEXT):
        fitted.problems.append(_cut(fitted, name, orders, _ORDER_TEXT[name]))
    for index, item in enumerate(fitted.items):
        names = _too_long(item, lines, _LINE_TEXT)
        if names:
            item = fitted.items[index] = replace(item, problems=list(item.problems))
            item.problems.extend(_cut(item, name, lines, _LINE_TEXT[name]) for name in names)
    return fitted


def _cut(target: Any, name: str, table: Any, identity: bool) -> str:
    value, limit = str(getattr(target, name)), table.c[name].type.length
    if identity:
        digest = hashlib.sha256(value.encode()).hexdigest()[:16]
        setattr(target, name, f"{value[: limit - 17]}~{digest}")
    else:
        setattr(target, name, value[:limit])
    return f"{name.replace('_', ' ')} was longer than {limit} characters and was cut"


def _unique_numbers(session: Session, fresh: list[NewOrder]) -> None:
    """A shop can reuse an order number for a different order (sequential-number
    plugins, resets): the newcomer is received as NUMBER-ID instead of failing the
    whole batch (which would stall intake at that page for good)."""
    wanted = {(new.row["store_id"], new.row["number"]) for new in fresh}
    taken: set[tuple[int, str]] = set()
    for store_id in {store_id for store_id, _ in wanted}:
        numbers = [number for sid, number in wanted if sid == store_id]
        for start in range(0, len(numbers), 500):
            query = select(Order.number).where(
                Order.store_id == store_id, Order.number.in_(numbers[start : start + 500])
            )
            taken.update((store_id, number) for number in session.scalars(query))
    for new in fresh:
        key = (new.row["store_id"], new.row["number"])
        if key in taken:
            new.row["number"] = f"{new.row['number']}-{new.row['external_id']}"[:64]
            key = (new.row["store_id"], new.row["number"])
        taken.add(key)


def _by_store(keys: list[tuple[int, str]], size: int = 500) -> list[tuple[int, list[str]]]:
    """(store, external ids) in chunks: `store_id = ? AND external_id IN (...)` walks the
    unique index; a row-value IN over both columns makes SQLite scan the table."""
    grouped: dict[int, list[str]] = {}
    for store_id, external_id in keys:
        grouped.setdefault(store_id, []).append(external_id)
    return [
        (store_id, ids[start : start + size])
        for store_id, ids in grouped.items()
        for start in range(0, len(ids), size)
    ]


def _insert(session: Session, fresh: list[NewOrder], actor: Actor) -> list[CreatedOrder]:
    """Three bulk INSERTs per batch (orders, lines, events): receiving is the hot path."""
    if not fresh:
        return []
    connection = session.connection()  # Core inserts: the ORM's per-row bookkeeping costs 3x
    bulk_insert(connection, Base.metadata.tables["orders"], [new.row for new in fresh])
    ids = _new_ids(session, fresh)
    bulk_insert(
        connection,
        Base.metadata.tables["line_items"],
        [
            {**item, "order_id": order_id}
            for new, order_id in zip(fresh, ids, strict=True)
            for item in new.items
        ],
    )
    bulk_insert(connection, Base.metadata.tables["events"], _receive_events(fresh, ids, actor))
    return [
        CreatedOrder(order_id, new.row["number"], new.row["status"])
        for new, order_id in zip(fresh, ids, strict=True)
    ]


def _new_ids(session: Session, fresh: list[NewOrder]) -> list[int]:
    """The ids the orders just inserted got, in `fresh`'s order.

    Plain executemany, then one lookup: RETURNING with ordered rows makes SQLite
    fall back to one INSERT per order."""
    id_of: dict[tuple[int, str], int] = {}
    for store_id, external_ids in _by_store(
        [(new.row["store_id"], new.row["external_id"]) for new in fresh]
    ):
        rows = session.execute(
            select(Order.external_id, Order.id).where(
                Order.store_id == store_id, Order.external_id.in_(external_ids)
            )
        )
        id_of.update({(store_id, row[0]): row[1] for row in rows})
    return [id_of[(new.row["store_id"], new.row["external_id"])] for new in fresh]


def _receive_events(fresh: list[NewOrder], ids: list[int], actor: Actor) -> list[dict[str, Any]]:
    """One `receive` event per new order: the status it starts in, its problems."""
    now = utcnow()
    return [
        {
            "order_id": order_id,
            "at": now,
            "actor": actor.name,
            "channel": actor.channel.value,
            "action": EventName.RECEIVE.value,
            "from_status": None,
            "to_status": new.row["status"].value,
            "detail": _receive_detail(new.row),
        }
        for new, order_id in zip(fresh, ids, strict=True)
    ]


def _receive_detail(row: dict[str, Any]) -> dict[str, Any]:
    detail: dict[str, Any] = {"problems": row["problems"]} if row["problems"] else {}
    if (row["hold_reason"] or "").startswith(UNWATCHED_REASON):
        detail["hold_reason"] = row["hold_reason"]
    return detail
