"""A store's shipping table in the config: what the customer paid for, as each
provider calls it.

    [stores.main.shipping.methods]      # the store's method id, id:instance or title
    "flat_rate" = "standard"
    "Express Shipping" = "express"

    [stores.main.shipping.speeds]       # a speed with its own countdown is a rush speed
    express = { countdown_hours = 2 }

    [stores.main.shipping.providers.customcat]   # speed -> the provider's method
    standard = "Economy"
    express = "Expedited"

pydantic checks the shape and ranges; `shipping_problems` checks what refers to
what (speed names, providers) and `Settings.check_references` raises them all
at load. What is valid but incomplete (a speed a provider has no method for)
is a gap (`podops.speeds.shipping_gaps`): orders it concerns are held, and
`podops status` and `podops stores check` list it.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from pydantic import BaseModel, ConfigDict, Field

STANDARD = "standard"
"""The speed every store knows: its own `countdown_hours`, the provider's usual method."""
SPEED_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
MAX_METHOD_KEY = 200
"""The longest store method id or title a table may name (the column holds 200)."""
MAX_PROVIDER_METHOD = 128
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class SpeedConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    countdown_hours: float | None = Field(default=None, ge=0, le=24 * 30)
    """Hours from placing to submission at this speed (0: at the next tick); none: the
    store's countdown_hours. A speed with its own countdown is a rush speed."""


class ShippingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    methods: dict[str, str] = Field(default_factory=dict)
    """The store's shipping method (id, `id:instance` or title, any case) -> speed."""
    speeds: dict[str, SpeedConfig] = Field(default_factory=dict)
    providers: dict[str, dict[str, str]] = Field(default_factory=dict)
    """Provider name -> speed -> that provider's shipping method."""

    @property
    def configured(self) -> bool:
        """Without methods the store's orders ship standard, as before the table."""
        return bool(self.methods)

    def known_speeds(self) -> list[str]:
        """Speeds staff may choose for this store's orders: standard first."""
        return [STANDARD, *sorted(set(self.speeds) - {STANDARD})]


def method_key(text: str) -> str:
    """A store method as tables compare it: case and spacing ignored."""
    return " ".join(text.split()).casefold()


def shipping_problems(store: str, table: ShippingConfig, providers: Collection[str]) -> list[str]:
    """What in one store's table names something that does not exist, in words."""
    where = f"stores.{store}.shipping"
    problems: list[str] = []
    for name, config in table.speeds.items():
        if not SPEED_NAME.match(name):
            problems.append(
                f"{where}.speeds: speed name {name!r} must be lowercase letters, digits, "
                "- and _ (staff type it: podops edit N shipping=express)"
            )
        if name == STANDARD and config.countdown_hours is not None:
            problems.append(
                f"{where}.speeds.standard: standard uses the store's countdown_hours; "
                "give a rush speed its own name"
            )
    known = table.known_speeds()
    seen: dict[str, str] = {}
    for method, speed in table.methods.items():
        key = method_key(method)
        if not key or len(method) > MAX_METHOD_KEY or _CONTROL.search(method):
            problems.append(
                f"{where}.methods: {method[:40]!r} is not a shipping method name "
                f"(1 to {MAX_METHOD_KEY} printable characters)"
            )
        elif key in seen:
            problems.append(
                f"{where}.methods: {seen[key]!r} and {method!r} are the same method "
                "(case and spaces are ignored); keep one"
            )
        seen.setdefault(key, method)
        if speed not in known:
            problems.append(
                f"{where}.methods.{method!r}: unknown speed {speed!r}; declare it under "
                f"{where}.speeds or use one of: {', '.join(known)}"
            )
    for provider, methods in table.providers.items():
        if provider not in providers:
            problems.append(
                f"{where}.providers.{provider}: no provider named {provider!r}; "
                f"expected one of {sorted(providers)}"
            )
        for speed, method in methods.items():
            if speed not in known:
                problems.append(
                    f"{where}.providers.{provider}.{speed}: unknown speed {speed!r}; "
                    f"known: {', '.join(known)}"
                )
            if not method.strip() or len(method) > MAX_PROVIDER_METHOD or _CONTROL.search(method):
                problems.append(
                    f"{where}.providers.{provider}.{speed}: the provider's method must be "
                    f"1 to {MAX_PROVIDER_METHOD} printable characters"
                )
    return problems
