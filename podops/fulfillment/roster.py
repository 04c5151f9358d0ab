"""The configured fulfillment providers, and what each is sent for an order.

One object shared by everything that talks to providers: the countdown
(`countdown.Submitter`) sends orders, the follow-up
(`followup.ProviderFollowUp`) polls and cancels them, and a late design change
(`late_design`) sends new print files. All of them look a provider up by name
with the same refusal and build the same request for a fulfillment (print-file
links, a callback URL for providers that push tracking, and the provider's
shipping method for the order's speed, from the stores' shipping tables).
"""

from __future__ import annotations

from collections.abc import Mapping

from podops.errors import InvalidInput
from podops.fulfillment.callbacks import CallbackSigner
from podops.fulfillment.claim import build_request
from podops.models import Fulfillment, Order
from podops.ports.fulfillment import FulfillmentProvider, PrintFileLinks, SubmitRequest
from podops.routing import ShopPolicy
from podops.services.shipping_speed import shipping_problem


class ProviderRoster:
    """Provider adapters by name, the print-file links they download, their callbacks."""

    def __init__(
        self,
        providers: Mapping[str, FulfillmentProvider],
        links: PrintFileLinks,
        callbacks: CallbackSigner | None = None,
        policy: ShopPolicy | None = None,
    ) -> None:
        self.by_name = dict(providers)
        self.links = links
        self.callbacks = callbacks
        self.policy = policy
        """The stores' shipping tables (None: every order gets the provider's usual method)."""

    def provider(self, name: str | None) -> FulfillmentProvider:
        """The adapter called `name`, or a refusal naming the configured ones."""
        if name is None or name not in self.by_name:
            known = ", ".join(sorted(self.by_name)) or "none"
            raise InvalidInput(f"no provider named {name!r} is configured (configured: {known})")
        return self.by_name[name]

    def request_for(self, part: Fulfillment) -> SubmitRequest:
        """What the provider gets for one fulfillment, with its callback URL where one
        is used (per fulfillment: its own reference)."""
        provider = self.provider(part.provider)
        callback = ""
        if self.callbacks is not None and provider.capabilities.pushes_tracking:
            callback = self.callbacks.url_for(provider.name, part.reference)
        return build_request(part, self.links, callback, self.shipping_method(part))

    def shipping_method(self, part: Fulfillment) -> str:
        """The fulfillment's provider's method for the order's speed ("" : its usual one)."""
        if self.policy is None:
            return ""
        order = part.order
        table = self.policy.store(order.store.key).shipping
        return table.provider_method(order.shipping_speed, part.provider) or ""

    def shipping_problem(self, order: Order) -> str | None:
        """Why the order cannot go out at the speed paid for (None: it can)."""
        if self.policy is None:
            return None
        return shipping_problem(order, self.policy.store(order.store.key).shipping)
