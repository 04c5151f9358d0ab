"""Order and line references: the one module that knows how they are written and read.

Everything else builds an `OrderRef` / `LineRef` from a model (`OrderRef.of(order)`,
`LineRef.of(item)`) or from text (`parse_*`, `*_readings`), passes the value around,
and asks it for the form it needs. No other module formats or takes apart a reference.

A store's order number is any text of 1 to 64 characters (the `orders.number`
column) without control characters: `1234`, `2024/5001`, `A 12`, `#1001`, `ÄB-7`,
`12:30`. Every form below carries every such number.

    form            example          who reads it                    built by
    staff           main:1234        staff in Slack, the CLI, the    OrderRef.staff / str()
                    (or 1234)        sheet; typed back in commands   read by staff_readings
    pasted          main:1234        rows staff paste in the         OrderRef.staff
                                     Tracking tab                    read by pasted_readings
    provider        main-1234        our reference at providers      OrderRef.provider
                    main--2024_2F5001 (their order id, callbacks)    read by parse_provider
    print name      main-1234        the renderer (print-file names, OrderRef.print_name
                                     the file's comment); never read print_file_stem(name, pos)
    line label      1234-02          the sheet, Slack, line problems, LineRef.label
                                     providers' line ids             read by LineRef.parse_label
    line (typed)    main:1234-02     the Tracking tab                LineRef.staff / str()
                    or 1234-02                                       read by LineRef.readings

An `OrderRef` whose store is `ANY_STORE` ("") is what staff typed without a
store (`1234`): a look-up then matches the number in every store.

Store keys come from the config and match `[a-z][a-z0-9_]{0,31}`
(`podops.settings.NAME_PATTERN`): they never hold `:`, `-` or `/`.

Staff and pasted text can be read more than one way, so it is read into a list of
readings, most likely first; a look-up takes the order the readings name, and
refuses text whose readings name two different orders, saying what to type for
each (`podops.services.lookup.typed_form`), instead of guessing
(`podops.services.get_order`, the Tracking tab's rows). Only whitespace makes tiers:
text with spaces around (or inside, pasted) is read as it is first, and trimmed
(collapsed) only when that names no order, so ` 17` and `17` are both reachable:
- text starting with a store key and `:` (staff may also type `/`) reads first as
  that store's order (`main:2024/5001` is number `2024/5001` in `main`; `main:a:b`
  is `a:b`), then as a number in any store (`ab:30` is order `ab:30` when store
  `ab` has no order `30`); any other text is one number (`12:30`, `2024/5001`,
  `Main:1`). `main:` and `main:#` name nothing and are refused.
- staff may put `#` before the number (`#1234`, `main:#1234`): it is dropped,
  and the number with the `#` is the next reading (a CSV order numbered `#1001`).
- `parse_staff` and `parse_pasted` give the first reading: `parse_staff(ref.staff)
  == ref` unless the number starts with `#`, or names no store and itself starts
  like `store:`; the readings always hold the ref.
- pasted cells are cleaned first (`podops.tracking.rows`: whitespace collapsed).

Provider references are what providers accept as an order id. A plain number
(`[A-Za-z0-9]`, then `[A-Za-z0-9_.-]`: exactly the numbers podops could submit
before escaping existed) is sent as it always was: `main-1234`, `main-12.5`, so
an order in flight across an upgrade keeps its reference and the lookup before a
retry finds it. Any other number is escaped after a second `-`: each character
outside `[A-Za-z0-9-]` becomes `_XX` per UTF-8 byte, so `2024/5001` is
`main--2024_2F5001`. `parse_provider` inverts both.

Restricted ids (`FulfillmentRef.restricted`) are for providers that take fewer
characters and a length limit (Printful's `external_id`: `[0-9A-Za-z_-]`, 32):
the provider reference when it fits; else its always-escaped form (`main-12.5`
is `main--12_2E5`, read back by `parse_provider` like any escaped form); else,
past the limit, a digest form: `_`, the escaped form's head, `-` and 16 hex
digits of SHA-256 over the provider reference (`_main--12345678-1f0c...`). Every
provider reference starts with a store key (a letter), so a leading `_` marks a
digest; it cannot be read back (`parse_restricted` gives None), but the same
reference always makes the same digest, so a look-up by reference still finds it.

An order's lines may go to several providers, one fulfillment each
(`FulfillmentRef`). The first (or only) one is sent as the order's provider
reference, unchanged. Each later one, part N, is the escaped form (always, even
for a plain number) followed by `_P` and N: `main--1234_P2`, `main--2024_2F5001_P3`.
No order's reference is ever that text: a plain reference has one `-` after the
store, and in escaped text every `_` starts `_XX` with two hexadecimal digits,
never `_P`. `FulfillmentRef.parse_provider` reads every form back (part 1 for an
order's own reference). The characters are the escaped form's, `[A-Za-z0-9_-]`.

The print name is the provider form, or, past 64 characters, its first 52 and a
hash of the whole: file names hold `[A-Za-z0-9_-]` only and two numbers never share
one (up to letter case). Signed links quote the name (`podops.links`).

Line labels carry every number, positions 0 and up. Typed line references (the
Tracking tab) carry positions 0-999 only: at most three digits after the last
`-`, so a renumbered order such as `1001-98765` stays an order number.
"""

