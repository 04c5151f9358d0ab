"""The Products table in the database, so every process routes by the same rows.

A reader (CSV file, Products tab) replaces its source's rows in one transaction
and moves the table's revision, which tells every process to read it again.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from podops.models import ProductVariant, SyncState
from podops.products.rows import VariantRow
from podops.products.table import VariantTable

SOURCES: tuple[str, ...] = ("sheet", "csv")
"""Where rows come from, the first winning for a SKU in both."""
REVISION_KEY = "products:revision"


def replace_rows(session: Session, source: str, rows: Sequence[VariantRow]) -> int:
    """Put `rows` in place of the source's rows; the table's new revision."""
    if source not in SOURCES:
        raise ValueError(f"unknown Products source {source!r}")
    session.execute(delete(ProductVariant).where(ProductVariant.source == source))
    if rows:
        session.execute(insert(ProductVariant), [_values(source, row) for row in rows])
    state = session.get(SyncState, REVISION_KEY, with_for_update=True)
    revision = int(state.value.get("revision", 0)) + 1 if state else 1
    if state is None:
        session.add(SyncState(key=REVISION_KEY, value={"revision": revision}))
    else:
        state.value = {"revision": revision}
    return revision


def _values(source: str, row: VariantRow) -> dict[str, object]:
    return {
        "source": source,
        "row": row.row,
        "sku": row.sku,
        "provider": row.provider,
        "provider_sku": row.provider_sku,
        "product_key": row.product_key,
        "countries": list(row.countries),
        "problem": row.problem,
        "note": row.note,
    }


def table_revision(session: Session) -> int:
    state = session.get(SyncState, REVISION_KEY)
    return int(state.value.get("revision", 0)) if state else 0


def stored_rows(session: Session, source: str | None = None) -> list[tuple[str, VariantRow]]:
    """(source, row) for every stored row, bad ones included, in precedence order."""
    query = select(ProductVariant)
    if source is not None:
        query = query.where(ProductVariant.source == source)
    found = session.scalars(query).all()
    order = {name: index for index, name in enumerate(SOURCES)}
    found = sorted(found, key=lambda v: (order.get(v.source, len(order)), v.row, v.id))
    return [(v.source, _row(v)) for v in found]


def _row(found: ProductVariant) -> VariantRow:
    return VariantRow(
        found.row,
        found.sku,
        found.provider,
        found.provider_sku,
        found.product_key,
        tuple(str(c) for c in found.countries),
        found.problem,
        found.note,
    )


def load_table(session: Session) -> VariantTable:
    """The routing rows at the current revision."""
    revision = table_revision(session)
    return VariantTable((row for _, row in stored_rows(session)), revision)
