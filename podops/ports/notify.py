"""What the core tells people, and the port that carries it (Slack or the console).

The message content is plain data built by `podops.reports`; each notifier
renders it its own way (Slack blocks, console text), so both channels say the
same thing. Notifiers raise `NotifyError(retryable=...)` so the outbox backs
off on an outage or a rate limit and loses nothing.

Delivery is effectively once: each post carries our own reference (`PostKey`),
and a retry first looks for a message an earlier attempt posted with it (the
chat accepted it, then the worker died before our commit) instead of posting
again, like the provider submission reconciles by our order reference.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from podops.errors import OutsideServiceError
from podops.photos import PhotoStatus


class NotifyError(OutsideServiceError):
    """Slack (or another chat) refused or failed to take a message."""


class AlertGone(NotifyError):
    """The order's alert (or the thread a post was for) no longer exists: someone
    deleted the message, or its channel is gone. Retrying cannot help."""

    def __init__(self, ref: str) -> None:
        super().__init__(f"the message {ref} no longer exists", retryable=False)
        self.ref = ref


ChartRenderer = Callable[["DailySummary"], bytes]
"""Draws the summary's orders per day (stacked by store, late orders marked) as a PNG
(an adapter: the core draws nothing)."""


@dataclass(frozen=True, slots=True)
class Chart:
    """One PNG a report posts, with the file name and title people see."""

    filename: str
    title: str
    png: bytes


ReportCharts = Callable[..., list[Chart]]
"""Draws a period report's charts (an adapter; called with a `podops.reporting` Report
in the process that built it)."""


@dataclass(frozen=True, slots=True)
class ItemLine:
    reference: str
    sku: str
    name: str
    quantity: int
    quantity_shipped: int
    personalization: dict[str, str]
    preview_file: str | None
    print_file_state: str  # "none", "current", "stale"
    photos: tuple[PhotoStatus, ...] = ()
    """The line's photos: crop, and the DPI at the print size once measured."""
    placed_previews: tuple[tuple[str, str], ...] = ()
    """(placement, preview file) per print file when the line has several (a tee's
    front and back); empty: `preview_file` is the line's one preview."""


@dataclass(frozen=True, slots=True)
class TrackingLine:
    carrier: str
    number: str
    url: str
    shipped_at: datetime


@dataclass(frozen=True, slots=True)
class PartLine:
    """One fulfillment of an order as staff see it (what one provider makes), or, when
    `held`, the lines no rule routes that stay here."""

    seq: int
    label: str
    """`part 2`, or `held`."""
    provider: str
    reference: str
    """Our reference at the provider (`main--1234_P2`); "" for held lines."""
    status: str
    """A `FulfillmentStatus` value, or `held`."""
    status_label: str
    lines: dict[str, int]
    """Line label -> units it makes."""
    provider_order_id: str = ""
    error: str = ""
    tracking: tuple[str, ...] = ()
    """`UPS 1Z...` of each parcel its provider reported."""
    held: bool = False
    remake: str = ""
    """For a remake: `remake of part 1 (misprint, provider pays)`; "" otherwise."""
    old_address: str = ""
    """The address its provider kept when it is not the order's (a split order's change
    this provider refused or missed), on one line; "" : it ships to the order's."""

    @property
    def note(self) -> str:
        """What staff read beside it: its error, else its parcels, else the provider's id
        (after what it remakes, for a remake); then the old address it still ships to."""
        said = self.error or ", ".join(self.tracking) or self.provider_order_id
        kept = f"still ships to the old address: {self.old_address}" if self.old_address else ""
        return "; ".join(text for text in (self.remake, said, kept) if text)


@dataclass(frozen=True, slots=True)
class EventLine:
    at: datetime
    actor: str
    action: str
    text: str


@dataclass(frozen=True, slots=True)
class OrderCard:
    """A snapshot of one order as staff see it on an alert or `/order show`."""

    reference: str  # "store:number", unambiguous for buttons
    number: str
    store: str
    status: str
    status_label: str
    customer_name: str
    customer_email: str
    total: str
    submit_at: datetime | None
    countdown: str
    hold_reason: str | None
    last_error: str | None
    problems: list[str]
    items: list[ItemLine]
    tracking: list[TrackingLine]
    events: list[EventLine]
    actions: list[str]  # which buttons make sense now: submit, hold, release, edit, cancel
    held_by: str | None = None
    """Who holds the order (a person, the shop, intake), shown with the hold reason."""
    design: str = ""
    """Design readiness in words ("needs design", "ready; ..."), apart from the hold."""
    shipping: str = ""
    """The speed it ships at in words ("express (Express Shipping)"; `podops.speeds`)."""
    rush: bool = False
    """A rush speed (its own countdown): flagged on every card and row."""
    speed: str = ""
    """The speed's name ("" while no table maps the store's method): the edit form's choice."""
    address: dict[str, str] = field(default_factory=dict)
    """The shipping address as staff name its fields (`podops.address.shown`)."""
    address_check: str = ""
    """The last address verification in words ("verified by EasyPost", "did not verify...")."""
    fulfillments: list[PartLine] = field(default_factory=list)
    """Each fulfillment (one per provider) and the lines held here; shown when the
    order went to more than one provider or has held lines."""
    returned: str = ""
    """What came back: `1234-01 x1 (wrong size)` ("" when nothing; `services.returns`)."""

    @property
    def split(self) -> bool:
        """Worth a section of its own: several providers, or lines left here."""
        return len(self.fulfillments) > 1 or any(p.held for p in self.fulfillments)