from __future__ import annotations

import hashlib
import re
import shlex
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from podops.errors import InvalidInput, OrderNotFound

if TYPE_CHECKING:
    from podops.models import LineItem, Order

ANY_STORE = ""
"""The store of a reference that names none (staff typed only the number)."""

STAFF_SEPARATOR = ":"
PROVIDER_SEPARATOR = "-"
LINE_SEPARATOR = "-"
NUMBER_LIMIT = 64
"""The longest order number (the `orders.number` column)."""
ESCAPE = "_"

_STORE_PREFIX = re.compile(r"(?s)(?P<store>[a-z][a-z0-9_]{0,31})(?P<sep>[:/])(?P<rest>.*)")
_FILE_PLAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?")
"""Numbers kept as they are in print names (file names hold `[A-Za-z0-9_-]` only)."""
_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
"""Numbers sent as they are (`main-12.5`): exactly the numbers podops could submit
before other numbers were escaped, so an order in flight across an upgrade keeps
its reference and the lookup before a retry still finds it."""
_KEPT = re.compile(r"[A-Za-z0-9-]")
_ESCAPED = re.compile(r"(?:[A-Za-z0-9-]|_[0-9A-F]{2})+")
PART_MARK = "_P"
"""Between an escaped number and a part's sequence: `_` then a letter no escape makes."""
_PART = re.compile(r"(?s)(?P<number>.*)_P(?P<seq>[2-9]|[1-9][0-9]{1,5})")
"""Part 2 and on (part 1 is the order's own reference, never written with `_P1`)."""
_TYPED_LINE = re.compile(r"(?s)(?P<order>.+)-(?P<position>\d{1,3})")
_LABEL = re.compile(r"(?s)(?P<number>.+)-(?P<position>\d+)")
_UNSAFE_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9_-]+")
FILE_STEM_LIMIT = 64
_HASHED_KEEP = 52
RESTRICTED_LIMIT = 32
"""Printful's `external_id`: at most 32 characters of `[0-9A-Za-z_-]`."""
_RESTRICTED = re.compile(r"[A-Za-z0-9_-]+")
DIGEST_MARK = "_"
"""Starts a digest id: no provider reference does (they start with a store key)."""
_DIGEST_HEX = 16
_DIGEST_LENGTH = len(DIGEST_MARK) + len(PROVIDER_SEPARATOR) + _DIGEST_HEX


_OPTION_LIKE = re.compile(r"--?[A-Za-z][A-Za-z0-9-]*")


def in_shell(reference: str) -> str:
    """A reference as staff type it in a `podops` command, where only arguments follow
    it: quoted when it holds spaces or shell characters (`'A 12'`), after `--` when it
    could be an option's name (`-- --help`; `-17` needs nothing, see `podops.cli.args`)."""
    quoted = shlex.quote(reference)
    return f"-- {quoted}" if _OPTION_LIKE.fullmatch(reference) else quoted


def in_slack(reference: str) -> str:
    """A reference as staff type it in an `/order` command: in double quotes when it
    holds spaces or starts with a quote (the parser keeps quoted text as typed)."""
    if any(c.isspace() for c in reference) or reference[:1] in "\"'\u201c\u2018":
        return f'"{reference}"'
    return reference


