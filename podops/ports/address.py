"""What the core needs from an address verification service (EasyPost's address API).

Before an order of a store with `verify_addresses` goes to its provider, its
shipping address is checked: an address the carrier cannot deliver to waits for
staff with the carrier's words, instead of being refused by the provider days
later. The adapter answers `AddressVerdict` for a checked address, and raises
`AddressServiceDown` when the service could not answer (an outage, a timeout,
a refused API key): the order is then checked again later, never lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from podops.errors import OutsideServiceError


@dataclass(frozen=True, slots=True)
class PostalAddress:
    """The address as the verifier needs it (free of ORM objects)."""

    name: str
    company: str
    line1: str
    line2: str
    city: str
    state: str
    postcode: str
    country: str
    phone: str = ""


@dataclass(frozen=True, slots=True)
class AddressVerdict:
    """The carrier's answer: deliverable, or not with its reasons in words."""

    deliverable: bool
    reasons: tuple[str, ...] = ()
    """Why it is not deliverable ("Address not found", "House number is missing")."""
    suggestions: dict[str, str] = field(default_factory=dict)
    """Corrections the service offers, by our field name ("postcode": "94107-1670")."""

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons) or "the carrier cannot deliver to this address"


class AddressServiceDown(OutsideServiceError):
    """The verification service did not answer (outage, timeout, rate limit) or refused
    our credentials; `retryable` False means a person must fix the configuration."""


class AddressVerifier(Protocol):
    """One address verification service."""

    name: str

    def verify(self, address: PostalAddress) -> AddressVerdict:
        """Check one address; raise AddressServiceDown when no verdict could be had."""
        ...