@dataclass(frozen=True, slots=True)
class EventNotice:
    """One change to an order, threaded under its alert."""

    order_number: str
    text: str
    problem: bool = False


@dataclass(frozen=True, slots=True)
class NamedOrder:
    number: str
    customer_name: str
    status_label: str
    age_days: int
    note: str = ""
    rush: bool = False


@dataclass(frozen=True, slots=True)
class DailySummary:
    day: date
    received: int
    submitted: int
    shipped: int
    cancelled: int
    submit_failures: int
    pending_by_age: dict[str, int]
    late: list[NamedOrder]
    failed: list[NamedOrder]
    per_day: list[tuple[date, int]] = field(default_factory=list)
    rush_received: int = 0
    rush_waiting: list[NamedOrder] = field(default_factory=list)
    """Rush orders not yet at their provider (held, needing design, failed, due)."""
    split: list[NamedOrder] = field(default_factory=list)
    """Open orders sent as several fulfillments whose parts stand apart (one shipped,
    one failed...), each part in the note."""
    remakes: list[tuple[str, str, int]] = field(default_factory=list)
    """Remakes asked for that day: (reason, who pays, how many)."""
    per_store: list[dict[str, int]] = field(default_factory=list)
    """Beside `per_day`: each day's orders by store."""
    late_per_day: list[int] = field(default_factory=list)
    """Beside `per_day`: of each day's orders, how many are late now."""
    timezone: str = "UTC"
    """The shop's time zone, whose days these are (the chart says so)."""
    returned: list[NamedOrder] = field(default_factory=list)
    """Orders with goods back that day (apart from remakes), what came back and why in
    the note (`1234-01 x1 (wrong size)`)."""
    delivered: list[NamedOrder] = field(default_factory=list)
    """Orders with parcels delivered that day (from the trackers), the parcels in the
    note (`delivered: USPS 9400...`)."""
    parcels_delivered: int = 0
    retrying: int = 0
    """Store and Slack messages that keep failing, still retried (outbox.retrying)."""
    retrying_first: list[str] = field(default_factory=list)
    """The first of them, `1001 (tracking)`."""


def retrying_in_words(summary: DailySummary) -> str:
    """`2 store or Slack messages keep failing: 1001 (tracking), 1002 (status) -
    podops status says why`; empty when none."""
    if not summary.retrying:
        return ""
    first = ", ".join(summary.retrying_first)
    more = "" if len(summary.retrying_first) >= summary.retrying else ", ..."
    return (
        f"{summary.retrying} store or Slack message(s) keep failing: {first}{more}"
        " (`podops status` says why)"
    )


def remakes_in_words(counts: list[tuple[str, str, int]]) -> str:
    """`2 misprint (provider pays), 1 lost (carrier pays)`; empty when none."""
    return ", ".join(f"{n} {reason} ({payer} pays)" for reason, payer, n in counts)


@dataclass(frozen=True, slots=True)
class Dashboard:
    counts: dict[str, int]
    due_soon: list[NamedOrder]
    problems: list[NamedOrder]
    generated_at: datetime


@dataclass(frozen=True, slots=True)
class Digest:
    """Many orders in the same situation, told once: what happened (and what to do),
    then the first orders, and how many more."""

    title: str
    orders: list[NamedOrder]
    more: int = 0


@dataclass(frozen=True, slots=True)
class PostKey:
    """Our own reference for one post, stored with the message in the chat so a
    retry can find what an earlier attempt posted."""

    value: str  # the outbox dedup_key, or a stable per-post key derived from it
    since: datetime  # the post cannot be older than this (the outbox message's creation)
    look_first: bool = False  # an earlier attempt may have reached the chat


class Notifier(Protocol):
    """Where alerts, order events and the daily summary go.

    With a `key` whose `look_first` is set, a post that already exists is reused
    (its reference returned, the image not uploaded again)."""

    def post_alert(self, card: OrderCard, key: PostKey | None = None) -> str:
        """Post a countdown alert; return its reference ("channel:ts") for later updates."""
        ...

    def update_alert(self, ref: str, card: OrderCard) -> None: ...

    def post_event(
        self, notice: EventNotice, thread: str | None, key: PostKey | None = None
    ) -> str: ...

    def post_summary(self, summary: DailySummary, key: PostKey | None = None) -> str:
        """Post the summary numbers; return the message reference."""
        ...

    def post_image(
        self,
        ref: str,
        data: bytes,
        *,
        filename: str,
        title: str,
        in_thread: bool,
        key: PostKey | None = None,
    ) -> None:
        """Upload a PNG into the channel of `ref` (in its thread when `in_thread`)."""
        ...

    def post_digest(self, digest: Digest, key: PostKey | None = None) -> str:
        """Post one message listing many orders; return its reference."""
        ...

    def post_report(self, title: str, lines: list[str], key: PostKey | None = None) -> str:
        """Post a report's headline numbers (plain lines, escaped by the notifier); return
        the message reference its charts go under."""
        ...


class GroupDirectory(Protocol):
    """Who belongs to a user group (Slack `S…` ids)."""

    def members(self, group_id: str) -> frozenset[str]: ...