def is_order_number(text: str) -> bool:
    """Whether a store's order number can be `text`: 1-64 characters, no control ones,
    and not `#` alone (staff type `#` before a number; alone it names nothing)."""
    if text == "#" or not 0 < len(text) <= NUMBER_LIMIT:
        return False
    return not any(unicodedata.category(c) == "Cc" for c in text)


@dataclass(frozen=True, slots=True)
class OrderRef:
    """One order: its store's key and the store's order number."""

    store: str
    number: str

    @classmethod
    def of(cls, order: Order) -> OrderRef:
        """The reference of a loaded order (its store relationship is read)."""
        return cls(order.store.key, order.number)

    @classmethod
    def any_store(cls, number: str) -> OrderRef:
        """A reference naming only the number, as staff type it and line labels show it."""
        return cls(ANY_STORE, number)

    def __str__(self) -> str:
        return self.staff

    @property
    def staff(self) -> str:
        """What staff see and type: `main:1234`, or `1234` without a store."""
        if self.store == ANY_STORE:
            return self.number
        return f"{self.store}{STAFF_SEPARATOR}{self.number}"

    @property
    def provider(self) -> str:
        """Our reference at providers, unique across stores: `main-1234`,
        `main--2024_2F5001` (escaped, see the module docstring)."""
        return self._encoded(_PLAIN)

    def _encoded(self, plain: re.Pattern[str]) -> str:
        if self.store == ANY_STORE:
            raise ValueError(f"order {self.number} names no store; providers need one")
        if plain.fullmatch(self.number):
            return f"{self.store}{PROVIDER_SEPARATOR}{self.number}"
        return f"{self.store}{PROVIDER_SEPARATOR * 2}{_escape(self.number)}"

    @property
    def print_name(self) -> str:
        """How the renderer names the order (file names, the print file's comment):
        the provider form (escaping `.` too), hashed past 64 characters so names
        never collide."""
        name = self._encoded(_FILE_PLAIN)
        if len(name) <= FILE_STEM_LIMIT:
            return name
        digest = hashlib.sha256(name.encode()).hexdigest()[: FILE_STEM_LIMIT - _HASHED_KEEP - 1]
        return f"{name[:_HASHED_KEEP]}-{digest}"

    def names_store(self, key: str) -> bool:
        """Whether a store with `key` may hold this order (any store, when none is named)."""
        return self.store == ANY_STORE or self.store == key

    @property
    def typed(self) -> str:
        """What staff type to name this order: the number alone when it reads as itself
        first (`1234`, `2024/5001`, `-17`), else `typed_with_store` (`main:main:1001`)."""
        if self.store == ANY_STORE:
            return self.number
        if self.staff_readings(self.number)[:1] == [OrderRef.any_store(self.number)]:
            return self.number
        return self.typed_with_store

    @property
    def typed_with_store(self) -> str:
        """Typed text whose first reading is this order: the staff form, with a second
        `#` before a number that starts with one (`main:##1001` is number `#1001`)."""
        if self.store == ANY_STORE:
            return self.number
        hashes = "#" if self.number.startswith("#") else ""
        return f"{self.store}{STAFF_SEPARATOR}{hashes}{self.number}"

    @classmethod
    def staff_reading_tiers(cls, text: str) -> list[list[OrderRef]]:
        """The readings of typed text in tiers, the first tier that names an order
        deciding: text with spaces around first as typed (a store may number an
        order ` 17`), then trimmed (`staff_readings`)."""
        tiers = [cls.staff_readings(text)]
        if text != text.strip():
            exact = _readings(text, "/:", hash_dropped=True, checked=True)
            if exact:
                tiers.insert(0, exact)
        return tiers

    @classmethod
    def staff_readings(cls, text: str) -> list[OrderRef]:
        """Every order a typed reference may name, most likely first (see the module
        docstring): `1234`, `#1234`, `main:1234`, `main/1234`, `2024/5001`, `A 12`."""
        readings = _readings(text.strip(), "/:", hash_dropped=True, checked=True)
        if not readings:
            raise InvalidInput(f"{text!r} is not an order number (expected something like 1234)")
        return readings

    @classmethod
    def parse_staff(cls, text: str) -> OrderRef:
        """A reference typed in a command, read the most likely way (`staff_readings`)."""
        return cls.staff_readings(text)[0]

    @classmethod
    def pasted_readings(cls, text: str) -> list[OrderRef]:
        """Every order a pasted reference may name, unchecked (the look-up refuses what
        is not there): `main:1234` first as store and number, then the whole as a number."""
        return _readings(text, ":", hash_dropped=False, checked=False) or [cls.any_store(text)]

    @classmethod
    def parse_pasted(cls, text: str) -> OrderRef:
        """A reference from a pasted row, read the most likely way (`pasted_readings`)."""
        return cls.pasted_readings(text)[0]

    @classmethod
    def parse_provider(cls, text: str) -> OrderRef:
        """Our reference as a provider or a callback URL hands it back: `main-1234`,
        `main--2024_2F5001`."""
        store, sep, number = text.partition(PROVIDER_SEPARATOR)
        if number.startswith(PROVIDER_SEPARATOR):
            number = _unescape(number[1:])
        if not (sep and store and number):
            raise OrderNotFound(text)
        return cls(store, number)


