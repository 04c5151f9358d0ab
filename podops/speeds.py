"""Shipping speed: the store's shipping line as a speed, its countdown, and each
provider's method for it.

A store's table (`stores.NAME.shipping`, see `podops.shipping_settings`) maps
the method the customer chose (WooCommerce `method_id`, `method_id:instance_id`
or `method_title`; the CSV `shipping` column) to a speed name. A speed with its
own `countdown_hours` is a *rush* speed: its orders are submitted on that
countdown instead of the store's, and every card and row flags them. Each
provider names its methods its own way; the table maps speed -> method per
provider. `standard` falls back to the provider's `shipping_method` (or the
adapter's default); any other speed without a method for the order's provider
holds the order for a person instead of shipping it slower than paid for.
Providers made by the shop (manual) or test mode (sandbox) take the speed name
itself. A store without a table ships everything standard, as before.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from podops.shipping_settings import STANDARD, ShippingConfig, method_key

if TYPE_CHECKING:
    from podops.incoming import IncomingOrder
    from podops.settings import Settings

UNMAPPED_PROBLEM = re.compile(r"^shipping method .* has no mapping for ")
"""How a shipping problem on an order reads: set apart from other problems by it."""
NO_METHOD = "(no shipping line)"
"""How an order without a shipping line is named in words."""
SELF_MADE_KINDS = frozenset({"manual", "sandbox"})
"""Provider kinds that need no method table: the speed name itself is passed on."""


def is_shipping_problem(problem: object) -> bool:
    return isinstance(problem, str) and UNMAPPED_PROBLEM.match(problem) is not None


def shown_method(method_id: str, title: str) -> str:
    """The store's method as staff recognise it: the title, else the id."""
    return title.strip() or method_id.strip() or NO_METHOD


def speed_words(speed: str | None, method_id: str, title: str) -> str:
    """The speed an order ships at, for people: `express (Express Shipping)`, or what is
    missing (`no speed for 'Overnight Air': set it`)."""
    shown = shown_method(method_id, title)
    if speed is None:
        return f"no speed for {shown!r}: set it"
    if shown == NO_METHOD or method_key(shown) == method_key(speed):
        return speed
    return f"{speed} ({shown})"


@dataclass(frozen=True, slots=True)
class SpeedChoice:
    """What the store's shipping line means for one order."""

    speed: str | None
    """None: the table does not know the store's method."""
    rush: bool
    countdown_hours: float


@dataclass(frozen=True, slots=True)
class ReceivedSpeed:
    """A new order's speed: the choice, why it cannot go out (if so), its columns."""

    choice: SpeedChoice
    problem: str | None
    columns: dict[str, Any]


