"""The Products table as routing reads it: exact SKU (and destination) -> row."""

from __future__ import annotations

from collections.abc import Iterable

from podops.products.rows import VariantRow


class VariantTable:
    """The rows that route (no problem), first source first: a SKU typed in the sheet's
    Products tab wins over the same SKU in the CSV file."""

    def __init__(self, rows: Iterable[VariantRow] = (), revision: int = 0) -> None:
        self.revision = revision
        self._by_sku: dict[str, list[tuple[frozenset[str], VariantRow]]] = {}
        for row in rows:
            if row.ok:
                self._by_sku.setdefault(row.sku.upper(), []).append((row.destinations, row))

    def __len__(self) -> int:
        return sum(len(found) for found in self._by_sku.values())

    def find(self, sku: str, country: str = "") -> VariantRow | None:
        """The first row for exactly this SKU (any case) and destination country."""
        wanted = country.strip().upper()
        for countries, row in self._by_sku.get(sku.strip().upper(), ()):
            if not countries or wanted in countries:
                return row
        return None

    def elsewhere(self, sku: str) -> bool:
        """True when the SKU has rows, for other destinations only (asked after `find`)."""
        return sku.strip().upper() in self._by_sku
