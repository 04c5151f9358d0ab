"""`podops templates check`, its provider half: is every product code that routing
sends (each [[routing]] rule's and each Products row's `provider_sku`) known to its
provider? Asked once per provider through its catalog (`ProductCatalog`); a provider
without one is said to be not checkable, never taken as "all known"."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from podops.ports.fulfillment import ProductCatalog
from podops.products.catalog import ask_catalogs
from podops.products.rows import VariantRow
from podops.settings import RoutingRule

_PATTERN_CHARACTERS = frozenset("*?[]")


@dataclass(frozen=True, slots=True)
class CodeUse:
    """One place that sends a code: `routing rule 3 (TEE-*)`, `Products csv row 4`."""

    where: str
    provider: str
    code: str


@dataclass(slots=True)
class CodeCheck:
    unknown: list[tuple[CodeUse, str]] = field(default_factory=list)
    """Each use of a code its provider refused, with the provider's reason."""
    unchecked: dict[str, str] = field(default_factory=dict)
    """Providers whose codes could not be checked, and why."""
    unconfigured: list[CodeUse] = field(default_factory=list)
    checked: int = 0
    """Codes a catalog answered for."""


def code_uses(
    rules: Sequence[RoutingRule], rows: Sequence[tuple[str, VariantRow]]
) -> list[CodeUse]:
    """Every code routing sends: rules first, then the Products rows that route."""
    uses: list[CodeUse] = []
    for number, rule in enumerate(rules, start=1):
        code = rule.provider_sku or rule.sku
        if not rule.provider_sku and _PATTERN_CHARACTERS & set(rule.sku):
            continue  # sends each order's own SKU: nothing to check before orders come
        uses.append(CodeUse(f"routing rule {number} ({rule.sku})", rule.provider, code))
    for source, row in rows:
        if row.ok:
            where = f"Products {source} row {row.row} ({row.sku})"
            uses.append(CodeUse(where, row.provider, row.provider_sku))
    return uses


def check_codes(
    uses: Sequence[CodeUse], catalogs: Mapping[str, ProductCatalog | None]
) -> CodeCheck:
    report = CodeCheck()
    wanted: dict[str, set[str]] = {}
    for use in uses:
        if use.provider not in catalogs:
            report.unconfigured.append(use)
        else:
            wanted.setdefault(use.provider, set()).add(use.code)
    answers = ask_catalogs(wanted, catalogs)
    for provider, answer in answers.items():
        if answer.unchecked:
            report.unchecked[provider] = answer.unchecked
        else:
            report.checked += len(wanted[provider])
    for use in uses:
        found = answers.get(use.provider)
        if found is not None and use.code in found.unknown:
            report.unknown.append((use, found.unknown[use.code]))
    return report
