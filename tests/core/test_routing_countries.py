"""Routing by destination country: rules are tried in order, the first matching the SKU
and the shipping country wins; "EU" stands for the member states."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from podops import services
from podops.db import Database
from podops.routing import ShopPolicy
from podops.settings import RoutingRule, Settings
from podops.status import OrderStatus
from tests.factories import ADDRESS, SYSTEM, incoming

RULES = [
    {"sku": "TEE-*", "provider": "eu_print", "countries": ["EU", "gb"]},
    {"sku": "TEE-*", "provider": "cc", "product_key": "tee-front"},
    {"sku": "MUG-*", "provider": "eu_print", "countries": ["EU"]},
]


def _policy() -> ShopPolicy:
    settings = Settings(
        stores={"main": {"platform": "sandbox", "default_provider": "manual"}},
        providers={
            "cc": {"kind": "customcat"},
            "eu_print": {"kind": "manual"},
            "manual": {"kind": "manual"},
        },
        routing=RULES,
    )  # type: ignore[arg-type]
    settings.check_references()
    return ShopPolicy.from_settings(settings)


@pytest.mark.parametrize(
    ("country", "provider"),
    [("FR", "eu_print"), ("gr", "eu_print"), ("GB", "eu_print"), ("US", "cc"), ("", "cc")],
)
def test_the_first_rule_matching_sku_and_country_wins(country: str, provider: str) -> None:
    route = _policy().route("main", "TEE-BLK-M", country)
    assert (route.provider, route.matched) == (provider, True)


def test_a_sku_routed_only_elsewhere_is_held_naming_the_destination(db: Database) -> None:
    to_us = incoming("7001", shipping_address={**ADDRESS, "country": "US"})
    to_de = incoming("7002", shipping_address={**ADDRESS, "country": "DE"})
    with db.unit_of_work() as session:
        services.receive_orders(session, [to_us, to_de], _policy(), SYSTEM)
    with db.unit_of_work() as session:
        us = services.get_order(session, "7001")
        de = services.get_order(session, "7002")
        # The tee goes on to cc; the mug, routed only for other countries, stays here.
        assert OrderStatus(us.status) == OrderStatus.PENDING
        mug = next(item for item in us.items if item.sku == "MUG-11OZ")
        assert mug.provider is None
        assert "no routing rule for SKU MUG-11OZ shipping to US" in " ".join(mug.problems)
        assert us.provider == "cc", "the tee still goes to cc"
        assert OrderStatus(de.status) == OrderStatus.PENDING
        assert de.provider == "eu_print"


def test_the_route_cache_keeps_countries_apart() -> None:
    policy = _policy()
    assert policy.route("main", "TEE-1", "DE").provider == "eu_print"
    assert policy.route("main", "TEE-1", "US").provider == "cc"
    assert policy.route("main", "TEE-1", "DE").provider == "eu_print"


def test_a_country_that_is_not_an_iso_code_is_refused() -> None:
    with pytest.raises(ValidationError, match="unknown country 'Germany'"):
        RoutingRule(sku="*", provider="cc", countries=["Germany"])
    assert RoutingRule(sku="*", provider="cc", countries=[" de", "eu"]).countries == ["DE", "EU"]
