"""Order and line references: the one module that knows how they are written and read.

Everything else builds an `OrderRef` / `LineRef` from a model (`OrderRef.of(order)`,
`LineRef.of(item)`) or from text (`parse_*`), passes the value around, and asks it
for the form it needs. No other module formats or takes apart a reference, so a
new encoding (any store order number: `2024/5001`, spaces, unicode) is a change
to this module alone.

The forms, as they are today:

    form            example        who reads it                      built by
    staff           main:1234      staff in Slack, the CLI, the      OrderRef.staff / str()
                    (or 1234)      sheet; typed back in commands     read by parse_staff
    pasted          main:1234      rows staff paste in the           OrderRef.staff
                                   Tracking tab                      read by parse_pasted
    provider        main-1234      our reference at providers        OrderRef.provider
                                   (their order id, callback URLs)   read by parse_provider
    print name      main-1234      the renderer (print-file names,   OrderRef.print_name
                                   the file's comment); never read   print_file_stem(name, position)
    line label      1234-02        the sheet, Slack, line problems,  LineRef.label
                                   providers' line ids               read by LineRef.parse_label
    line (typed)    main:1234-02   the Tracking tab                  LineRef.staff / str()
                    or 1234-02                                       read by LineRef.parse

An `OrderRef` whose store is `ANY_STORE` ("") is what staff typed without a
store (`1234`): a look-up then matches the number in every store.

Store keys come from the config and match `[a-z][a-z0-9_]{0,31}`
(`podops.settings.NAME_PATTERN`): they never hold `:`, `-` or `/`, so splitting
at the first separator always finds the whole key. A store key with one of
those (possible only for rows written outside the config) breaks every form.

Which refs each form carries today (`parse(format(ref)) == ref`), and which not:
- staff: store keys as above, and numbers matching `[A-Za-z0-9][A-Za-z0-9_.-]{0,63}`.
  Numbers outside that grammar (`2024/5001`, `A 12`, `Ä12`, `#12`, `.5`, a leading
  `-` or `_`) cannot be typed in a command; code reaches such orders only by
  passing the `OrderRef` itself (never its text).
- pasted: any number when the store is given (`main:a:b` is number `a:b`); without
  a store, numbers holding `:` are read as `store:number`. Cell cleaning (in
  `podops.tracking.rows`) also drops a leading `#` and collapses whitespace.
- provider: every non-empty number of every store (split at the first `-`).
  Characters are sent as they are; HTTP adapters quote them in URLs.
- print name: every number; it is never read back. The print-file name made
  from it keeps `[A-Za-z0-9_-]` only and at most 64 characters
  (`print_file_stem`), so two numbers differing only in other characters share a
  stem (their revisions still differ by content hash).
- line label: every number, positions 0 and up. Typed line references (the
  Tracking tab) carry positions 0-999 only: at most three digits after the last
  `-`, so a renumbered order such as `1001-98765` stays an order number.
"""

from __future__ import annotations

import re
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

_STAFF = re.compile(
    r"(?:(?P<store>[a-z][a-z0-9_]*)[:/])?#?(?P<number>[A-Za-z0-9][A-Za-z0-9_.-]{0,63})"
)
_TYPED_LINE = re.compile(r"(?s)(?P<order>.+)-(?P<position>\d{1,3})")
_LABEL = re.compile(r"(?s)(?P<number>.+)-(?P<position>\d+)")
_UNSAFE_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9_-]+")
FILE_STEM_LIMIT = 64


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
        """Our reference at providers, unique across stores: `main-1234`."""
        if self.store == ANY_STORE:
            raise ValueError(f"order {self.number} names no store; providers need one")
        return f"{self.store}{PROVIDER_SEPARATOR}{self.number}"

    @property
    def print_name(self) -> str:
        """How the renderer names the order (file names, the print file's comment)."""
        return self.provider

    def names_store(self, key: str) -> bool:
        """Whether a store with `key` may hold this order (any store, when none is named)."""
        return self.store == ANY_STORE or self.store == key

    @classmethod
    def parse_staff(cls, text: str) -> OrderRef:
        """A reference typed in a command: `1234`, `#1234`, `main:1234`, `main/1234`."""
        match = _STAFF.fullmatch(text.strip())
        if not match:
            raise InvalidInput(f"{text!r} is not an order number (expected something like 1234)")
        return cls(match.group("store") or ANY_STORE, match.group("number"))

    @classmethod
    def parse_pasted(cls, text: str) -> OrderRef:
        """A reference from a pasted row, unchecked (the look-up refuses what is not there):
        `main:1234` or `1234`, split at the first `:`."""
        store, sep, number = text.partition(STAFF_SEPARATOR)
        return cls(store, number) if sep else cls.any_store(text)

    @classmethod
    def parse_provider(cls, text: str) -> OrderRef:
        """Our reference as a provider or a callback URL hands it back: `main-1234`."""
        store, sep, number = text.partition(PROVIDER_SEPARATOR)
        if not (sep and store and number):
            raise OrderNotFound(text)
        return cls(store, number)


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
    def parse(cls, text: str) -> LineRef:
        """A line typed in the Tracking tab: `1234-02`, `main:1234-2`."""
        match = _TYPED_LINE.fullmatch(text)
        if not match:
            raise InvalidInput(
                f"{text!r} is not a line reference (expected something like 10001-01)"
            )
        return cls(OrderRef.parse_pasted(match.group("order")), int(match.group("position")))

    @classmethod
    def parse_label(cls, text: str) -> LineRef:
        """A line label handed back (a provider's line id): `1234-02`; the store is not in it."""
        match = _LABEL.fullmatch(text)
        if not match:
            raise InvalidInput(
                f"{text!r} is not a line reference (expected something like 10001-01)"
            )
        return cls(OrderRef.any_store(match.group("number")), int(match.group("position")))


def print_file_stem(print_name: str, position: int) -> str:
    """The stem of a line's print-file names: the order's print name kept to
    `[A-Za-z0-9_-]` and 64 characters, then the line position (`main-1234-2`)."""
    safe = _UNSAFE_IN_FILE_NAME.sub("_", print_name).strip("_")
    return f"{safe[:FILE_STEM_LIMIT] or 'order'}-{position}"
