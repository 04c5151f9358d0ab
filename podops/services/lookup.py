"""Finding orders the way staff name them: `1234`, `#1234`, `main:1234`, `2024/5001`.

Typed text may be read several ways (`OrderRef.staff_readings`: `ab:30` is order
`30` of store `ab`, or the order numbered `ab:30`); text whose readings name two
different orders is refused with what to type for each, and so is a number held by
several stores.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload

from podops.errors import AmbiguousReference, InvalidInput, OrderNotFound
from podops.models import LineItem, Order, Store
from podops.order_views import OrderView
from podops.queries import in_view
from podops.refs import ANY_STORE, OrderRef

LIKE_ESCAPE = "\\"


def like_literal(text: str) -> str:
    """`text` matched literally inside a LIKE pattern: `ana_b@x` finds only that."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def get_order(session: Session, reference: str | OrderRef, *, for_update: bool = False) -> Order:
    """The one order `reference` names (text staff typed, or an `OrderRef` kept between
    transactions), or a refusal that says why and suggests. Text whose readings name
    two different orders (`main:1001`: order 1001 of `main`, and an order numbered
    `main:1001`) is refused with what to type for each, never guessed."""
    if isinstance(reference, OrderRef):
        tiers, typed = [[reference]], reference.staff
    else:
        tiers, typed = OrderRef.staff_reading_tiers(reference), reference.strip()
    for readings in tiers:
        named: dict[int, Order] = {}
        for wanted in readings:
            found = _orders(session, wanted, for_update=for_update)
            if len(found) > 1:
                choices = ", ".join(typed_form(session, order) for order in found)
                raise AmbiguousReference(
                    f"order {wanted.number} exists in several stores; say which: {choices}"
                )
            named.update((order.id, order) for order in found)
        if len(named) == 1:
            return next(iter(named.values()))
        if named:
            choices = " or ".join(
                f"{typed_form(session, order)} ({order.label} of store {order.store.key})"
                for order in named.values()
            )
            raise AmbiguousReference(f"{typed} names more than one order; type {choices}")
    raise OrderNotFound(typed, _suggest(session, tiers[-1][0].number))


def typed_form(session: Session, order: Order) -> str:
    """Text staff can type (and buttons carry) that names `order` and no other: its
    store and number (`main:1001`, `main:##1001` for number `#1001`), else with `/`
    (`main/1001`, when an order is numbered `main:1001`), else the number alone."""
    ref = OrderRef.of(order)
    slashed = f"{ref.store}/{'#' if ref.number.startswith('#') else ''}{ref.number}"
    for text in dict.fromkeys([ref.typed_with_store, slashed, ref.number]):
        if _named_ids(session, text) == {order.id}:
            return text
    return ref.typed_with_store


def _named_ids(session: Session, text: str) -> set[int]:
    """The orders the deciding tier of `text` names (none when it reads as no number)."""
    try:
        tiers = OrderRef.staff_reading_tiers(text)
    except InvalidInput:
        return set()
    for readings in tiers:
        matches = [
            Order.number == wanted.number
            if wanted.store == ANY_STORE
            else and_(Order.number == wanted.number, Store.key == wanted.store)
            for wanted in readings
        ]
        query = select(Order.id).join(Store, Store.id == Order.store_id).where(or_(*matches))
        ids = set(session.scalars(query))
        if ids:
            return ids
    return set()


def _orders(session: Session, wanted: OrderRef, *, for_update: bool) -> list[Order]:
    query = (
        select(Order)
        .where(Order.number == wanted.number)
        .options(selectinload(Order.items), selectinload(Order.store))
    )
    if wanted.store != ANY_STORE:
        query = query.join(Store).where(Store.key == wanted.store)
    if for_update and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Order)
    return list(session.scalars(query))


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


def find_orders(
    session: Session, text: str, *, views: Sequence[OrderView] = (), limit: int = 20
) -> list[Order]:
    """Orders whose number, customer name or email contains `text` (empty: any order),
    in any of `views` when given (`podops.order_views`), newest first."""
    needle = text.strip().lstrip("#")
    if not needle and not views:
        return []
    query = select(Order)
    if needle:
        pattern = f"%{like_literal(needle)}%"
        matches = [Order.number == needle, Order.customer_name.ilike(pattern, escape=LIKE_ESCAPE)]
        if not any(c.isspace() for c in needle):  # a full name is never in an email address:
            # one trigram index less to read (`ix_orders_customer_email_trgm`, PostgreSQL)
            matches.append(Order.customer_email.ilike(pattern, escape=LIKE_ESCAPE))
        query = query.where(or_(*matches))
    if views:
        query = query.where(or_(*(in_view(view) for view in views)))
    query = (
        query.options(selectinload(Order.items).selectinload(LineItem.order))
        .order_by(Order.placed_at.desc(), Order.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))
