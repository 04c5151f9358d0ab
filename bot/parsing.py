"""The `/order` text, parsed into a command without touching anything else.

`1234` and `#1234` both name an order (also `store:1234`), and so does any other
number a store sends (`2024/5001`, `12:30`); a number with spaces is put in
quotes (`/order show "A 12"`, also typographic quotes as Slack clients type
them), kept inside them exactly as typed (`" 17"`, `"A  12"`). Anything the
parser cannot read becomes `InvalidInput` with the usage line, so the person
sees what to type instead. `USAGE` is what `/order help` shows: every word
outside brackets is required and the bracketed ones optional, exactly as
`parse` reads them (REASON stands for the words staff type).
"""

from __future__ import annotations

from dataclasses import dataclass

from podops.errors import InvalidInput
from podops.refs import OrderRef

USAGE: dict[str, str] = {
    "submit": "/order submit 1234",
    "cancel": "/order cancel 1234 REASON",
    "hold": "/order hold 1234 [REASON]",
    "release": "/order release 1234",
    "edit": "/order edit 1234",
    "show": "/order show 1234",
    "find": "/order find smith [--state not-shipped|partially-shipped|shipped|cancelled|returned]",
    "track": "/order track 1234 UPS 1Z999AA10123456784 [SKU QTY ...]",
    "fulfilled": "/order fulfilled 1234 [UPS 1Z999AA10123456784]",
    "remake": "/order remake 1234 [--line L [--qty Q] ...] REASON --pays PAYER",
    "return": "/order return 1234 [--line L --qty Q ...] REASON",
    "label": "/order label 1234 [--line L] [--qty Q] [--rate cheapest|fastest|CARRIER:SERVICE]",
    "summary": "/order summary",
    "help": "/order help",
}
NEEDS_ORDER = frozenset(
    {
        "submit",
        "cancel",
        "hold",
        "release",
        "edit",
        "show",
        "track",
        "fulfilled",
        "remake",
        "return",
        "label",
    }
)
MAX_QUANTITY = 10_000
_QUOTES = {'"': '"', "\u201c": "\u201d", "'": "'", "\u2018": "\u2019"}
"""Quotes around an order number with spaces, opening -> closing."""


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    reference: str = ""
    reason: str = ""
    text: str = ""
    carrier: str = ""
    tracking_number: str = ""
    lines: tuple[tuple[str, int], ...] = ()
    remade: tuple[tuple[int, int | None], ...] = ()
    """`remake`, `return`: (line position, units or None for every unit that shipped);
    `label`: the line and units the parcel holds (None: every unit still open)."""
    pays: str = ""
    rate: str = ""
    """`label --rate`: cheapest, fastest or CARRIER:SERVICE, as typed (the core reads it)."""
    states: tuple[str, ...] = ()
    """`find --state`: the order states asked for (`podops.order_views`), as typed."""
    unknown: str = ""  # the word we did not recognise (shown with the help)


def usage_error(name: str, problem: str) -> InvalidInput:
    return InvalidInput(f"{problem}. Usage: `{USAGE[name]}`")


def parse(text: str) -> Command:
    """Parse the text after `/order`."""
    words = text.split()
    if not words:
        return Command("help")
    name, rest = words[0].lower(), words[1:]
    if name not in USAGE:
        return Command("help", unknown=words[0])
    if name in ("help", "summary"):
        return Command(name)
    if name == "find":
        return _find(rest)
    if not rest:
        raise usage_error(name, f"`{name}` needs an order number")
    word, args = _first_word(text.lstrip()[len(words[0]) :], rest)
    reference = _reference(name, word)
    if name == "track":
        return _track(reference, args)
    if name == "remake":
        return _remake(reference, args)
    if name == "return":
        return _return(reference, args)
    if name == "label":
        return _label(reference, args)
    if name == "fulfilled":
        if len(args) not in (0, 2):
            raise usage_error(name, "give the carrier and the tracking number, or neither")
        carrier, number = args if args else ("", "")
        return Command(name, reference, carrier=carrier, tracking_number=number)
    if name == "cancel" and not args:
        raise usage_error(name, f"say why order {reference.lstrip('#')} is cancelled")
    if name in ("cancel", "hold"):
        return Command(name, reference, reason=" ".join(args))
    if args:
        raise usage_error(name, f"`{name}` takes only an order number, not `{' '.join(args)}`")
    return Command(name, reference)


def _first_word(after: str, words: list[str]) -> tuple[str, list[str]]:
    """The order number and the words after it: `"A 12" UPS 1Z...` -> `A 12`, rest.
    Inside quotes the number is kept as typed (`" 17"`, `"A  12"`): stores send such
    numbers, and another order may be numbered the same without the spaces."""
    after = after.lstrip()
    closing = _QUOTES.get(after[:1])
    if closing is not None:
        end = after.find(closing, 1)
        following = after[end + 1 : end + 2]
        if end > 0 and (not following or following.isspace()):
            return after[1:end], after[end + 1 :].split()
    return words[0], words[1:]


