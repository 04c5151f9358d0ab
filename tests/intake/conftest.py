"""Fixtures for intake: a running fake WooCommerce shop, the real client
pointed at it, and a Runtime whose stores are configured against it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from podops.db import Database
from podops.runtime.root import Runtime
from podops.settings import PersonalizationMapping, RoutingRule, Settings, StoreConfig
from providers.http import RetryPolicy
from providers.woocommerce import WooCommerceStore, build_client
from tests.fakes.tls import test_ca
from tests.fakes.woocommerce import CONSUMER_KEY, CONSUMER_SECRET, FakeWooCommerce

WEBHOOK_SECRET = "whsec-test-123"
FAST_RETRY = RetryPolicy(attempts=3, base_wait_s=0.01, max_wait_s=2.0)


@pytest.fixture
def shop() -> Iterator[FakeWooCommerce]:
    with FakeWooCommerce() as fake:
        yield fake


def store_config(url: str, **overrides: object) -> StoreConfig:
    values: dict[str, object] = {
        "platform": "woocommerce",
        "url": url,
        "countdown_hours": 24,
        "consumer_key": SecretStr(CONSUMER_KEY),
        "consumer_secret": SecretStr(CONSUMER_SECRET),
        "webhook_secret": SecretStr(WEBHOOK_SECRET),
        "ca_bundle": str(test_ca().bundle),
        "personalization": PersonalizationMapping(
            fields={"Name": "name", "Message": "message"}, images={"Photo": "photo"}
        ),
    }
    values.update(overrides)
    return StoreConfig(**values)  # type: ignore[arg-type]


@pytest.fixture
def woo(shop: FakeWooCommerce) -> Iterator[WooCommerceStore]:
    config = store_config(shop.url)
    client = WooCommerceStore(
        "main", config, build_client("main", config, timeout=2.0), retry=FAST_RETRY
    )
    yield client
    client.close()


def make_runtime(db: Database, tmp_path: Path, stores: dict[str, StoreConfig]) -> Runtime:
    settings = Settings(
        data_dir=tmp_path,
        stores=stores,
        routing=[
            RoutingRule(sku="TEE-*", provider="manual", product_key="tee_front"),
            RoutingRule(sku="MUG-*", provider="manual", product_key="mug_wrap"),
        ],
    )
    runtime = Runtime(settings)
    runtime.__dict__["db"] = db
    _, clients = runtime._store_clients
    for name, config in stores.items():
        if config.platform == "woocommerce":
            http = build_client(name, config, timeout=2.0)
            clients[name] = WooCommerceStore(name, config, http, retry=FAST_RETRY)
    return runtime


@pytest.fixture
def runtime(db: Database, tmp_path: Path, shop: FakeWooCommerce) -> Iterator[Runtime]:
    rt = make_runtime(db, tmp_path, {"main": store_config(shop.url)})
    yield rt
    for client in rt._store_clients[1].values():
        client.close()
