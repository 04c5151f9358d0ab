"""Shared set-up for the Shopify tests: a fake shop, the real client, a Runtime."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from podops.db import Database
from podops.runtime.root import Runtime
from podops.settings import PersonalizationMapping, StoreConfig
from providers.shopify import ShopifyStore, build_client
from tests.fakes.shopify import ACCESS_TOKEN, CLIENT_SECRET, FakeShopify
from tests.intake.conftest import make_runtime


def shopify_config(url: str, **overrides: object) -> StoreConfig:
    values: dict[str, object] = {
        "platform": "shopify",
        "url": url,
        "shop": "podops-test.myshopify.com",
        "access_token": SecretStr(ACCESS_TOKEN),
        "client_secret": SecretStr(CLIENT_SECRET),
        "personalization": PersonalizationMapping(
            fields={"Name": "name", "Message": "message"}, images={"Photo": "photo"}
        ),
    }
    values.update(overrides)
    return StoreConfig(**values)  # type: ignore[arg-type]


def shopify_store(shop: FakeShopify, **overrides: object) -> ShopifyStore:
    config = shopify_config(shop.url, **overrides)
    return ShopifyStore("shop", config, build_client("shop", config, timeout=5.0))


def shopify_runtime(
    db: Database, tmp_path: Path, shop: FakeShopify, **overrides: object
) -> Runtime:
    config = shopify_config(shop.url, **overrides)
    runtime = make_runtime(db, tmp_path, {"shop": config})
    runtime._store_clients[1]["shop"] = ShopifyStore(
        "shop", config, build_client("shop", config, timeout=5.0)
    )
    return runtime
