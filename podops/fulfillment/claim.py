"""Which orders are due, whether they are ready, and claiming them once.

Claiming is the exactly-once guard. On PostgreSQL the due rows are selected
`FOR UPDATE SKIP LOCKED`, so two workers take disjoint orders. Everywhere, the
order row carries a version counter: `begin_submit` is flushed as
`UPDATE orders SET status='submitting', version=v+1 WHERE id=:id AND version=:v`
and SQLAlchemy checks the row count (a lost race raises and claims nothing).
SQLite additionally serialises writers (`BEGIN IMMEDIATE`), so the second
worker reads the order only after the first committed `submitting`.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session, selectinload

from podops import events
from podops.errors import InvalidInput, OrderNotFound
from podops.events import Actor
from podops.models import Order, Store
from podops.ports.fulfillment import PrintFileLinks, RequestItem, SubmitRequest
from podops.refs import OrderRef
from podops.status import OrderStatus

_READINESS = re.compile(r"^line \S+ (has no print file|print file is not current|print file: .*)$")


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


def is_readiness_problem(problem: object) -> bool:
    """Problems this module writes (and clears again once the print files exist)."""
    return isinstance(problem, str) and _READINESS.match(problem) is not None


def readiness_problems(order: Order, *, require_current: bool) -> list[str]:
    """Why the order cannot leave yet, line by line (empty when it can)."""
    found = []
    for item in order.items:
        if not item.print_file:
            found.append(f"line {item.reference} has no print file")
        elif require_current and not item.print_file_current:
            found.append(f"line {item.reference} print file is not current")
    return found


def needs_print_files(order: Order) -> bool:
    return any(not item.print_file or not item.print_file_current for item in order.items)


def set_readiness(session: Session, order: Order, problems: list[str], actor: Actor) -> bool:
    """Replace this module's problems on the order; write an event when they change."""
    others = [p for p in order.problems if not is_readiness_problem(p)]
    mine = [p for p in order.problems if is_readiness_problem(p)]
    if mine == problems:
        return False
    order.problems = [*others, *problems]
    if problems:
        events.record(session, order, actor, "submit_blocked", problems=problems)
    else:
        events.record(session, order, actor, "submit_unblocked")
    return True


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


def new_claim(order: Order, now: datetime) -> str:
    """Stamp `order` (being moved to `submitting`) with a fresh claim; return its token."""
    order.claim_token = uuid.uuid4().hex
    order.claimed_at = now
    return order.claim_token


def confirm_claim(session: Session, order_id: int, token: str, now: datetime) -> bool:
    """Re-stamp the claim if this worker still holds it (one atomic UPDATE).

    False means another worker (the stuck-order reconciler) took the order over
    meanwhile: this worker must not call the provider for it any more.
    """
    result = session.execute(
        update(Order)
        .where(
            Order.id == order_id,
            Order.status == OrderStatus.SUBMITTING,
            Order.claim_token == token,
        )
        .values(claimed_at=now, version=Order.version + 1)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], result).rowcount == 1


def build_request(order: Order, links: PrintFileLinks, callback_url: str = "") -> SubmitRequest:
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
        note=order.note,
        callback_url=callback_url,
    )
