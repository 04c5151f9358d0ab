"""Asking providers' catalogs whether they know product codes (a Products row's or a
routing rule's `provider_sku`), once per provider, outside any transaction.

A provider without a catalog podops can read is "not checkable" (said, never taken
for "all known"); a catalog that does not answer leaves its codes unchecked: a
Products row is kept then, with a note, since an outage is no verdict on a code.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from podops.errors import ProviderError
from podops.fulfillment.limits import LimitedProvider
from podops.ports.fulfillment import ProductCatalog
from podops.products.rows import VariantRow


@dataclass(frozen=True, slots=True)
class CatalogAnswer:
    """One provider's verdict on the codes asked: `unknown` with the provider's
    reasons, or `unchecked` saying why none could be checked."""

    provider: str
    unknown: dict[str, str] = field(default_factory=dict)
    unchecked: str = ""


def catalog_of(provider: object) -> ProductCatalog | None:
    """The provider's catalog: its own, or the one a wrapper (LimitedProvider) passes
    through; None when it has none."""
    if isinstance(provider, LimitedProvider):
        return provider.catalog
    return provider if isinstance(provider, ProductCatalog) else None


def ask_catalogs(
    codes: Mapping[str, Collection[str]], catalogs: Mapping[str, ProductCatalog | None]
) -> dict[str, CatalogAnswer]:
    """Each provider's answer for its codes (one call per provider)."""
    answers: dict[str, CatalogAnswer] = {}
    for provider, wanted in codes.items():
        catalog = catalogs.get(provider)
        if not wanted:
            continue
        if catalog is None:
            answers[provider] = CatalogAnswer(
                provider, unchecked=f"not checkable: {provider} has no catalog podops can read"
            )
            continue
        try:
            unknown = catalog.unknown_codes(sorted(set(wanted)))
        except ProviderError as exc:
            answers[provider] = CatalogAnswer(
                provider, unchecked=f"not checked: {provider}'s catalog did not answer ({exc})"
            )
            continue
        answers[provider] = CatalogAnswer(provider, unknown=dict(unknown))
    return answers


def check_catalogs(
    rows: list[VariantRow], catalogs: Mapping[str, ProductCatalog | None]
) -> list[VariantRow]:
    """The rows with codes their provider's catalog refuses marked as problems, and
    rows whose catalog could not be asked noted."""
    codes: dict[str, set[str]] = {}
    for row in rows:
        if row.ok:
            codes.setdefault(row.provider, set()).add(row.provider_sku)
    answers = ask_catalogs(codes, catalogs)
    judged: list[VariantRow] = []
    for row in rows:
        answer = answers.get(row.provider) if row.ok else None
        if answer is None:
            judged.append(row)
        elif row.provider_sku in answer.unknown:
            reason = answer.unknown[row.provider_sku]
            judged.append(row.refused(f"{row.provider} does not know {row.provider_sku}: {reason}"))
        elif answer.unchecked:
            judged.append(row.noted(answer.unchecked))
        else:
            judged.append(row)
    return judged