class ShippingTable:
    """One store's shipping table, ready for lookups (built once from the config)."""

    def __init__(
        self,
        store: str,
        config: ShippingConfig | None = None,
        *,
        countdown_hours: float = 24.0,
        provider_defaults: Mapping[str, str] | None = None,
        self_made: Iterable[str] = (),
    ) -> None:
        config = config or ShippingConfig()
        self.store = store
        self.configured = config.configured
        self.store_countdown_hours = countdown_hours
        self._methods = {method_key(k): v for k, v in config.methods.items()}
        self._countdowns = {
            name: speed.countdown_hours
            for name, speed in config.speeds.items()
            if speed.countdown_hours is not None
        }
        self._provider_methods = {p: dict(m) for p, m in config.providers.items()}
        self._provider_defaults = dict(provider_defaults or {})
        self._self_made = frozenset(self_made)
        self.speeds = config.known_speeds()

    # The store's line -> a speed ------------------------------------------------

    def speed_for(self, method_id: str, title: str) -> str | None:
        """The speed of the store's method: by `id:instance`, then id, then title."""
        if not self.configured or not (method_id.strip() or title.strip()):
            return STANDARD
        candidates = [method_id, method_id.split(":", 1)[0], title]
        for candidate in candidates:
            found = self._methods.get(method_key(candidate)) if candidate.strip() else None
            if found is not None:
                return found
        return None

    def is_rush(self, speed: str | None) -> bool:
        return speed in self._countdowns

    def countdown_hours(self, speed: str | None) -> float:
        """The speed's own countdown, else the store's (an unknown speed waits the store's)."""
        own = self._countdowns.get(speed or "")
        return self.store_countdown_hours if own is None else own

    def choose(self, method_id: str, title: str) -> SpeedChoice:
        speed = self.speed_for(method_id, title)
        return SpeedChoice(speed, self.is_rush(speed), self.countdown_hours(speed))

    # A speed -> the provider's method -----------------------------------------

    def provider_method(self, speed: str | None, provider: str) -> str | None:
        """What `provider` is sent for `speed`; "" is the provider's usual method;
        None: nothing maps it (the order must wait for a person)."""
        if speed is None:
            return None
        mapped = self._provider_methods.get(provider, {}).get(speed)
        if mapped:
            return mapped
        if speed == STANDARD:
            return self._provider_defaults.get(provider, "")
        if provider in self._self_made:
            return speed
        return None

    def problem(
        self, speed: str | None, method_id: str, title: str, providers: Iterable[str]
    ) -> str | None:
        """Why the order cannot go out at the speed paid for, in words; None when it can."""
        shown = shown_method(method_id, title)
        for provider in providers:
            if self.provider_method(speed, provider) is not None:
                continue
            if speed is None:
                why = f"not in stores.{self.store}.shipping.methods"
            else:
                why = f"speed {speed} has no {provider} method"
            return f"shipping method {shown!r} has no mapping for {provider} ({why})"
        return None

    def refusal(self, wanted: str) -> str | None:
        """Why `wanted` is not a speed staff may set, naming the known ones; None if it is."""
        if wanted in self.speeds:
            return None
        shown = repr(wanted) if wanted else "(empty)"
        return f"unknown shipping speed {shown}; known speeds: {', '.join(self.speeds)}"


def speed_at_receipt(
    table: ShippingTable, incoming: IncomingOrder, providers: Iterable[str]
) -> ReceivedSpeed:
    """What the store's shipping line makes of a new order going to `providers`."""
    method_id, title = incoming.shipping_method_id, incoming.shipping_method
    choice = table.choose(method_id, title)
    columns = {
        "shipping_method_id": method_id,
        "shipping_method": title,
        "shipping_speed": choice.speed,
        "rush": choice.rush,
    }
    return ReceivedSpeed(choice, table.problem(choice.speed, method_id, title, providers), columns)


def shipping_gaps(
    stores: Mapping[str, tuple[ShippingConfig, Iterable[str]]],
    self_made: Iterable[str],
) -> list[str]:
    """Valid but incomplete tables, in words: a speed one of the store's providers has
    no method for. `stores`: name -> (its table, the providers its orders may go to)."""
    made_here = frozenset(self_made)
    gaps: list[str] = []
    for name, (config, providers) in sorted(stores.items()):
        if not config.configured:
            continue
        for provider in sorted(set(providers) - made_here):
            methods = config.providers.get(provider, {})
            missing = [s for s in config.known_speeds() if s != STANDARD and s not in methods]
            if missing:
                gaps.append(
                    f"stores.{name}.shipping.providers.{provider}: no method for "
                    f"{', '.join(missing)}; such orders going to {provider} are held"
                )
    return gaps


def config_gaps(settings: Settings) -> list[str]:
    """`shipping_gaps` of every store, with the providers its orders may go to (its
    default provider and every routing rule's)."""
    routed = {rule.provider for rule in settings.routing}
    self_made = {n for n, p in settings.providers.items() if p.kind in SELF_MADE_KINDS}
    stores = {
        name: (store.shipping, {store.default_provider, *routed})
        for name, store in settings.stores.items()
    }
    return shipping_gaps(stores, self_made)
