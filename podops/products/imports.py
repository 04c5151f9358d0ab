"""Replacing a source's Products rows: read and check every row (the catalogs are
asked outside any transaction), then store them all, good and bad, in one
transaction. Bad rows route nothing; their SKUs go by the routing rules."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from podops.db import Database
from podops.models import SyncState
from podops.ports.fulfillment import ProductCatalog
from podops.products.catalog import check_catalogs
from podops.products.rows import VariantRow, read_rows
from podops.products.stored import replace_rows


@dataclass(frozen=True, slots=True)
class ProductChecks:
    """What a row is checked against: the configured providers, our templates, and
    each provider's catalog (None: not checkable)."""

    providers: Collection[str]
    template_problem: Callable[[str], str | None]
    """Why a template name is unusable (unknown, broken), or None."""
    catalogs: Mapping[str, ProductCatalog | None]


def check_rows(
    rows: Sequence[tuple[int, Sequence[object]]], checks: ProductChecks
) -> list[VariantRow]:
    """Every non-blank row judged; asks the catalogs (call outside a transaction)."""
    read = read_rows(rows, providers=checks.providers, template_problem=checks.template_problem)
    return check_catalogs(read, checks.catalogs)


def import_rows(
    db: Database,
    source: str,
    rows: Sequence[tuple[int, Sequence[object]]],
    checks: ProductChecks,
    *,
    on_replaced: Callable[[], None] | None = None,
    remember: tuple[str, dict[str, Any]] | None = None,
) -> list[VariantRow]:
    """Check and store the source's rows in place of its old ones; the judged rows.
    `remember`: a (key, value) of reader state saved in the same transaction (what
    file or tab contents these rows came from)."""
    judged = check_rows(rows, checks)
    with db.unit_of_work() as session:
        replace_rows(session, source, judged)
        if remember is not None:
            save_state(session, *remember)
    if on_replaced is not None:
        on_replaced()
    return judged


def load_state(session: Session, key: str) -> dict[str, Any]:
    found = session.get(SyncState, key)
    return dict(found.value) if found else {}


def save_state(session: Session, key: str, value: dict[str, Any]) -> None:
    found = session.get(SyncState, key)
    if found is None:
        session.add(SyncState(key=key, value=value))
    else:
        found.value = value
