"""A refusal saying a variant is out of stock is a `VariantUnavailable` naming the SKUs
it mentions (CustomCat's header, ShineOn's 422), so another provider may take those
lines; any other refusal stays a plain one. The wording is assumed (docs/fulfillment.md)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from podops.errors import ProviderError
from podops.ports.fulfillment import RequestItem, SubmitRequest, VariantUnavailable
from podops.settings import ProviderConfig
from providers.customcat import CustomCatProvider
from providers.http import make_client
from providers.shineon import ShineOnProvider
from tests.fakes.shineon import TOKEN, FakeShineOn

REQUEST = SubmitRequest(
    reference="main-1",
    order_number="1",
    customer_name="Ana Smith",
    email="ana@example.com",
    phone="+1 217 555 0100",
    address={"first_name": "Ana", "address_1": "1 Main St", "postcode": "62701", "country": "US"},
    items=(
        RequestItem("1-01", "TEE", "CC-TEE", "Tee", 2, "https://files.test/1-01.png"),
        RequestItem("1-02", "TEE-XL", "CC-TEE-XL", "Tee XL", 1, "https://files.test/1-02.png"),
    ),
)


def customcat_refusing(reason: str) -> CustomCatProvider:
    answer = httpx.Response(400, headers={"X-FAIL-MESSAGE": reason})
    client = httpx.Client(
        base_url="https://customcat.test", transport=httpx.MockTransport(lambda _: answer)
    )
    return CustomCatProvider("cc", client, ProviderConfig(kind="customcat", api_key="k"))


def test_customcat_names_the_variant_it_has_not_in_stock() -> None:
    with pytest.raises(VariantUnavailable) as refused:
        customcat_refusing("catalog_sku CC-TEE-XL is out of stock").submit(REQUEST)
    assert refused.value.skus == ("CC-TEE-XL",)  # not CC-TEE, a prefix of it
    assert refused.value.retryable is False
    assert "out of stock" in refused.value.message


def test_an_out_of_stock_answer_naming_no_sku_names_none() -> None:
    with pytest.raises(VariantUnavailable) as refused:
        customcat_refusing("Item is Out-of-Stock").submit(REQUEST)
    assert refused.value.skus == ()


@pytest.mark.parametrize(
    "reason", ["Invalid catalog_sku CC-TEE", "Shipping address could not be verified"]
)
def test_other_refusals_stay_refusals(reason: str) -> None:
    with pytest.raises(ProviderError) as refused:
        customcat_refusing(reason).submit(REQUEST)
    assert not isinstance(refused.value, VariantUnavailable)


@pytest.fixture
def shineon() -> Iterator[FakeShineOn]:
    fake = FakeShineOn().start()
    yield fake
    fake.stop()


def test_shineon_names_the_variant_it_has_not_in_stock(shineon: FakeShineOn) -> None:
    shineon.out_of_stock_skus.add("CC-TEE")
    client = make_client(shineon.url, timeout=httpx.Timeout(2.0))
    provider = ShineOnProvider("so", client, ProviderConfig(kind="shineon", api_key=TOKEN))
    with pytest.raises(VariantUnavailable) as refused:
        provider.submit(REQUEST)
    client.close()
    assert refused.value.skus == ("CC-TEE",)
    assert shineon.created == {}