def _readings(text: str, separators: str, *, hash_dropped: bool, checked: bool) -> list[OrderRef]:
    """The readings of `text`: store-prefixed first, then the whole as a number; `#`
    dropped before the number first, when `hash_dropped`; only numbers a store may
    send, when `checked` (else any non-empty text). Empty when nothing reads."""
    wanted: list[OrderRef] = []
    prefix = _STORE_PREFIX.fullmatch(text)
    if prefix and prefix.group("sep") in separators:
        store, rest = prefix.group("store"), prefix.group("rest")
        numbers = _numbers(rest, hash_dropped, checked)
        if not numbers:
            return []
        wanted += [OrderRef(store, number) for number in numbers]
    wanted += [OrderRef.any_store(number) for number in _numbers(text, hash_dropped, checked)]
    return list(dict.fromkeys(wanted))


def _numbers(text: str, hash_dropped: bool, checked: bool) -> list[str]:
    if hash_dropped and text.startswith("#"):
        found = [text[1:], text] if text[1:] else []  # `#` alone names nothing
    else:
        found = [text]
    return [n for n in found if (is_order_number(n) if checked else n)]


def _escape(number: str) -> str:
    return "".join(
        c if _KEPT.fullmatch(c) else "".join(f"{ESCAPE}{b:02X}" for b in c.encode()) for c in number
    )


def _unescape(text: str) -> str:
    """The number `_escape` made `text` from, or "" when it made no such text."""
    if not _ESCAPED.fullmatch(text):
        return ""
    raw = re.sub(r"_([0-9A-F]{2})", lambda m: chr(int(m.group(1), 16)), text)
    try:
        return raw.encode("latin-1").decode()
    except UnicodeDecodeError:
        return ""


@dataclass(frozen=True, slots=True)
class LineRef:
    """One line item: its order and its position (1, 2, ...) in the order."""

    order: OrderRef
    position: int

    @classmethod
    def of(cls, item: LineItem) -> LineRef:
        """The reference of a loaded line item (its order and store are read)."""
        return cls(OrderRef.of(item.order), item.position)

    def __str__(self) -> str:
        return self.staff

    @property
    def label(self) -> str:
        """The line as the sheet and Slack show it, without the store: `1234-02`."""
        return f"{self.order.number}{LINE_SEPARATOR}{self.position:02d}"

    @property
    def staff(self) -> str:
        """The line with its store, as the Tracking tab takes it: `main:1234-02`."""
        return f"{self.order.staff}{LINE_SEPARATOR}{self.position:02d}"

    @classmethod
    def readings(cls, text: str) -> list[LineRef]:
        """Every line a reference typed in the Tracking tab may name, most likely first
        (`1234-02`, `main:1234-2`; the order part read as `OrderRef.pasted_readings`)."""
        match = _TYPED_LINE.fullmatch(text)
        if not match:
            raise InvalidInput(
                f"{text!r} is not a line reference (expected something like 10001-01)"
            )
        position = int(match.group("position"))
        return [cls(order, position) for order in OrderRef.pasted_readings(match.group("order"))]

    @classmethod
    def parse(cls, text: str) -> LineRef:
        """A line typed in the Tracking tab, read the most likely way (`readings`)."""
        return cls.readings(text)[0]

    @classmethod
    def parse_label(cls, text: str) -> LineRef:
        """A line label handed back (a provider's line id): `1234-02`; the store is not in it."""
        match = _LABEL.fullmatch(text)
        if not match:
            raise InvalidInput(
                f"{text!r} is not a line reference (expected something like 10001-01)"
            )
        return cls(OrderRef.any_store(match.group("number")), int(match.group("position")))


