"""A shipping address as staff name its fields, and the rules every change obeys.

Staff type nine fields (`address.line2=Apt 4`) in the CLI, the Slack form and
the sheet; the order keeps the shop's keys (`address_1`, `first_name`...), so
providers read one shape whoever changed it. Pure: `check_change` turns what
was typed into the new stored address or refuses it with the reason (too long,
a control character, an unknown country code, a field the provider needs left
empty), so a change is applied whole or not at all. `address_problems` says
what still keeps an order from going out; `digest` names an address so a
verification is tied to the exact address it checked.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pycountry

from podops.errors import InvalidInput

FIELDS: tuple[str, ...] = (
    "name",
    "company",
    "line1",
    "line2",
    "city",
    "state",
    "postcode",
    "country",
    "phone",
)
"""The fields staff change, in the order forms and columns show them."""

PREFIX = "address."
"""How an address field is written next to personalization fields: `address.line2`."""

STORED: dict[str, str] = {
    "company": "company",
    "line1": "address_1",
    "line2": "address_2",
    "city": "city",
    "state": "state",
    "postcode": "postcode",
    "country": "country",
    "phone": "phone",
}
"""Field -> key in `Order.shipping_address` (the shop's keys). `name` is kept as
`first_name` + `last_name`, split before the last word (CustomCat takes the two apart)."""

STORED_KEYS: tuple[str, ...] = ("first_name", "last_name", *STORED.values())

LIMITS: dict[str, int] = {
    "name": 70,
    "company": 70,
    "line1": 70,
    "line2": 70,
    "city": 50,
    "state": 50,
    "postcode": 16,
    "country": 2,
    "phone": 30,
}
"""The longest value podops sends: room for real addresses, well inside what carriers
print (longer text is cut or refused days later, at the provider)."""

DEFAULT_REQUIRED: frozenset[str] = frozenset({"name", "line1", "city", "country"})
"""What every provider needs to ship a parcel (a provider may need more)."""

STATE_COUNTRIES: frozenset[str] = frozenset({"US", "CA", "AU"})
"""Countries whose carriers need the state or province on the label."""

NO_POSTCODE_COUNTRIES: frozenset[str] = frozenset(
    {"AE", "AG", "AO", "AW", "BS", "BZ", "BJ", "BO", "BW", "CW", "DM", "FJ", "GD", "GH", "GM",
     "GY", "HK", "JM", "KI", "KN", "MO", "NR", "QA", "SB", "SR", "SY", "TO", "TT", "TV", "UG",
     "VU", "YE", "ZW"}
)  # fmt: skip
"""Countries without postal codes: a provider's postcode rule does not apply there."""

NO_ADDRESS = "no shipping address"
"""The problem intake writes for an order without a street and country (same words)."""
MISSING_PREFIX = "shipping address has no "
SHOP_REFUSED_PREFIX = "shipping address from the shop: "
"""Problems this module's rules write on an order (and clear once fixed)."""
CHECK_PREFIX = "address check: "
"""Start of what address verification writes (a problem, a hold reason): the verdict
was about one address, so any change of the address clears it."""

_JOINERS = frozenset("\u200c\u200d")


@dataclass(frozen=True, slots=True)
class AddressChange:
    """A checked change: the address to store, and each changed field before and after."""

    address: dict[str, str]
    changed: dict[str, tuple[str, str]]

    @property
    def empty(self) -> bool:
        return not self.changed


def field_name(word: str) -> str | None:
    """`address.line2` -> `line2`; None when the word names no address field."""
    text = word.strip().lower()
    if not text.startswith(PREFIX):
        return None
    return text[len(PREFIX) :]


def shown(address: Mapping[str, Any]) -> dict[str, str]:
    """The stored address as staff see its nine fields."""
    first = _text(address.get("first_name"))
    last = _text(address.get("last_name"))
    fields = {"name": " ".join(part for part in (first, last) if part)}
    fields.update({name: _text(address.get(key)) for name, key in STORED.items()})
    return fields


def one_line(address: Mapping[str, Any]) -> str:
    """`Ana Smith, 12 Main St, Apt 4, Springfield IL 62701, US`: for cards and the CLI."""
    f = shown(address)
    place = " ".join(part for part in (f["city"], f["state"], f["postcode"]) if part)
    parts = [f["name"], f["company"], f["line1"], f["line2"], place, f["country"]]
    return ", ".join(part for part in parts if part)


def required_fields(provider_needs: frozenset[str], country: str) -> frozenset[str]:
    """What must not be empty for this provider and destination."""
    needed = set(DEFAULT_REQUIRED | provider_needs)
    if country in STATE_COUNTRIES:
        needed.add("state")
    if country in NO_POSTCODE_COUNTRIES:
        needed.discard("postcode")
    return frozenset(needed)


def check_change(
    current: Mapping[str, Any],
    typed: Mapping[str, str],
    *,
    provider_needs: frozenset[str] = frozenset(),
    provider: str = "the provider",
) -> AddressChange:
    """The address after `typed` (field -> value), or InvalidInput naming every refused field.

    A field the provider needs may not be emptied; other fields missing already (an
    order that came without an address) stay a problem on the order, not a refusal."""
    reasons: list[str] = []
    cleaned: dict[str, str] = {}
    for name, value in typed.items():
        problem, text = _check_field(name, value)
        if problem:
            reasons.append(problem)
        else:
            cleaned[name] = text
    before = shown(current)
    after = {**before, **cleaned}
    needed = required_fields(provider_needs, after["country"])
    for name in sorted(cleaned):
        if not cleaned[name] and name in needed and before[name]:
            reasons.append(f"address.{name} cannot be empty: {provider} needs it")
    if reasons:
        raise InvalidInput("; ".join(reasons))
    changed = {n: (before[n], after[n]) for n in FIELDS if n in cleaned and before[n] != after[n]}
    return AddressChange(stored(current, after), changed)


def check_field(name: str, value: str) -> str:
    """Why one typed field is refused ("" when it is fine), for forms that answer per field."""
    return _check_field(name, value)[0]


def _check_field(name: str, value: str) -> tuple[str, str]:
    """(refusal, "") or ("", the value to store) for one typed field."""
    if name not in LIMITS:
        known = ", ".join(PREFIX + f for f in FIELDS)
        return f"{PREFIX}{name} is not an address field (the fields: {known})", ""
    text = str(value)
    bad = next((ch for ch in text if _is_control(ch)), None)
    if bad is not None:
        return (
            f"address.{name} contains a control or invisible character (U+{ord(bad):04X}); "
            "type it as plain text on one line"
        ), ""
    text = " ".join(text.split())
    if name == "country":
        return _country(text)
    if len(text) > LIMITS[name]:
        return f"address.{name} is {len(text)} characters; at most {LIMITS[name]} fit", ""
    return "", text


def _is_control(ch: str) -> bool:
    """Control, format, private-use, unassigned and surrogate characters, and line breaks;
    the zero-width joiners some scripts spell with are kept."""
    if ch in _JOINERS:
        return False
    return unicodedata.category(ch)[0] == "C" or unicodedata.category(ch) in ("Zl", "Zp")


def _country(text: str) -> tuple[str, str]:
    code = text.upper()
    if not code:
        return "", ""
    if len(code) == 2 and pycountry.countries.get(alpha_2=code) is not None:
        return "", code
    hint = "use GB for the United Kingdom" if code == "UK" else _code_hint(text)
    return f"address.country {text[:40]!r} is not a country code: {hint}", ""


def _code_hint(text: str) -> str:
    try:
        found = pycountry.countries.lookup(text)
    except LookupError:
        return "use the two-letter ISO code (US, GB, DE, FR...)"
    return f"use the two-letter code {found.alpha_2} for {found.name}"


def stored(current: Mapping[str, Any], fields: Mapping[str, str]) -> dict[str, str]:
    """The stored shape of `fields`, keeping keys podops does not edit (email...)."""
    result = {str(k): _text(v) for k, v in current.items()}
    first, _, last = fields["name"].rpartition(" ")
    if not first:
        first, last = last, ""
    result["first_name"], result["last_name"] = first, last
    for name, key in STORED.items():
        result[key] = fields[name]
    return result


def normalized(address: Mapping[str, Any]) -> dict[str, str]:
    """An address as compared between deliveries: the keys podops uses, trimmed."""
    result = {key: " ".join(_text(address.get(key)).split()) for key in STORED_KEYS}
    result["country"] = result["country"].upper()
    return result


def digest(address: Mapping[str, Any]) -> str:
    """A short fingerprint of an address: a verification holds for this address only."""
    text = json.dumps(normalized(address), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def address_problems(address: Mapping[str, Any], needed: frozenset[str]) -> list[str]:
    """What keeps this address from being sent (empty when it can go)."""
    fields = shown(address)
    if not fields["line1"] or not fields["country"]:
        return [NO_ADDRESS]
    missing = sorted(n for n in required_fields(needed, fields["country"]) if not fields[n])
    return [f"{MISSING_PREFIX}{', '.join(missing)}"] if missing else []


def is_address_problem(problem: object) -> bool:
    """Problems these rules write on an order (intake's "no shipping address" too)."""
    return isinstance(problem, str) and (
        problem == NO_ADDRESS
        or problem.startswith((MISSING_PREFIX, SHOP_REFUSED_PREFIX, CHECK_PREFIX))
    )


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


VERIFIED = "verified"
FAILED = "failed"
UNAVAILABLE = "unavailable"
ACCEPTED = "accepted"
"""States of `Order.address_check` (see `podops.fulfillment.address_check`)."""


def check_words(check: Mapping[str, Any] | None, address: Mapping[str, Any]) -> str:
    """The order's last address verification in words ("" when none was made)."""
    if not check:
        return ""
    if check.get("digest") != digest(address):
        return "not checked since the address changed (it is checked before submission)"
    service, reason = check.get("service", "the carrier"), check.get("reason", "")
    state = check.get("state")
    if state == VERIFIED:
        return f"verified by {service}"
    if state == FAILED:
        return f"did not verify ({service}: {reason})"
    if state == UNAVAILABLE:
        tries = int(check.get("tries", 1))
        return f"not checked yet: {service} did not answer ({reason}); {tries} tries so far"
    if state == ACCEPTED:
        return f"sent as it is ({check.get('by', 'staff')}): {reason}".rstrip(": ")
    return ""
