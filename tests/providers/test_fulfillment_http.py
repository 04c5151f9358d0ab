"""What the HTTP fulfillment adapters share (providers/fulfillment_http.py): the API-key
check when an adapter is built and the reading of a cancel answer, worded alike at
every provider."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from podops.errors import ConfigError, ProviderError
from podops.ports.fulfillment import CancelOutcome, FulfillmentProvider
from podops.settings import ProviderConfig
from providers.customcat import CustomCatProvider
from providers.printful import PrintfulProvider
from providers.shineon import ShineOnProvider

Adapter = Callable[[str, httpx.Client, ProviderConfig], FulfillmentProvider]
ADAPTERS: list[tuple[Adapter, str, str, str]] = [
    (CustomCatProvider, "customcat", "CustomCat (cc)", "CustomCat's Write key"),
    (ShineOnProvider, "shineon", "ShineOn (cc)", "the token from app.shineon.com/settings/api"),
    (
        PrintfulProvider,
        "printful",
        "Printful (cc)",
        "a private token from developers.printful.com/tokens",
    ),
]


@pytest.mark.parametrize(("adapter", "kind", "who", "where"), ADAPTERS)
@pytest.mark.parametrize("key", [None, ""])
def test_an_adapter_without_its_api_key_names_the_variable_to_set(
    adapter: Adapter, kind: str, who: str, where: str, key: str | None
) -> None:
    config = ProviderConfig(kind=kind, api_key=key)  # type: ignore[arg-type]
    with httpx.Client() as client, pytest.raises(ConfigError) as missing:
        adapter("cc", client, config)
    assert missing.value.message == (
        f"providers.cc.api_key is missing; set PODOPS_PROVIDERS__CC__API_KEY to {where}"
    )


def _answering(adapter: Adapter, kind: str, response: httpx.Response) -> FulfillmentProvider:
    """The adapter with a key, its HTTP client answering every request with `response`."""
    transport = httpx.MockTransport(lambda request: response)
    client = httpx.Client(base_url="https://provider.test", transport=transport)
    return adapter("cc", client, ProviderConfig(kind=kind, api_key="secret-key"))  # type: ignore[arg-type]


@pytest.mark.parametrize(("adapter", "kind", "who", "where"), ADAPTERS)
def test_a_cancel_answer_reads_the_same_at_every_provider(
    adapter: Adapter, kind: str, who: str, where: str
) -> None:
    accepted = _answering(adapter, kind, httpx.Response(202, json={}))
    assert accepted.cancel("77", reference="main-1") == CancelOutcome(True, f"cancelled at {who}")
    in_production = httpx.Response(409, json={"message": "order is in production"})
    refused = _answering(adapter, kind, in_production).cancel("77", reference="main-1")
    assert refused == CancelOutcome(False, f"{who} refused: order is in production")
    bad_key = _answering(adapter, kind, httpx.Response(401, json={"error": "unauthorized"}))
    with pytest.raises(ProviderError, match=r"refused our API key \(401\)") as raised:
        bad_key.cancel("77", reference="main-1")
    assert raised.value.retryable is False
    assert "secret-key" not in raised.value.message
