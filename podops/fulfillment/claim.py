"""Which orders are due, claiming them once, and what their provider is sent.

Claiming is the exactly-once guard. On PostgreSQL the due rows are selected
`FOR UPDATE SKIP LOCKED`, so two workers take disjoint orders. Everywhere, the
order row carries a version counter: `begin_submit` is flushed as
`UPDATE orders SET status='submitting', version=v+1 WHERE id=:id AND version=:v`
and SQLAlchemy checks the row count (a lost race raises and claims nothing).
SQLite additionally serialises writers (`BEGIN IMMEDIATE`), so the second
worker reads the order only after the first committed `submitting`. The claim
token a worker holds meanwhile is written by `services.take_claim` and
re-checked by `services.confirm_claim`; whether an order is ready to leave is
`podops.services.readiness`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from podops.errors import InvalidInput, OrderNotFound
from podops.models import Order, Store
from podops.ports.fulfillment import PrintFileLinks, RequestItem, SubmitRequest
from podops.refs import OrderRef
from podops.status import OrderStatus


def provider_reference(order: Order) -> str:
    """Our order reference at the provider (unique across stores; see `podops.refs`)."""
    return OrderRef.of(order).provider


def order_by_provider_reference(session: Session, reference: str) -> Order:
    wanted = OrderRef.parse_provider(reference)
    query = (
        select(Order)
        .join(Store)
        .where(Store.key == wanted.store, Order.number == wanted.number)
        .options(selectinload(Order.items), selectinload(Order.store))
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
        .options(selectinload(Order.items), selectinload(Order.store))
    )


def lock_skipping(query, session: Session):  # type: ignore[no-untyped-def]
    """Row locks on PostgreSQL that other workers skip; SQLite already serialises writers."""
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True, of=Order)
    return query


@dataclass(frozen=True, slots=True)
class Claimed:
    order_id: int
    reference: str
    provider: str
    request: SubmitRequest
    earlier_attempts: int = 0
    """Attempts before this one: if any, the order may already exist at the provider."""
    token: str = ""
    """The claim's token on the order row; the provider is called only while it matches."""
    files: dict[str, str] = field(default_factory=dict)
    """The stored print file of each line this attempt sends (by line reference)."""


def build_request(
    order: Order, links: PrintFileLinks, callback_url: str = "", shipping_method: str = ""
) -> SubmitRequest:
    """What the provider is sent; `shipping_method` is its method for the order's speed
    ("" : the provider's usual one)."""
    address = {key: str(value or "") for key, value in order.shipping_address.items()}
    items = []
    for item in order.items:
        if not item.print_file:
            raise InvalidInput(f"line {item.reference} has no print file")
        items.append(
            RequestItem(
                line_reference=item.reference,
                sku=item.sku,
                provider_sku=item.provider_sku or item.sku,
                name=item.name,
                quantity=item.quantity,
                print_file_url=links.url_for(item.print_file),
                personalization={k: str(v) for k, v in item.personalization.items()},
            )
        )
    return SubmitRequest(
        reference=provider_reference(order),
        order_number=order.number,
        customer_name=order.customer_name,
        email=order.customer_email,
        phone=order.customer_phone or str(order.shipping_address.get("phone") or ""),
        address=address,
        items=tuple(items),
        shipping_method=shipping_method,
        note=order.note,
        callback_url=callback_url,
    )
