"""Reading Products rows (`sku, provider, provider_sku, product_key[, countries]`),
from a CSV file or the sheet's Products tab: pure checks, a reason per bad row.

A bad row never drops the good ones: each row is judged on its own, and two rows
that send one SKU (for the same destinations) to different places are both refused,
since neither can be trusted; that SKU then goes by the config's routing rules.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace

from podops.countries import check_country, expand

COLUMNS: tuple[str, ...] = ("sku", "provider", "provider_sku", "product_key", "countries")
REQUIRED: tuple[str, ...] = COLUMNS[:4]
_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060"), None)
_PATTERN_CHARACTERS = frozenset("*?[]")


@dataclass(frozen=True, slots=True)
class VariantRow:
    """One row as typed, with what keeps it from routing (`problem`) and a warning
    that does not (`note`)."""

    row: int
    sku: str
    provider: str
    provider_sku: str
    product_key: str
    countries: tuple[str, ...] = ()
    """ISO codes or groups ("EU") as typed, upper case; empty: every destination."""
    problem: str = ""
    note: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem

    @property
    def target(self) -> tuple[str, str, str]:
        return (self.provider, self.provider_sku, self.product_key)

    @property
    def destinations(self) -> frozenset[str]:
        """The ISO codes the row is for (groups expanded); empty: all."""
        return expand(list(self.countries))

    def refused(self, problem: str) -> VariantRow:
        return replace(self, problem=problem)

    def noted(self, note: str) -> VariantRow:
        return replace(self, note=f"{self.note}; {note}" if self.note else note)


def clean(value: object) -> str:
    """A cell's text without invisible characters and stray whitespace."""
    text = "" if value is None else str(value)
    text = text.translate(_INVISIBLE).replace("\u00a0", " ")
    return " ".join(text.split())


def is_blank(cells: Sequence[object]) -> bool:
    return not any(clean(c) for c in cells[: len(COLUMNS)])


def result_text(row: VariantRow) -> str:
    """What staff see beside the row: `ok`, `ok; <warning>` or `error: <reason>`."""
    if row.problem:
        return f"error: {row.problem}"
    return f"ok; {row.note}" if row.note else "ok"


def read_rows(
    rows: Sequence[tuple[int, Sequence[object]]],
    *,
    providers: Collection[str],
    template_problem: Callable[[str], str | None],
) -> list[VariantRow]:
    """Each (row number, cells) read and checked; blank rows are left out."""
    read = [_read_row(n, cells, providers, template_problem) for n, cells in rows]
    return _refuse_conflicts([r for r in read if r is not None])


def _read_row(
    number: int,
    cells: Sequence[object],
    providers: Collection[str],
    template_problem: Callable[[str], str | None],
) -> VariantRow | None:
    if is_blank(cells):
        return None
    values = [clean(c) for c in cells[: len(COLUMNS)]]
    values += [""] * (len(COLUMNS) - len(values))
    sku, provider, code, key, countries = values
    row = VariantRow(number, sku, provider, code, key)
    problem = _problem(values, providers, template_problem)
    if problem:
        return row.refused(problem)
    try:
        listed = tuple(check_country(c) for c in countries.replace(",", " ").split())
    except ValueError as exc:
        return row.refused(str(exc))
    return replace(row, countries=listed)


def _problem(
    values: list[str], providers: Collection[str], template_problem: Callable[[str], str | None]
) -> str:
    """The first reason the row cannot route, or ""."""
    empty = [n for n, v in zip(COLUMNS, values, strict=True) if n in REQUIRED and not v]
    if empty:
        return f"{', '.join(empty)} {'is' if len(empty) == 1 else 'are'} empty"
    formula = next((v for v in values if v.startswith("=")), "")
    if formula:
        return f"{formula[:40]} is a formula; type the value instead"
    sku, provider, _code, key, _countries = values
    if _PATTERN_CHARACTERS & set(sku):
        return (
            f"the Products table takes exact SKUs, not patterns ({sku}); "
            "patterns belong in the config's [[routing]] rules"
        )
    if provider not in providers:
        known = ", ".join(sorted(providers)) or "none configured"
        return f"unknown provider {provider!r} (providers: {known})"
    return template_problem(key) or ""


def _refuse_conflicts(rows: list[VariantRow]) -> list[VariantRow]:
    """Refuse both rows of a SKU sent to two targets for a shared destination; a row
    repeating another exactly is kept, with a note."""
    judged = list(rows)
    seen: dict[str, list[int]] = {}
    for index, row in enumerate(rows):
        if not row.ok:
            continue
        for earlier in seen.setdefault(row.sku.upper(), []):
            first = rows[earlier]
            if not _overlap(first, row):
                continue
            if first.target == row.target:
                judged[index] = judged[index].noted(f"repeats row {first.row}")
                continue
            judged[index] = judged[index].refused(_conflict(row.sku, first))
            if judged[earlier].ok:
                judged[earlier] = judged[earlier].refused(_conflict(row.sku, row))
        seen[row.sku.upper()].append(index)
    return judged


def _overlap(a: VariantRow, b: VariantRow) -> bool:
    first, second = a.destinations, b.destinations
    return not first or not second or bool(first & second)


def _conflict(sku: str, other: VariantRow) -> str:
    provider, code, key = other.target
    return (
        f"SKU {sku} is also on row {other.row} with another target ({provider} {code}, "
        f"template {key}); keep one, until then the routing rules decide"
    )
