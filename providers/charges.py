"""What a provider charges, read strictly from its answer (shared by the adapters).

A charge feeds the owner's margin, and a wrong one is worse than none: an amount is
taken only when it is a plain, finite, non-negative number below MAX_CHARGE with a
three-letter currency. Anything else (a word, a negative, NaN, an exponent, a float
where cents are due) is no charge: None, with one log line naming the field, never
an exception that would lose the rest of the provider's answer (its status, its
tracking). Zero is "not calculated yet" for every provider we read (nobody prints
for free), so it is None too: the report then says the margin is unknown.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal, InvalidOperation

log = logging.getLogger(__name__)

MAX_CHARGE = Decimal("1000000")
"""No order of ours costs a million; the core refuses the same bound (MAX_COST)."""
_AMOUNT = re.compile(r"\d{1,7}(?:\.\d{1,4})?")
"""`17.94`, `18`: what providers write (no sign, exponent, separators or spaces)."""
_CURRENCY = re.compile(r"[A-Za-z]{3}")


def charge(who: str, field: str, total: object, code: object) -> tuple[Decimal | None, str | None]:
    """A decimal total and its currency, both readable, or (None, None)."""
    cost = amount(who, f"{field}.total", total)
    unit = currency(who, f"{field}.currency", code)
    return (cost, unit) if cost is not None and unit is not None else (None, None)


def amount(who: str, field: str, value: object) -> Decimal | None:
    """A decimal amount (`"17.94"` or 17.94); None when absent, zero or impossible."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return _impossible(who, field, value)
    text = repr(value) if isinstance(value, float) else str(value)
    if not _AMOUNT.fullmatch(text.strip()):
        return _impossible(who, field, value)
    return bounded(who, field, Decimal(text.strip()))


def cents(who: str, field: str, value: object) -> Decimal | None:
    """A whole number of cents (Printify's 1050) as an amount (10.50); a fraction of
    a cent, a float or a string is impossible. Zero stays zero here (a total of
    parts may hold a zero part); the caller decides what a zero total means."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        return _impossible(who, field, value)
    return bounded(who, field, Decimal(value) / 100, keep_zero=True)


def currency(who: str, field: str, value: object) -> str | None:
    """An ISO 4217 code as written (`"USD"`), upper-cased; anything else is None."""
    if isinstance(value, str) and _CURRENCY.fullmatch(value.strip()):
        return value.strip().upper()
    if value not in (None, ""):
        log.warning(
            "%s reported a charge in %r (%s), not a currency code; no charge kept",
            who,
            value,
            field,
        )
    return None


def bounded(who: str, field: str, value: Decimal, *, keep_zero: bool = False) -> Decimal | None:
    """The value if finite, non-negative and below MAX_CHARGE (zero: None unless kept)."""
    try:
        if not value.is_finite() or value < 0 or value >= MAX_CHARGE:
            return _impossible(who, field, value)
    except InvalidOperation:  # a signalling NaN compared
        return _impossible(who, field, value)
    if value == 0 and not keep_zero:
        return None  # not calculated yet
    return value


def _impossible(who: str, field: str, value: object) -> Decimal | None:
    log.warning("%s reported an impossible charge %r in %s; no charge kept", who, value, field)
    return None
