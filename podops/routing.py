"""Which provider makes which product: the Products table (exact SKUs staff keep in a
CSV file or the sheet) first, then SKU patterns (and destination countries) from the
config, per-store defaults, and each store's shipping table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from functools import lru_cache

from podops.countries import expand
from podops.products.table import VariantTable
from podops.settings import RoutingRule, Settings
from podops.speeds import SELF_MADE_KINDS, ShippingTable


@dataclass(frozen=True, slots=True)
class Route:
    provider: str
    provider_sku: str
    product_key: str
    matched: bool
    other_countries: bool = False
    """No rule matched, though some rule has this SKU for other destination countries."""


@dataclass(frozen=True, slots=True)
class StorePolicy:
    countdown_hours: float
    default_provider: str
    max_line_quantity: int = 100
    """A line asking for more is held for a person (a typo, or a customer testing the shop)."""
    shipping_table: ShippingTable | None = None
    """The store's shipping speeds (None: every order ships standard on the countdown)."""
    fallback_out_of_stock: bool = False
    """A variant refused as out of stock goes by the next matching routing rule."""

    @property
    def shipping(self) -> ShippingTable:
        if self.shipping_table is not None:
            return self.shipping_table
        return _plain_table(self.countdown_hours)


@lru_cache(maxsize=64)
def _plain_table(countdown_hours: float) -> ShippingTable:
    """A store without a table: every order standard, on the store's countdown."""
    return ShippingTable("", countdown_hours=countdown_hours)


@dataclass(frozen=True, slots=True)
class _Rule:
    """A routing rule ready for matching: its pattern upper-cased, its countries expanded."""

    pattern: str
    countries: frozenset[str]
    rule: RoutingRule


class ShopPolicy:
    """The business settings services need, without the rest of the config."""

    def __init__(
        self,
        stores: dict[str, StorePolicy],
        rules: list[RoutingRule],
        default_countdown_hours: float = 24.0,
        variants: Callable[[], VariantTable] | None = None,
    ) -> None:
        self.stores = stores
        self.rules = rules
        self.default_countdown_hours = default_countdown_hours
        self.variants = variants
        """The Products table as it is now (`podops.products.live.LiveTable`); None: none."""
        self._rules = [_Rule(r.sku.upper(), expand(r.countries), r) for r in rules]
        self._routes: dict[tuple[str, str, str], Route] = {}

    @classmethod
    def from_settings(
        cls, settings: Settings, variants: Callable[[], VariantTable] | None = None
    ) -> ShopPolicy:
        defaults = {name: p.shipping_method for name, p in settings.providers.items()}
        self_made = [n for n, p in settings.providers.items() if p.kind in SELF_MADE_KINDS]
        stores = {
            name: StorePolicy(
                store.countdown_hours,
                store.default_provider,
                store.max_line_quantity,
                ShippingTable(
                    name,
                    store.shipping,
                    countdown_hours=store.countdown_hours,
                    provider_defaults=defaults,
                    self_made=self_made,
                ),
                store.fallback_when_out_of_stock,
            )
            for name, store in settings.stores.items()
        }
        return cls(stores, list(settings.routing), variants=variants)

    def store(self, key: str) -> StorePolicy:
        return self.stores.get(key, StorePolicy(self.default_countdown_hours, "manual"))

    def route(self, store: str, sku: str, country: str = "") -> Route:
        """The Products table's row for the SKU and destination, else the first rule
        matching them (cached), else the store's default provider."""
        table = self.variants() if self.variants is not None else None
        row = table.find(sku, country) if table else None
        if row is not None:
            return Route(row.provider, row.provider_sku, row.product_key, True)
        key = (store, sku, country)
        found = self._routes.get(key)
        if found is None:
            found = self._routes[key] = self._match(store, sku, country.strip().upper())
        if table and not self.rules:
            # The table is the shop's routing: a SKU it lacks is not sent by default.
            found = replace(found, matched=False)
        if table and not found.matched and table.elsewhere(sku):
            found = replace(found, other_countries=True)
        return found

    def fallback_route(
        self, store: str, sku: str, product_key: str, tried: set[str], country: str = ""
    ) -> Route | None:
        """The next rule for `sku` (and the destination country) once the providers in
        `tried` refused it as out of stock: the first matching rule of another provider
        that makes the same product (its print file fits), when the store allows
        falling back; else None."""
        if not self.store(store).fallback_out_of_stock:
            return None
        wanted, country = sku.upper(), country.strip().upper()
        row = self.variants().find(sku, country) if self.variants is not None else None
        if row is not None and row.provider not in tried and row.product_key == product_key:
            return Route(row.provider, row.provider_sku, row.product_key, True)
        for rule in self._rules:
            found = rule.rule
            if (
                fnmatchcase(wanted, rule.pattern)
                and (not rule.countries or country in rule.countries)
                and found.provider not in tried
                and found.product_key == product_key
            ):
                return Route(found.provider, found.provider_sku or sku, found.product_key, True)
        return None

    def _match(self, store: str, sku: str, country: str) -> Route:
        wanted = sku.upper()
        elsewhere = False
        for rule in self._rules:
            if not fnmatchcase(wanted, rule.pattern):
                continue
            if rule.countries and country not in rule.countries:
                elsewhere = True
                continue
            found = rule.rule
            return Route(found.provider, found.provider_sku or sku, found.product_key, True)
        default = self.store(store).default_provider
        return Route(default, sku, "", not self.rules, other_countries=elsewhere)