def _reference(name: str, word: str) -> str:
    try:
        OrderRef.parse_staff(word)
    except InvalidInput as exc:
        raise usage_error(name, exc.message) from None
    return word


def _track(reference: str, args: list[str]) -> Command:
    if len(args) < 2:
        raise usage_error("track", "`track` needs the carrier and the tracking number")
    carrier, number, extra = args[0], args[1], args[2:]
    if len(extra) % 2:
        raise usage_error("track", "give each line as a SKU and a quantity")
    lines: list[tuple[str, int]] = []
    for sku, quantity in zip(extra[::2], extra[1::2], strict=True):
        if not quantity.isdigit() or not 0 < int(quantity) <= MAX_QUANTITY:
            raise usage_error("track", f"`{quantity}` is not a quantity for {sku}")
        lines.append((sku, int(quantity)))
    return Command("track", reference, carrier=carrier, tracking_number=number, lines=tuple(lines))


def _find(args: list[str]) -> Command:
    """The words to look for, and `--state S` (repeatable); the core reads the states."""
    words: list[str] = []
    states: list[str] = []
    given = iter(args)
    for word in given:
        if word.lower() != "--state":
            words.append(word)
            continue
        value = next(given, "")
        if not value:
            raise usage_error("find", "`--state` needs a state")
        states.append(value)
    query = " ".join(words)
    if not query and not states:
        raise usage_error("find", "say what to look for (a number, name or email, or a --state)")
    return Command("find", text=query[:100], states=tuple(states))


def _return(reference: str, args: list[str]) -> Command:
    """`--line L [--qty Q]` (repeated) and the reason's words; the core checks the
    quantities against what shipped."""
    returned: list[tuple[int, int | None]] = []
    reason: list[str] = []
    words = iter(args)
    for word in words:
        flag = word.lower()
        if flag not in ("--line", "--qty"):
            reason.append(word)
            continue
        value = next(words, "")
        if not value:
            raise usage_error("return", f"`{word}` needs a value")
        if flag == "--line":
            returned.append((_count("line", value, "return"), None))
        elif not returned or returned[-1][1] is not None:
            raise usage_error("return", "give `--qty` after the `--line` it counts")
        else:
            returned[-1] = (returned[-1][0], _count("quantity", value, "return"))
    if not reason:
        raise usage_error("return", f"say why order {reference.lstrip('#')} came back")
    return Command("return", reference, reason=" ".join(reason), remade=tuple(returned))


def _label(reference: str, args: list[str]) -> Command:
    """`--line L [--qty Q]` (one line, or the whole open order) and `--rate RULE`."""
    line: int | None = None
    qty: int | None = None
    rate = ""
    words = iter(args)
    for word in words:
        flag = word.lower()
        if flag not in ("--line", "--qty", "--rate"):
            raise usage_error("label", f"`{word}` is not an option of `label`")
        value = next(words, "")
        if not value:
            raise usage_error("label", f"`{word}` needs a value")
        if flag == "--rate":
            rate = value
        elif flag == "--line":
            if line is not None:
                raise usage_error("label", "one `--line` per label")
            line = _count("line", value, "label")
        elif line is None:
            raise usage_error("label", "give `--qty` after the `--line` it counts")
        else:
            qty = _count("quantity", value, "label")
    parcel = ((line, qty),) if line is not None else ()
    return Command("label", reference, remade=parcel, rate=rate)


def _remake(reference: str, args: list[str]) -> Command:
    """`--line L [--qty Q]` (repeated), the reason's words, `--pays PAYER`; the core
    checks the reason, the payer and the quantities against what shipped."""
    remade: list[tuple[int, int | None]] = []
    reason: list[str] = []
    pays = ""
    words = iter(args)
    for word in words:
        flag = word.lower()
        if flag not in ("--line", "--qty", "--pays"):
            reason.append(word)
            continue
        value = next(words, "")
        if not value:
            raise usage_error("remake", f"`{word}` needs a value")
        if flag == "--pays":
            pays = value
        elif flag == "--line":
            remade.append((_count("line", value), None))
        elif not remade or remade[-1][1] is not None:
            raise usage_error("remake", "give `--qty` after the `--line` it counts")
        else:
            remade[-1] = (remade[-1][0], _count("quantity", value))
    if not reason:
        raise usage_error("remake", "say why it is remade")
    if not pays:
        raise usage_error("remake", "say who pays with `--pays`")
    return Command("remake", reference, reason=" ".join(reason), remade=tuple(remade), pays=pays)


def _count(what: str, value: str, command: str = "remake") -> int:
    if not value.isdigit() or not 0 < int(value) <= MAX_QUANTITY:
        raise usage_error(command, f"`{value}` is not a {what}")
    return int(value)
