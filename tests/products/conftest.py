"""A shop whose Products table is read from a CSV file and the sheet's Products tab,
checked against a provider with a catalog (an in-test one implementing the port)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from podops.db import Database
from podops.ports.fulfillment import ProductCatalog
from podops.products.imports import ProductChecks
from podops.products.live import LiveTable
from podops.routing import ShopPolicy
from podops.settings import ProductsConfig, RoutingRule, Settings, StoreConfig

TEMPLATES = ("mug-11oz", "tee-front")


class CatalogProvider:
    """A provider's catalog as the port describes it: knows a fixed set of codes."""

    def __init__(self, known: Collection[str]) -> None:
        self.known = set(known)
        self.asked: list[list[str]] = []

    def unknown_codes(self, codes: Collection[str]) -> dict[str, str]:
        self.asked.append(sorted(codes))
        return {code: "variant not found" for code in codes if code not in self.known}


def template_problem(key: str) -> str | None:
    return None if key in TEMPLATES else f"no print template for product '{key}'"


@dataclass
class Shop:
    """What the Products readers ask of the running application (`ports.context.Products`)."""

    settings: Settings
    db: Database
    catalog: CatalogProvider
    product_table: LiveTable
    catalogs: dict[str, ProductCatalog | None] = field(default_factory=dict)

    @property
    def product_checks(self) -> ProductChecks:
        catalogs = {"printful": self.catalog, "customcat": None, **self.catalogs}
        return ProductChecks(tuple(self.settings.providers), template_problem, catalogs)

    @property
    def policy(self) -> ShopPolicy:
        return ShopPolicy.from_settings(self.settings, variants=self.product_table)

    @property
    def csv(self) -> Path:
        return self.settings.resolve(self.settings.products.csv)


def settings_for(data_dir: Path) -> Settings:
    return Settings.model_validate(
        {
            "data_dir": data_dir,
            "stores": {"main": StoreConfig(platform="sandbox", default_provider="customcat")},
            "providers": {"printful": {"kind": "printful"}, "customcat": {"kind": "customcat"}},
            "routing": [
                RoutingRule(sku="TEE-*", provider="customcat", provider_sku="CC-TEE"),
            ],
            "products": ProductsConfig(csv="products.csv"),
        }
    )


@pytest.fixture
def shop(db: Database, tmp_path: Path) -> Shop:
    catalog = CatalogProvider({"4012", "4013", "4014"})
    return Shop(settings_for(tmp_path), db, catalog, LiveTable(db, refresh_s=0))
