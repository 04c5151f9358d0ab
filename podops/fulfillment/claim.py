"""Which orders are due, claiming their fulfillments once, and what a provider is sent.

Claiming is the exactly-once guard. On PostgreSQL the due rows are selected
`FOR UPDATE SKIP LOCKED`, so two workers take disjoint orders. Everywhere, the
order and fulfillment rows carry a version counter: `begin_submit` is flushed as
`UPDATE ... SET status='submitting', version=v+1 WHERE id=:id AND version=:v`
and SQLAlchemy checks the row count (a lost race raises and claims nothing).
SQLite additionally serialises writers (`BEGIN IMMEDIATE`), so the second
worker reads the order only after the first committed `submitting`. Each
fulfillment carries its own claim token meanwhile, written by
`services.take_claim` and re-checked by `services.confirm_claim`; whether an
order is ready to leave is `podops.services.readiness`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from podops.errors import InvalidInput, OrderNotFound
from podops.fulfillment_status import FulfillmentKind, FulfillmentStatus
from podops.models import Fulfillment, Order, Store
from podops.placed_files import StoredFile, files_of
from podops.ports.fulfillment import (
    DEFAULT_PLACEMENT,
    PlacedFile,
    PrintFileLinks,
    RequestItem,
    SubmitRequest,
)
from podops.refs import FulfillmentRef, OrderRef
from podops.services.remakes import REMAKABLE
from podops.services.submission import GOING_ON
from podops.status import OrderStatus


def provider_reference(order: Order) -> str:
    """The order's own reference at a provider, its first fulfillment's (see `podops.refs`)."""
    return OrderRef.of(order).provider


def order_by_provider_reference(session: Session, reference: str) -> Order:
    """The order a provider reference names (its own, or one of its fulfillments')."""
    wanted = FulfillmentRef.parse_provider(reference).order
    query = (
        select(Order)
        .join(Store)
        .where(Store.key == wanted.store, Order.number == wanted.number)
        .options(*ORDER_LOADED)
    )
    order = session.scalar(query)
    if order is None:
        raise OrderNotFound(reference)
    return order


def due_query(now: datetime, limit: int, *, blocked: bool = False):  # type: ignore[no-untyped-def]
    """Pending orders whose countdown ran out; without (or, `blocked`, with) problems."""
    problem_count = func.json_array_length(Order.problems)
    return (
        select(Order)
        .where(
            Order.status == OrderStatus.PENDING,
            Order.submit_at <= now,
            (problem_count > 0) if blocked else (problem_count == 0),
        )
        .order_by(Order.submit_at, Order.id)
        .limit(limit)
        .options(*ORDER_LOADED)
    )


ORDER_LOADED = (
    selectinload(Order.items),
    selectinload(Order.store),
    selectinload(Order.fulfillments).selectinload(Fulfillment.lines),
)
"""What a claim reads of an order: its lines, store and fulfillments."""


def left_behind_query(limit: int):  # type: ignore[no-untyped-def]
    """Fulfillments waiting to go whose order went on without them (retried after a
    failure, or a held line routed since)."""
    return (
        select(Fulfillment)
        .join(Order, Fulfillment.order_id == Order.id)
        .where(
            Fulfillment.kind == FulfillmentKind.ORDER,
            Fulfillment.status == FulfillmentStatus.WAITING,
            Order.status.in_(GOING_ON),
        )
        .order_by(Fulfillment.id)
        .limit(limit)
        .options(selectinload(Fulfillment.order).options(*ORDER_LOADED))
    )


def remakes_query(limit: int):  # type: ignore[no-untyped-def]
    """Remakes waiting to go (`services.remakes`): no countdown, the next tick sends them."""
    return (
        select(Fulfillment)
        .join(Order, Fulfillment.order_id == Order.id)
        .where(
            Fulfillment.kind == FulfillmentKind.REMAKE,
            Fulfillment.status == FulfillmentStatus.WAITING,
            Order.status.in_(REMAKABLE),
        )
        .order_by(Fulfillment.id)
        .limit(limit)
        .options(selectinload(Fulfillment.order).options(*ORDER_LOADED))
    )


def lock_skipping(query, session: Session, of: type = Order):  # type: ignore[no-untyped-def]
    """Row locks on PostgreSQL that other workers skip; SQLite already serialises writers."""
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True, of=of)
    return query


@dataclass(frozen=True, slots=True)
class Claimed:
    """One fulfillment claimed for one provider call."""

    order_id: int
    fulfillment_id: int
    reference: str
    provider: str
    request: SubmitRequest
    earlier_attempts: int = 0
    """Attempts before this one: if any, it may already exist at the provider."""
    token: str = ""
    """The claim's token on the fulfillment; the provider is called only while it matches."""
    files: dict[str, str] = field(default_factory=dict)
    """The stored print file of each line this attempt sends (by line reference)."""


def build_request(
    part: Fulfillment, links: PrintFileLinks, callback_url: str = "", shipping_method: str = ""
) -> SubmitRequest:
    """What `part`'s provider is sent: the order's customer, the part's address (the
    order's, unless its provider kept an older one: `Fulfillment.address`), the
    fulfillment's lines and quantities, under the fulfillment's own reference;
    `shipping_method` is that provider's method for the order's speed ("" : its
    usual one)."""
    order = part.order
    address = {key: str(value or "") for key, value in part.address.items()}
    items = []
    for line in part.lines:
        item = line.line_item
        if not item.print_file:
            raise InvalidInput(f"line {item.reference} has no print file")
        files = files_of(item)
        items.append(
            RequestItem(
                line_reference=item.reference,
                sku=item.sku,
                provider_sku=line.provider_sku or item.provider_sku or item.sku,
                name=item.name,
                quantity=line.quantity,
                print_file_url=links.url_for(item.print_file),
                personalization={k: str(v) for k, v in item.personalization.items()},
                placements=placed_links(files, links),
            )
        )
    return SubmitRequest(
        reference=part.reference,
        order_number=order.number,
        customer_name=order.customer_name,
        email=order.customer_email,
        phone=order.customer_phone or str(address.get("phone") or ""),
        address=address,
        items=tuple(items),
        shipping_method=shipping_method,
        note=order.note,
        callback_url=callback_url,
    )


def placed_links(files: Sequence[StoredFile], links: PrintFileLinks) -> tuple[PlacedFile, ...]:
    """`RequestItem.placements` for a line's stored files: a signed link per placement;
    () for one file at the front (the request's `print_file_url` says it all)."""
    if [f.placement for f in files] in ([], [DEFAULT_PLACEMENT]):
        return ()
    return tuple(PlacedFile(f.placement, links.url_for(f.path)) for f in files)