@dataclass(frozen=True, slots=True)
class FulfillmentRef:
    """One fulfillment of an order: the order and its sequence (1, 2, ...)."""

    order: OrderRef
    seq: int

    def __str__(self) -> str:
        return self.provider

    @property
    def provider(self) -> str:
        """Our reference at the fulfillment's provider: the order's own for part 1,
        `main--1234_P2` for part 2 (see the module docstring)."""
        if self.seq < 1:
            raise ValueError(f"fulfillment {self.seq} of {self.order.staff}: parts count from 1")
        if self.seq == 1:
            return self.order.provider
        if self.order.store == ANY_STORE:
            raise ValueError(f"order {self.order.number} names no store; providers need one")
        escaped = _escape(self.order.number)
        return f"{self.order.store}{PROVIDER_SEPARATOR * 2}{escaped}{PART_MARK}{self.seq}"

    @property
    def label(self) -> str:
        """How staff read it beside the order: `part 2`."""
        return f"part {self.seq}"

    @property
    def escaped(self) -> str:
        """The provider reference with the number always escaped (`main-12.5` is
        `main--12_2E5`): `[A-Za-z0-9_-]` only, read back by `parse_provider`."""
        provider = self.provider  # refuses a reference without store or part
        if self.seq > 1:
            return provider
        return f"{self.order.store}{PROVIDER_SEPARATOR * 2}{_escape(self.order.number)}"

    def restricted(self, limit: int = RESTRICTED_LIMIT) -> str:
        """This reference as an id of at most `limit` characters of `[A-Za-z0-9_-]`
        (Printful's `external_id`): as it is, escaped, or a digest (module docstring)."""
        if limit < _DIGEST_LENGTH:
            raise ValueError(f"a restricted id needs at least {_DIGEST_LENGTH} characters")
        provider = self.provider
        if len(provider) <= limit and _RESTRICTED.fullmatch(provider):
            return provider
        escaped = self.escaped
        if len(escaped) <= limit:
            return escaped
        digest = hashlib.sha256(provider.encode()).hexdigest()[:_DIGEST_HEX]
        head = escaped[: limit - _DIGEST_LENGTH]
        return f"{DIGEST_MARK}{head}{PROVIDER_SEPARATOR}{digest}"

    @classmethod
    def parse_restricted(cls, text: str) -> FulfillmentRef | None:
        """The fulfillment a restricted id names, or None for a digest (or text no
        restricted id is): look such an id up by computing it from the reference."""
        if text.startswith(DIGEST_MARK):
            return None
        try:
            return cls.parse_provider(text)
        except OrderNotFound:
            return None

    @classmethod
    def parse_provider(cls, text: str) -> FulfillmentRef:
        """A reference a provider or a callback URL hands back: an order's own
        (`main-1234`, part 1) or a later part's (`main--1234_P2`)."""
        store, sep, rest = text.partition(PROVIDER_SEPARATOR)
        if sep and store and rest.startswith(PROVIDER_SEPARATOR):
            part = _PART.fullmatch(rest[1:])
            if part is not None:
                number = _unescape(part.group("number"))
                if not number:
                    raise OrderNotFound(text)
                return cls(OrderRef(store, number), int(part.group("seq")))
        return cls(OrderRef.parse_provider(text), 1)


def print_file_stem(print_name: str, position: int) -> str:
    """The stem of a line's print-file names: the order's print name kept to
    `[A-Za-z0-9_-]` and 64 characters, then the line position (`main-1234-2`)."""
    safe = _UNSAFE_IN_FILE_NAME.sub("_", print_name).strip("_")
    return f"{safe[:FILE_STEM_LIMIT] or 'order'}-{position}"
