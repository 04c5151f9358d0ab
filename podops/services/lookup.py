"""Finding orders the way staff name them: `1234`, `#1234`, `main:1234`."""

from __future__ import annotations

import difflib
import re

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from podops.errors import AmbiguousReference, InvalidInput, OrderNotFound
from podops.models import LineItem, Order, Store

_REFERENCE = re.compile(
    r"^(?:(?P<store>[a-z][a-z0-9_]*)[:/])?#?(?P<number>[A-Za-z0-9][A-Za-z0-9_.-]{0,63})$"
)


LIKE_ESCAPE = "\\"


def like_literal(text: str) -> str:
    """`text` matched literally inside a LIKE pattern: `ana_b@x` finds only that."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def parse_reference(reference: str) -> tuple[str | None, str]:
    text = reference.strip()
    match = _REFERENCE.match(text)
    if not match:
        raise InvalidInput(f"{reference!r} is not an order number (expected something like 1234)")
    return match.group("store"), match.group("number")


def get_order(session: Session, reference: str, *, for_update: bool = False) -> Order:
    """The one order `reference` names, or a refusal that says why and suggests."""
    store_key, number = parse_reference(reference)
    query = (
        select(Order)
        .where(Order.number == number)
        .options(selectinload(Order.items), selectinload(Order.store))
    )
    if store_key:
        query = query.join(Store).where(Store.key == store_key)
    if for_update and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Order)
    found = list(session.scalars(query))
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        choices = ", ".join(f"{order.store.key}:{order.number}" for order in found)
        raise AmbiguousReference(f"order {number} exists in several stores; say which: {choices}")
    raise OrderNotFound(reference.strip(), _suggest(session, number))


def _suggest(session: Session, number: str) -> list[str]:
    stem = number[: max(1, len(number) - 2)]
    candidates = list(
        session.scalars(
            select(Order.number)
            .where(Order.number.like(f"{like_literal(stem)}%", escape=LIKE_ESCAPE))
            .limit(500)
        )
    )
    return difflib.get_close_matches(number, candidates, n=2, cutoff=0.6)


def find_orders(session: Session, text: str, *, limit: int = 20) -> list[Order]:
    """Orders whose number, customer name or email contains `text`."""
    needle = text.strip().lstrip("#")
    if not needle:
        return []
    pattern = f"%{like_literal(needle)}%"
    query = (
        select(Order)
        .where(
            or_(
                Order.number == needle,
                Order.customer_name.ilike(pattern, escape=LIKE_ESCAPE),
                Order.customer_email.ilike(pattern, escape=LIKE_ESCAPE),
            )
        )
        .options(selectinload(Order.items).selectinload(LineItem.order))
        .order_by(Order.placed_at.desc())
        .limit(limit)
    )
    return list(session.scalars(query))
