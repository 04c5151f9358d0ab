"""Which provider makes which product: SKU patterns from the config, per-store defaults."""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from podops.settings import RoutingRule, Settings


@dataclass(frozen=True, slots=True)
class Route:
    provider: str
    provider_sku: str
    product_key: str
    matched: bool


@dataclass(frozen=True, slots=True)
class StorePolicy:
    countdown_hours: float
    default_provider: str
    max_line_quantity: int = 100
    """A line asking for more is held for a person (a typo, or a customer testing the shop)."""
    fallback_out_of_stock: bool = False
    """A variant refused as out of stock goes by the next matching routing rule."""


class ShopPolicy:
    """The business settings services need, without the rest of the config."""

    def __init__(
        self,
        stores: dict[str, StorePolicy],
        rules: list[RoutingRule],
        default_countdown_hours: float = 24.0,
    ) -> None:
        self.stores = stores
        self.rules = rules
        self.default_countdown_hours = default_countdown_hours
        self._routes: dict[tuple[str, str], Route] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> ShopPolicy:
        stores = {
            name: StorePolicy(
                store.countdown_hours,
                store.default_provider,
                store.max_line_quantity,
                store.fallback_when_out_of_stock,
            )
            for name, store in settings.stores.items()
        }
        return cls(stores, list(settings.routing))

    def store(self, key: str) -> StorePolicy:
        return self.stores.get(key, StorePolicy(self.default_countdown_hours, "manual"))

    def route(self, store: str, sku: str) -> Route:
        key = (store, sku)
        found = self._routes.get(key)
        if found is None:
            found = self._routes[key] = self._match(store, sku)
        return found

    def fallback_route(
        self, store: str, sku: str, product_key: str, tried: set[str]
    ) -> Route | None:
        """The next rule for `sku` once the providers in `tried` refused it as out of
        stock: the first matching rule of another provider that makes the same product
        (its print file fits), when the store allows falling back; else None."""
        if not self.store(store).fallback_out_of_stock:
            return None
        for rule in self.rules:
            if (
                fnmatchcase(sku.upper(), rule.sku.upper())
                and rule.provider not in tried
                and rule.product_key == product_key
            ):
                return Route(rule.provider, rule.provider_sku or sku, rule.product_key, True)
        return None

    def _match(self, store: str, sku: str) -> Route:
        for rule in self.rules:
            if fnmatchcase(sku.upper(), rule.sku.upper()):
                return Route(rule.provider, rule.provider_sku or sku, rule.product_key, True)
        return Route(self.store(store).default_provider, sku, "", not self.rules)
