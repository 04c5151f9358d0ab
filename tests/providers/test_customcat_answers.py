"""CustomCat's refusals carry their reason in the `X-FAIL-MESSAGE` header (with an
empty body): podops shows that reason, and its duplicate and not-found detections
read it too."""

from __future__ import annotations

import httpx
import pytest

from podops.errors import ProviderError
from podops.ports.fulfillment import DuplicateReference, RequestItem, SubmitRequest
from podops.settings import ProviderConfig
from providers.customcat import CustomCatProvider

REQUEST = SubmitRequest(
    reference="main-1",
    order_number="1",
    customer_name="Ana Smith",
    email="ana@example.com",
    phone="",
    address={"first_name": "Ana", "address_1": "1 Main St", "postcode": "62701"},
    items=(RequestItem("1-01", "TEE", "TEE-CC", "Tee", 1, "https://files.test/1-01.png"),),
)


def refusing(status: int, reason: str) -> CustomCatProvider:
    """CustomCat answering every request as it refuses: the header, no body."""
    answer = httpx.Response(status, headers={"X-FAIL-MESSAGE": reason})
    client = httpx.Client(
        base_url="https://customcat.test", transport=httpx.MockTransport(lambda _: answer)
    )
    return CustomCatProvider("cc", client, ProviderConfig(kind="customcat", api_key="k"))


def test_the_refusal_reason_is_read_from_the_header_not_shown_as_a_bare_status() -> None:
    with pytest.raises(ProviderError) as refused:
        refusing(400, "Invalid catalog_sku TEE-CC").submit(REQUEST)
    assert (
        refused.value.message
        == "CustomCat (cc) refused the order (400): Invalid catalog_sku TEE-CC"
    )
    assert refused.value.retryable is False


def test_a_duplicate_order_id_in_the_header_means_the_order_exists() -> None:
    with pytest.raises(DuplicateReference):
        refusing(400, "Order ID main-1 already exists").submit(REQUEST)


@pytest.mark.parametrize("status", [400, 404])
def test_an_order_not_found_in_the_header_is_no_order(status: int) -> None:
    assert refusing(status, "Order not found").find_by_reference("main-1") is None


def test_a_cancel_refusal_is_worded_from_the_header() -> None:
    refused = refusing(400, "Order is In Production and can no longer be cancelled")
    outcome = refused.cancel("77", reference="main-1")
    assert outcome.message.endswith(
        "refused: Order is In Production and can no longer be cancelled"
    )
