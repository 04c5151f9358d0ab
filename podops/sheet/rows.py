"""What the Orders tab shows: the tab layouts and one row per line item.

Pure functions over plain data, so the mirror's hot path is a loop over lists
(no pandas, no ORM objects). Row values are what gets written (RAW); `cell_text`
turns them into the text a spreadsheet shows, which is how values read back
are compared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from podops.address import FIELDS as ADDRESS_FIELDS
from podops.address import PREFIX
from podops.order_views import VIEW_STATUSES, OrderView
from podops.ports.sheet import Cell, TabSpec
from podops.products.rows import COLUMNS as PRODUCT_COLUMNS
from podops.refs import LineRef, OrderRef
from podops.status import OrderStatus

ORDERS = "Orders"
TRACKING = "Tracking"
PRODUCTS = "Products"
ARCHIVE = "Archive"

KEY = "key"
MESSAGE = "sheet message"
HOLD = "hold"
NOTES = "notes"
PREVIEW = "preview"
FULFILLED = "fulfilled by shop"
"""Staff type `yes` (or the parcel's `CARRIER NUMBER`) for an order the shop already
fulfilled by hand: it is completed, nothing is sent to a provider."""
SHIPPING = "shipping"
"""The speed the order ships at (`express`); staff type a speed of its store's table."""
RUSH = "rush"
"""`RUSH` on orders whose speed has its own countdown (read-only)."""
CROP = "crop"
"""Staff move and zoom the line's photo: `zoom=1.5 x=10% y=0%` (docs/sheet.md)."""
ACCEPT_PHOTO = "accept photo"
"""Staff tick it to print a photo under its template's minimum resolution as it is."""
ADDRESS_HEADERS: tuple[str, ...] = tuple(PREFIX + name for name in ADDRESS_FIELDS)
"""The shipping address, one editable column per field (`address.line2`), the same names
as `podops edit`; each line of an order shows its order's address. The cells of one row
change together (all or none)."""
RETURN = "return"
"""Goods that came back: staff type the reason (`wrong size`: every unit of the line that
shipped), or units and reason (`1 wrong size`); podops shows `returned 2 (wrong size)`."""
LABEL = "label"
"""The shipping labels bought for the line's parcels (manual provider): a link to each
label's PDF (the web role's signed /files/ link, or a presigned URL from the bucket)."""
STATUS = "status"
FULFILLMENT = "fulfillment"
"""Where the line went: its provider, our reference there and that fulfillment's status
(`so main--1234_P2: submit failed: ...`), or `held: ...` for a line no rule routes."""
FIXED_HEADERS: tuple[str, ...] = (
    KEY,
    "order",
    "line",
    "store",
    STATUS,
    "placed",
    "submit at",
    "customer",
    "ship to",
    "sku",
    "product",
    "qty",
    "shipped",
    "tracking",
    "tracking link",
    "problems",
    MESSAGE,
    HOLD,
    NOTES,
    PREVIEW,
    FULFILLED,
    SHIPPING,
    RUSH,
    CROP,
    ACCEPT_PHOTO,
    FULFILLMENT,
    *ADDRESS_HEADERS,
    RETURN,
    LABEL,
)
"""Columns are only ever added at the end (before the fields): an existing sheet's
columns then keep their places and are read by the headers it was written with."""
TAIL_START = FIXED_HEADERS.index(MESSAGE)
"""Row index where the part people touch begins (message, hold, notes, fields)."""

ARCHIVE_HEADERS: tuple[str, ...] = (
    KEY,
    "order",
    "line",
    "store",
    STATUS,
    "placed",
    "customer",
    "ship to",
    "sku",
    "product",
    "qty",
    "shipped",
    "tracking",
    NOTES,
    "personalization",
    "archived at",
)
TRACKING_HEADERS: tuple[str, ...] = (
    "reference",
    "tracking_company",
    "tracking_number",
    "sku",
    "quantity",
    "result",
)

RUSH_MARK = "RUSH"

HELD_NEEDS_DESIGN = "on hold, needs design"
"""Status cell of a held order whose design was refused: the hold and the design apart."""

MAX_CELL_TEXT = 5000
"""Well under Google's 50,000 characters per cell; longer customer text is cut."""


@dataclass(frozen=True, slots=True)
class SheetLine:
    """One line item with what its row shows, loaded in bulk by `podops.sheet.data`."""

    key: str
    order_number: str
    position: int
    store: str
    status: OrderStatus
    placed_at: datetime
    submit_at: datetime | None
    customer: str
    country: str
    sku: str
    product: str
    quantity: int
    shipped: int
    tracking: tuple[tuple[str, str, str], ...]
    """(carrier, number, link) of each parcel holding this line."""
    problems: tuple[str, ...]
    note: str
    personalization: dict[str, str]
    """Its fields by name: texts, and photo fields' links."""
    preview: str = ""
    """The line's preview image (a file name in the print-file folder, or a URL)."""
    under_hold: str = ""
    """A held order's status under its hold (`Order.held_from`): design readiness."""
    shipping_speed: str = ""
    """The order's speed ("" while no table maps the store's method)."""
    rush: bool = False
    crop: str = ""
    """The photos' crops as staff type them (`podops.photos.crop_cell`)."""
    photo_accepted: bool = False
    """A photo under its minimum resolution prints as it is: staff accepted it."""
    address: tuple[tuple[str, str], ...] = ()
    """The order's shipping address as (field, value) in `podops.address.FIELDS` order."""
    part: str = ""
    """The fulfillment that makes the line, in words (see `FULFILLMENT`)."""
    returned: str = ""
    """What came back of the line and why (`returned 2 (wrong size)`; see `RETURN`)."""
    labels: tuple[str, ...] = ()
    """Where the PDFs of the labels bought for the parcels holding it are stored."""

    @property
    def status_text(self) -> str:
        """The status cell: a held order that needs design says both."""
        if self.status == OrderStatus.ON_HOLD and self.under_hold == OrderStatus.NEEDS_DESIGN:
            return HELD_NEEDS_DESIGN
        return self.status.label

    @property
    def reference(self) -> str:
        """The line label staff see and type back: `10001-01`."""
        return LineRef(self.order_reference, self.position).label

    @property
    def order_reference(self) -> OrderRef:
        """The order with its store, unambiguous when two stores share an order number."""
        return OrderRef(self.store, self.order_number)


def field_headers(fields: Iterable[str]) -> dict[str, str]:
    """Header -> personalization field name; a field named like a fixed column is prefixed."""
    headers: dict[str, str] = {}
    for name in fields:
        header = f"personalization {name}" if name in FIXED_HEADERS else name
        headers[header] = name
    return headers


def orders_tab(fields: Sequence[str]) -> TabSpec:
    extra = tuple(field_headers(fields))
    return TabSpec(
        title=ORDERS,
        headers=FIXED_HEADERS + extra,
        editable=frozenset(
            {HOLD, NOTES, FULFILLED, SHIPPING, CROP, ACCEPT_PHOTO, RETURN, *ADDRESS_HEADERS, *extra}
        ),
        hidden=frozenset({KEY}),
        checkboxes=frozenset({HOLD, ACCEPT_PHOTO}),
        text_columns=frozenset({FULFILLED, CROP, RETURN, *ADDRESS_HEADERS}),
        status_column=STATUS,
    )


PRODUCTS_HEADERS: tuple[str, ...] = (*PRODUCT_COLUMNS, "result")
"""The Products tab: the table's rows as staff type them, podops' verdict beside each."""


def products_tab() -> TabSpec:
    return TabSpec(
        title=PRODUCTS,
        headers=PRODUCTS_HEADERS,
        editable=frozenset(PRODUCT_COLUMNS),
        text_columns=frozenset(PRODUCT_COLUMNS),
    )


def tracking_tab() -> TabSpec:
    return TabSpec(
        title=TRACKING,
        headers=TRACKING_HEADERS,
        editable=frozenset(TRACKING_HEADERS[:5]),
        text_columns=frozenset(TRACKING_HEADERS[:5]),
    )


def archive_tab() -> TabSpec:
    return TabSpec(
        title=ARCHIVE,
        headers=ARCHIVE_HEADERS,
        hidden=frozenset({KEY}),
        status_column=STATUS,
        protect_all=True,
    )


EXACT_LIMIT = 10**15
"""From here on a spreadsheet number has lost digits (15 significant digits kept)."""


def cell_text(value: Cell | None) -> str:
    """The text a spreadsheet shows for a value (General format).

    A number of 10^15 or more is shown as Google shows it (`9.40011E+21`): its digits
    are not exact any more, so it must never pass for a tracking number."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float) and abs(value) >= EXACT_LIMIT:
        mantissa, exponent = f"{float(value):.5E}".split("E")
        mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}E{exponent[0]}{int(exponent[1:]):02d}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def safe_text(text: str) -> str:
    """Customer text as a literal cell: control characters dropped, length bounded."""
    if not text.isprintable():
        text = "".join(ch for ch in text if ch >= " " or ch in "\t\n")
    return text[:MAX_CELL_TEXT]


def _moment(value: datetime | None, tz: tzinfo) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else ""


PreviewLink = Callable[[str], str]
"""A stored file (a preview, a label) -> the link shown in the sheet ("" when files are
not served)."""


def build_row(
    line: SheetLine,
    fields: dict[str, str],
    tz: tzinfo,
    message: str = "",
    link: PreviewLink | None = None,
) -> list[Cell]:
    """The Orders row of one line item, in `orders_tab(fields)` column order."""
    row: list[Cell] = [
        line.key,
        line.order_number,
        line.reference,
        line.store,
        line.status_text,
        _moment(line.placed_at, tz),
        _moment(line.submit_at, tz) if line.status == OrderStatus.PENDING else "",
        safe_text(line.customer),
        safe_text(line.country),
        safe_text(line.sku),
        safe_text(line.product),
        line.quantity,
        line.shipped,
        "; ".join(f"{carrier} {number}" for carrier, number, _ in line.tracking),
        " ".join(link for _, _, link in line.tracking if link),
        safe_text("; ".join(line.problems)),
        message,
        line.status == OrderStatus.ON_HOLD,
        safe_text(line.note),
        link(line.preview) if link is not None and line.preview else "",
        "",
        line.shipping_speed,
        RUSH_MARK if line.rush else "",
        line.crop,
        line.photo_accepted,
        safe_text(line.part),
    ]
    shown = dict(line.address)
    row.extend(safe_text(shown.get(name, "")) for name in ADDRESS_FIELDS)
    row.append(safe_text(line.returned))
    row.append(" ".join(link(label) for label in line.labels) if link is not None else "")
    row.extend(safe_text(str(line.personalization.get(name, ""))) for name in fields.values())
    return row


class RowCache:
    """Rows built last cycle, reused while their line, message and columns are unchanged.

    Most lines do not change between two cycles; comparing a line with the one its
    row was built from costs a fraction of formatting the row again."""

    def __init__(self) -> None:
        self._layout: tuple[object, ...] = ()
        self._built: dict[str, tuple[SheetLine, str, list[Cell]]] = {}
        self.texts: dict[str, list[str]] = {}
        """Key -> the row as a spreadsheet shows it, to compare with what was read
        at C speed (made once per row built, not every cycle)."""

    def rows(
        self,
        lines: Sequence[SheetLine],
        fields: dict[str, str],
        tz: tzinfo,
        messages: dict[str, str],
        link: PreviewLink | None = None,
    ) -> dict[str, list[Cell]]:
        """`link` may carry an `epoch` (links change when it does: rows are rebuilt)."""
        layout = (tuple(fields.items()), tz, link, getattr(link, "epoch", None))
        before = self._built if layout == self._layout else {}
        built: dict[str, tuple[SheetLine, str, list[Cell]]] = {}
        texts: dict[str, list[str]] = {}
        old_texts = self.texts
        for line in lines:
            message = messages.get(line.key, "")
            hit = before.get(line.key)
            if hit is not None and hit[1] == message and hit[0] == line:
                built[line.key] = hit
                texts[line.key] = old_texts[line.key]
            else:
                row = build_row(line, fields, tz, message, link)
                built[line.key] = (line, message, row)
                texts[line.key] = [cell_text(value) for value in row]
        self._built, self._layout, self.texts = built, layout, texts
        return {key: row for key, (_, _, row) in built.items()}


def archive_row(headers: Sequence[str], row: Sequence[Cell], archived_at: str) -> list[Cell]:
    """An Archive row made from the Orders row last written for that line."""
    by_header = dict(zip(headers, row, strict=False))
    extra = [h for h in headers if h not in FIXED_HEADERS]
    personalization = "; ".join(
        f"{h}={cell_text(by_header[h])}" for h in extra if cell_text(by_header.get(h))
    )
    values: list[Cell] = []
    for header in ARCHIVE_HEADERS:
        if header == "personalization":
            values.append(personalization)
        elif header == "archived at":
            values.append(archived_at)
        else:
            values.append(by_header.get(header, ""))
    return values


def archived_line_row(line: SheetLine, tz: tzinfo, archived_at: str) -> list[Cell]:
    """The Archive row of a line that was finished before the sheet first showed it."""
    names = sorted(line.personalization)
    headers = orders_tab(names).headers
    return archive_row(headers, build_row(line, field_headers(names), tz), archived_at)


FILTER_VIEWS: dict[str, tuple[str, ...]] = {
    view.value: tuple(sorted(s.label for s in VIEW_STATUSES[view])) for view in OrderView
}
"""One filter view of the Orders tab per order state (`podops.order_views`): its title ->
the status cells it shows. The returned view also shows rows with anything in `return`
(lines with some units back)."""
SHIPPED_TRACKING: tuple[str, ...] = (
    OrderStatus.PARTIALLY_SHIPPED.label,
    OrderStatus.SHIPPED.label,
    OrderStatus.COMPLETED.label,
)
"""Rows whose tracking cells take their status cell's colour (green shades)."""

STATUS_COLOURS: dict[str, str] = {
    OrderStatus.PENDING.label: "DDEBF7",
    OrderStatus.ON_HOLD.label: "FFF2CC",
    HELD_NEEDS_DESIGN: "F6E0B5",
    OrderStatus.NEEDS_DESIGN.label: "EAD1F5",
    OrderStatus.SUBMIT_FAILED.label: "F4CCCC",
    OrderStatus.SUBMITTED.label: "CFE2F3",
    OrderStatus.IN_PRODUCTION.label: "CFE2F3",
    OrderStatus.PARTIALLY_SHIPPED.label: "D9EAD3",
    OrderStatus.SHIPPED.label: "B6D7A8",
    OrderStatus.COMPLETED.label: "E2EFDA",
    OrderStatus.CANCELLED.label: "E7E6E6",
    OrderStatus.RETURNED.label: "E7E6E6",
}
"""Background colour (hex RGB) of the status cell, by the status shown."""
