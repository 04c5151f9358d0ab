"""Which rate a label is bought at: the store's rule, or what staff typed.

A store's rule (`[stores.NAME.labels]`) is `cheapest` or `fastest`, optionally
only among named carriers and services and never above `max_price`. Staff may
say `cheapest`, `fastest` or `CARRIER:SERVICE` (`USPS:Priority`) for one label;
the store's carriers, services and price cap still apply to cheapest and fastest,
while a named service is taken as named (a person chose it) unless it is dearer
than the cap. Pure: rates in, one rate or a refusal with what was offered out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from podops.errors import DomainRefusal, InvalidInput
from podops.label_settings import StoreLabels
from podops.ports.labels import Rate

MAX_RULE = 64


class NoRate(DomainRefusal):
    """No rate fits the rule: nothing is bought."""


@dataclass(frozen=True, slots=True)
class RateRule:
    kind: str
    """cheapest, fastest or named."""
    carriers: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    max_price: Decimal | None = None

    @classmethod
    def of_store(cls, config: StoreLabels) -> RateRule:
        return cls(config.rate, tuple(config.carriers), tuple(config.services), config.max_price)

    def override(self, typed: str | None) -> RateRule:
        """The rule for one label when staff typed `cheapest`, `fastest` or CARRIER:SERVICE."""
        if typed is None or not typed.strip():
            return self
        text = typed.strip()
        if len(text) > MAX_RULE:
            raise InvalidInput("that is not a rate: say cheapest, fastest or CARRIER:SERVICE")
        if text.lower() in ("cheapest", "fastest"):
            return RateRule(text.lower(), self.carriers, self.services, self.max_price)
        carrier, colon, service = text.partition(":")
        if not colon or not carrier.strip() or not service.strip():
            raise InvalidInput(
                f"{text!r} is not a rate: say cheapest, fastest or CARRIER:SERVICE "
                "(for example USPS:Priority)"
            )
        return RateRule("named", (carrier.strip(),), (service.strip(),), self.max_price)

    @property
    def words(self) -> str:
        if self.kind == "named":
            return f"{self.carriers[0]} {self.services[0]}"
        among = " ".join(filter(None, (", ".join(self.carriers), ", ".join(self.services))))
        cap = f" up to {self.max_price}" if self.max_price is not None else ""
        return f"{self.kind}{' of ' + among if among else ''}{cap}"


def pick_rate(rates: Sequence[Rate], rule: RateRule, messages: Sequence[str] = ()) -> Rate:
    """The rate `rule` chooses, or `NoRate` saying what was offered instead."""
    if not rates:
        why = "; ".join(dict.fromkeys(messages)) or "the carriers returned no rate"
        raise NoRate(f"no rate for this parcel: {why}")
    fitting = [rate for rate in rates if _fits(rate, rule)]
    if not fitting:
        offered = ", ".join(f"{r.name} {r.price}" for r in sorted(rates, key=lambda r: r.price))
        raise NoRate(f"no rate is {rule.words} (offered: {offered})")
    if rule.kind == "fastest":
        return min(fitting, key=lambda r: (r.delivery_days or 999, r.price))
    return min(fitting, key=lambda r: (r.price, r.delivery_days or 999))


def _fits(rate: Rate, rule: RateRule) -> bool:
    if rule.carriers and rate.carrier.lower() not in {c.lower() for c in rule.carriers}:
        return False
    if rule.services and rate.service.lower() not in {s.lower() for s in rule.services}:
        return False
    return rule.max_price is None or rate.price <= rule.max_price
