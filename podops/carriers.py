"""Carrier names as staff type them, normalized, with each carrier's tracking link."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True, slots=True)
class Carrier:
    name: str
    url_template: str
    aliases: tuple[str, ...]
    number_pattern: str = r"[A-Z0-9]{6,40}"

    def tracking_url(self, number: str) -> str:
        return self.url_template.format(quote(number, safe=""))

    def plausible(self, number: str) -> bool:
        return re.fullmatch(self.number_pattern, number) is not None


CARRIERS: tuple[Carrier, ...] = (
    Carrier(
        "UPS",
        "https://www.ups.com/track?tracknum={}",
        (
            "ups",
            "ups ground",
            "ups standard",
            "ups express",
            "ups mail innovations",
            "united parcel service",
        ),
        r"(1Z[A-Z0-9]{16}|[0-9]{9,12}|T[0-9]{10}|[0-9]{18,26})",
    ),
    Carrier(
        "USPS",
        "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
        (
            "usps",
            "u s p s",
            "us postal service",
            "us mail",
            "usps ground advantage",
            "united states postal service",
            "usps first class",
            "usps priority",
            "first class",
            "priority mail",
        ),
        r"([0-9]{20,22}|9[0-9]{15,25}|[A-Z]{2}[0-9]{9}US|82[0-9]{8})",
    ),
    Carrier(
        "FedEx",
        "https://www.fedex.com/fedextrack/?trknbr={}",
        (
            "fedex",
            "fed ex",
            "fedex ground",
            "fedex home delivery",
            "federal express",
            "fedex smartpost",
        ),
        r"([0-9]{12}|[0-9]{15}|[0-9]{20,22}|[0-9]{34})",
    ),
    Carrier(
        "DHL",
        "https://www.dhl.com/en/express/tracking.html?AWB={}",
        ("dhl", "dhl express", "dhl ecommerce", "dhl ecommerce solutions", "dhl global mail"),
        r"([0-9]{10,11}|[A-Z0-9]{10,39})",
    ),
    Carrier(
        "Canada Post",
        "https://www.canadapost-postescanada.ca/track-reperage/en#/search?searchFor={}",
        ("canada post", "canadapost", "postes canada"),
        r"([0-9]{12,16}|[A-Z]{2}[0-9]{9}CA)",
    ),
    Carrier(
        "Royal Mail",
        "https://www.royalmail.com/track-your-item#/tracking-results/{}",
        ("royal mail", "royalmail"),
        r"[A-Z]{2}[0-9]{9}GB",
    ),
    Carrier(
        "Australia Post",
        "https://auspost.com.au/mypost/track/#/details/{}",
        ("australia post", "auspost"),
        r"[A-Z0-9]{10,23}",
    ),
    Carrier(
        "Asendia",
        "https://a1.asendiausa.com/tracking/?trackingnumber={}",
        ("asendia", "asendia usa"),
    ),
    Carrier(
        "OSM", "https://www.osmworldwide.com/tracking/?trackingNumbers={}", ("osm", "osm worldwide")
    ),
    Carrier(
        "APC",
        "https://us.mytracking.net/APC/track/TrackDetails.aspx?t={}",
        ("apc", "apc postal logistics", "apc pli", "apc logistics"),
    ),
)

_BY_ALIAS = {
    alias: carrier for carrier in CARRIERS for alias in (*carrier.aliases, carrier.name.lower())
}


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def find_carrier(text: str) -> Carrier | None:
    """`ups`, `UPS Ground`, ` fedex  ` -> the carrier; None when not recognized."""
    key = _key(text)
    if not key:
        return None
    if key in _BY_ALIAS:
        return _BY_ALIAS[key]
    if key.replace(" ", "") in _BY_ALIAS:  # "U.S.P.S.", "Fed-Ex", "D H L"
        return _BY_ALIAS[key.replace(" ", "")]
    first = key.split(" ")[0]
    return _BY_ALIAS.get(first)


def normalize_carrier(text: str) -> str:
    """The carrier's canonical name, or the trimmed text for a carrier we do not know."""
    carrier = find_carrier(text)
    return carrier.name if carrier else " ".join(text.split())


def normalize_tracking_number(number: str) -> str:
    return re.sub(r"[\s-]+", "", number).upper()


# Number shapes that name one carrier whatever else they look like.
_SURE_SHAPES: tuple[tuple[str, str], ...] = (
    (r"1Z[A-Z0-9]+", "ups"),
    (r"(420[0-9]{5}([0-9]{4})?)?9[2-5][0-9]{20}", "usps"),  # IMpb, with or without ZIP
    (r"[A-Z]{2}[0-9]{9}US", "usps"),
    (r"[A-Z]{2}[0-9]{9}GB", "royal mail"),
    (r"[A-Z]{2}[0-9]{9}CA", "canada post"),
)


def guess_carrier(number: str) -> Carrier | None:
    """The carrier a tracking number's shape points to, when only one fits."""
    number = normalize_tracking_number(number)
    for pattern, alias in _SURE_SHAPES:
        if re.fullmatch(pattern, number):
            return _BY_ALIAS[alias]
    fits = [c for c in CARRIERS[:5] if c.plausible(number)]
    return fits[0] if len(fits) == 1 else None


def provider_carrier(name: str, number: str) -> str:
    """The carrier of a parcel a provider reported: its name when we know it, else
    what the number's shape says ("Economy" is a shipping method, not a carrier),
    else the provider's own words; "" when there is nothing to go on."""
    known = find_carrier(name)
    if known is not None:
        return known.name
    guessed = guess_carrier(number)
    if guessed is not None:
        return guessed.name
    return " ".join(name.split())


def tracking_url(carrier: str, number: str) -> str:
    found = find_carrier(carrier)
    return found.tracking_url(normalize_tracking_number(number)) if found else ""
