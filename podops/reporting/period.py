"""The period a report covers, as people type it (`30d`, `2026-11-01`), in the shop's
time zone. Pure: no pandas, so the CLI parses options without loading it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from podops.errors import InvalidInput

GROUPINGS = ("provider", "product", "store", "sku")
"""What a report groups by: the provider a fulfillment went to, the product (template)
key and SKU of its lines, the store the order came from."""

_SINCE = re.compile(r"^\s*(\d{1,4})\s*([dw])\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Period:
    """Orders placed in [start, end) (UTC), named by its local days."""

    start: datetime
    end: datetime
    first_day: date
    last_day: date

    @property
    def label(self) -> str:
        if self.first_day == self.last_day:
            return self.first_day.isoformat()
        return f"{self.first_day.isoformat()} to {self.last_day.isoformat()}"

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1


def local_days(first: date, last: date, tz: tzinfo) -> Period:
    """From the start of local day `first` to the end of local day `last`."""
    if last < first:
        raise InvalidInput(f"the period ends ({last}) before it starts ({first})")
    start = datetime.combine(first, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return Period(start, end, first, last)


def last_days(days: int, tz: tzinfo, now: datetime) -> Period:
    """The `days` local days up to and including today."""
    if days < 1:
        raise InvalidInput("a period is at least 1 day")
    today = now.astimezone(tz).date()
    return local_days(today - timedelta(days=days - 1), today, tz)


def parse_since(text: str) -> int:
    """`30d` or `4w` as a number of days."""
    found = _SINCE.match(text)
    if not found:
        raise InvalidInput(f"{text!r} is not a period; expected days or weeks like 30d or 4w")
    amount, unit = int(found.group(1)), found.group(2).lower()
    days = amount * (7 if unit == "w" else 1)
    if not 1 <= days <= 3660:
        raise InvalidInput(f"{text!r}: a period is 1 day to 10 years")
    return days


def parse_day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(f"{what} {text!r} is not a day; expected YYYY-MM-DD") from None


def choose(
    tz: tzinfo,
    now: datetime,
    *,
    since: str | None = None,
    first: str | None = None,
    last: str | None = None,
    default_days: int = 30,
) -> Period:
    """The period from `--since` or `--from`/`--to` (not both); default the last 30 days."""
    if since and (first or last):
        raise InvalidInput("give either --since or --from/--to, not both")
    if since:
        return last_days(parse_since(since), tz, now)
    if first or last:
        today = now.astimezone(tz).date()
        start = parse_day(first, "--from") if first else None
        end = parse_day(last, "--to") if last else today
        if start is None:
            raise InvalidInput("--to needs --from (or use --since 30d)")
        return local_days(start, end, tz)
    return last_days(default_days, tz, now)


def check_grouping(by: str) -> str:
    name = by.strip().lower()
    if name not in GROUPINGS:
        raise InvalidInput(f"cannot group by {by!r}; expected one of: {', '.join(GROUPINGS)}")
    return name
