"""TEST MODE store (platform "sandbox"): a pretend WooCommerce shop that needs no account.

Like a payment processor's test mode: it produces realistic personalized
orders (accented names, addresses in several countries, TEE-*/MUG-* SKUs,
"name"/"message" fields, some with a photo link, a few problem orders, some
on-hold or later cancelled, some paid for express shipping) deterministically
from a seed and the clock, as WooCommerce-shaped JSON mapped by the very same
code as a real shop. What podops pushes back (status, tracking) is recorded
in a journal file so the demo can show "pushed to the store", and is
reflected in later polls.
"""

from __future__ import annotations

import json
import random
import threading
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from podops.models import utcnow
from podops.ports.store import STAFF_HOLD_STATUSES, OrderPage, PushResult, TrackingPush
from podops.settings import PersonalizationMapping, StoreConfig
from providers.woocommerce_mapping import map_order_safely, modified_at

ANCHOR = datetime(2025, 1, 1, tzinfo=UTC)
CANCEL_AFTER_SLOTS = 10  # a few orders are cancelled in the shop this many slots later
PHOTOS = 6
PAGE = 100
DEFAULT_MAPPING = PersonalizationMapping(
    fields={"Name": "name", "Message": "message"}, images={"Photo": "photo"}
)
PEOPLE = (
    ("José", "Álvarez"),
    ("Zoë", "Müller"),
    ("François", "Lefèvre"),
    ("Søren", "Kjærgaard"),
    ("Ana", "Smith"),
    ("Łukasz", "Nowak"),
    ("Chloé", "Dubois"),
    ("Siobhán", "O'Connor"),
    ("Björn", "Åström"),
    ("Renée", "García"),
    ("Mia", "Nguyễn"),
    ("Oliver", "Brown"),
)
PLACES = (
    {
        "address_1": "12 Main St",
        "city": "Springfield",
        "state": "IL",
        "postcode": "62701",
        "country": "US",
    },
    {
        "address_1": "350 5th Ave",
        "city": "New York",
        "state": "NY",
        "postcode": "10118",
        "country": "US",
    },
    {
        "address_1": "221B Baker Street",
        "city": "London",
        "state": "",
        "postcode": "NW1 6XE",
        "country": "GB",
    },
    {
        "address_1": "Hauptstraße 5",
        "city": "München",
        "state": "BY",
        "postcode": "80331",
        "country": "DE",
    },
    {
        "address_1": "9 Rue de la Paix",
        "city": "Paris",
        "state": "",
        "postcode": "75002",
        "country": "FR",
    },
    {
        "address_1": "100 Queen St W",
        "city": "Toronto",
        "state": "ON",
        "postcode": "M5H 2N2",
        "country": "CA",
    },
    {
        "address_1": "Calle Mayor 1",
        "city": "Madrid",
        "state": "M",
        "postcode": "28013",
        "country": "ES",
    },
    {
        "address_1": "1 Macquarie St",
        "city": "Sydney",
        "state": "NSW",
        "postcode": "2000",
        "country": "AU",
    },
)
PRODUCTS = (
    ("TEE-BLK-M", "Custom Tee - Black, M", "19.00"),
    ("TEE-WHT-L", "Custom Tee - White, L", "19.00"),
    ("MUG-11OZ", "Photo Mug 11oz", "14.50"),
    ("MUG-15OZ", "Photo Mug 15oz", "16.50"),
)
MESSAGES = (
    "Happy birthday!",
    "Best dad ever",
    "Joyeux anniversaire ♥",
    "Te quiero",
    "Class of 2026",
)


ADDRESS_SLOT = 3
"""Slots after the opening one, the order whose customer left the shipping address blank:
late enough to arrive after the first sync (an order the first sync finds already due
waits for staff as "placed before podops watched this store")."""


class SandboxStore:
    """Implements StoreClient for the sandbox; thread-safe for the web server and scheduler."""

    platform = "sandbox"

    def __init__(
        self,
        key: str,
        config: StoreConfig,
        *,
        journal: Path | None = None,
        seed: int | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.key = key
        self.config = config
        if not config.personalization.fields and not config.personalization.images:
            self.config = config.model_copy(update={"personalization": DEFAULT_MAPPING})
        self.journal = journal
        self.seed = seed if seed is not None else zlib.crc32(key.encode())
        self.clock = clock
        self.slot = timedelta(seconds=config.sandbox_every_s)
        self.backfill = timedelta(hours=config.sandbox_backfill_h)
        self.cancel_after = self.slot * CANCEL_AFTER_SLOTS
        self._lock = threading.Lock()
        self._memory: list[dict[str, Any]] = []

    def fetch_changes(
        self, since: datetime | None, start_page: int = 1, start_token: str | None = None
    ) -> Iterator[OrderPage]:
        now = self.clock()
        start = since if since is not None else now - self.backfill
        if self.config.sandbox_opened_at is not None:
            start = max(start, self.config.sandbox_opened_at)
        changed = [o for o in self.orders_until(now, start - self.cancel_after) if _after(o, start)]
        pages = max(1, -(-len(changed) // PAGE))
        for index in range(min(start_page, pages) - 1, pages):
            chunk = changed[index * PAGE : (index + 1) * PAGE]
            yield OrderPage(
                orders=[map_order_safely(o, self.key, self.config) for o in chunk],
                page=index + 1,
                total_pages=pages,
                total=len(changed),
                newest_change=max((modified_at(o) or now for o in chunk), default=None),
                server_time=now,
            )

    def orders_until(self, now: datetime, first: datetime) -> list[dict[str, Any]]:
        """Every order placed in [first, now], as the shop shows it at `now`."""
        pushed = self._pushed_statuses()
        low = max(0, int((first - ANCHOR) / self.slot))
        high = int((now - ANCHOR) / self.slot)
        orders = []
        for slot in range(low, high + 1):
            order = self.order_for_slot(slot, now)
            if order is not None:
                _overlay(order, pushed.get(str(order["id"])))
                orders.append(order)
        return orders

    def order_for_slot(self, slot: int, now: datetime) -> dict[str, Any] | None:
        """The order placed in this time slot, if any (deterministic for a seed)."""
        rng = random.Random(f"{self.seed}:{slot}")
        opening = self._opening_slot()
        staged = opening is not None and slot in (opening, opening + ADDRESS_SLOT)
        if rng.random() > 0.6 and not staged:
            return None
        offset = timedelta(seconds=rng.random() * self.slot.total_seconds())
        created = ANCHOR + slot * self.slot + offset
        if created > now:
            return None
        roll = rng.random()
        status, modified = "processing", created
        if roll < 0.05:
            status = "on-hold"
        elif roll < 0.09 and now >= created + self.cancel_after:
            status, modified = "cancelled", created + self.cancel_after
        photo_url = self.config.sandbox_photo_url.format(slot=slot, n=slot % PHOTOS)
        problem = rng.random()
        if slot == opening:  # staff fix its message on screen: no other problem holds it
            problem = 1.0
        order = _order_json(slot, rng, created, modified, status, problem, photo_url)
        if slot == opening:
            _needs_a_message(order, rng)
            _add_a_named_mug(order, slot, photo_url)
        elif staged:
            _needs_an_address(order)
        return order

    def _opening_slot(self) -> int | None:
        """The first whole slot after the shop opened: its order always waits for
        staff (a mug without its message, and a mug whose customer also wrote a name
        the mug does not print), so a test-mode run shows both staff edits; the order
        `ADDRESS_SLOT` slots later has no shipping address (staff type it)."""
        opened = self.config.sandbox_opened_at
        if opened is None:
            return None
        return int((opened - ANCHOR) / self.slot) + 1

    def push_status(self, external_id: str, status: str) -> PushResult:
        if status in STAFF_HOLD_STATUSES:  # as WooCommerce: the shop keeps its own status
            return PushResult.NOTHING_TO_PUSH
        return self._record({"order": external_id, "status": status})

    def push_tracking(self, external_id: str, tracking: TrackingPush) -> PushResult:
        entry = {"order": external_id, "carrier": tracking.carrier, "tracking": tracking.number}
        return self._record({**entry, "url": tracking.url})

    def pushed(self) -> list[dict[str, Any]]:
        """Everything podops pushed to this store, oldest first."""
        with self._lock:
            if self.journal is None or not self.journal.exists():
                return list(self._memory)
            lines = self.journal.read_text(encoding="utf-8").splitlines()
            return [json.loads(line) for line in lines if line.strip()]

    def _record(self, entry: dict[str, Any]) -> PushResult:
        same = {k: v for k, v in entry.items() if k != "url"}
        if any({k: e.get(k) for k in same} == same for e in self.pushed()):
            return PushResult.ALREADY_THERE
        entry = {**entry, "at": self.clock().isoformat()}
        with self._lock:
            self._memory.append(entry)
            if self.journal is not None:
                self.journal.parent.mkdir(parents=True, exist_ok=True)
                with self.journal.open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
        return PushResult.SENT

    def _pushed_statuses(self) -> dict[str, dict[str, Any]]:
        return {e["order"]: e for e in self.pushed() if "status" in e}

    def close(self) -> None:
        return None


def _after(order: dict[str, Any], start: datetime) -> bool:
    changed = modified_at(order)
    return changed is not None and changed > start


def _overlay(order: dict[str, Any], pushed: dict[str, Any] | None) -> None:
    """A status podops pushed shows in later polls, like in a real shop."""
    if pushed is not None:
        order["status"] = pushed["status"]
        order["date_modified_gmt"] = pushed["at"][:19]


def _order_json(
    slot: int,
    rng: random.Random,
    created: datetime,
    modified: datetime,
    status: str,
    problem: float,
    photo_url: str,
) -> dict[str, Any]:
    first, last = rng.choice(PEOPLE)
    place = dict(rng.choice(PLACES))
    address = {"first_name": first, "last_name": last, "company": "", "address_2": "", **place}
    count = rng.choice((1, 1, 1, 2))
    items = [_item(slot, n, rng, first, photo_url) for n in range(1, count + 1)]
    if problem < 0.03:
        address = {key: "" for key in address}
    elif problem < 0.05:
        items[0].update(sku="HAT-SNAP-RED", name="Snapback Hat (not set up in podops)")
    elif problem < 0.07:
        items[0]["meta_data"].append({"id": 9, "key": "Message", "value": {"html": "<b>?</b>"}})
    total = sum(float(i["subtotal"]) for i in items) + 4.90
    fmt = "%Y-%m-%dT%H:%M:%S"
    return {
        "id": slot,
        "number": f"T{slot}",
        "status": status,
        "currency": "USD",
        "date_created_gmt": created.strftime(fmt),
        "date_modified_gmt": modified.strftime(fmt),
        "total": f"{total:.2f}",
        "shipping_total": "4.90",
        "customer_note": "",
        "billing": {**address, "email": f"{first.lower()}.{slot}@example.com", "phone": "+1 555"},
        "shipping": address,
        "line_items": items,
        "shipping_lines": _shipping_lines(slot),
    }


def _shipping_lines(slot: int) -> list[dict[str, Any]]:
    """One shipping line as WooCommerce lists it; about one order in eight paid for
    express (chosen from the slot, so the other random choices stay as they were)."""
    express = zlib.crc32(f"shipping:{slot}".encode()) % 8 == 0
    title, instance = ("Express Shipping", "2") if express else ("Standard Shipping", "1")
    return [
        {"id": slot, "method_id": "flat_rate", "instance_id": instance, "method_title": title,
         "total": "4.90", "total_tax": "0.00", "taxes": [], "meta_data": []}
    ]  # fmt: skip


def _needs_a_message(order: dict[str, Any], rng: random.Random) -> None:
    """Make the first line a mug whose customer skipped the printed message."""
    sku, name, price = rng.choice([p for p in PRODUCTS if p[0].startswith("MUG")])
    item = order["line_items"][0]
    item.update(sku=sku, name=name, price=float(price))
    item["subtotal"] = item["total"] = f"{float(price) * item['quantity']:.2f}"
    item["meta_data"] = [m for m in item["meta_data"] if m["key"] not in ("Message", "Name")]
    order["status"] = "processing"
    order["date_modified_gmt"] = order["date_created_gmt"]
    total = sum(float(i["subtotal"]) for i in order["line_items"]) + 4.90
    order["total"] = f"{total:.2f}"


def _add_a_named_mug(order: dict[str, Any], slot: int, photo_url: str) -> None:
    """Add a mug whose customer wrote a name (the mug prints none: staff decide)."""
    sku, name, price = next(p for p in PRODUCTS if p[0] == "MUG-11OZ")
    first = str(order["billing"]["first_name"])
    meta = [
        {"id": 1, "key": "Name", "value": first.upper()},
        {"id": 2, "key": "Message", "value": MESSAGES[slot % len(MESSAGES)]},
        {"id": 3, "key": "Photo", "value": photo_url},
    ]
    line = {"id": slot * 10 + 9, "sku": sku, "name": name, "quantity": 1, "price": float(price)}
    order["line_items"].append({**line, "subtotal": price, "total": price, "meta_data": meta})
    total = sum(float(i["subtotal"]) for i in order["line_items"]) + 4.90
    order["total"] = f"{total:.2f}"


def _needs_an_address(order: dict[str, Any]) -> None:
    """The customer left the shipping address blank (a gift, a checkout glitch)."""
    order["shipping"] = {key: "" for key in order["shipping"]}
    order["status"] = "processing"
    order["date_modified_gmt"] = order["date_created_gmt"]


def _item(slot: int, n: int, rng: random.Random, first: str, photo_url: str) -> dict[str, Any]:
    sku, name, price = rng.choice(PRODUCTS)
    quantity = rng.choice((1, 1, 1, 2, 3))
    # A mug's product page asks for no name (it prints none); now and then a customer
    # finds a way to send one anyway, and staff decide (the order waits in needs design).
    named = not sku.startswith("MUG") or (slot + n) % 7 == 0
    meta: list[dict[str, Any]] = [{"id": 1, "key": "Name", "value": first.upper()}] if named else []
    # Mugs print the message, so a customer who skipped it needs staff (as in real shops).
    if rng.random() < (0.85 if sku.startswith("MUG") else 0.5):
        meta.append({"id": 2, "key": "Message", "value": rng.choice(MESSAGES)})
    # Every sandbox product is a photo product (the example templates frame a photo).
    meta.append({"id": 3, "key": "Photo", "value": photo_url})
    subtotal = f"{float(price) * quantity:.2f}"
    return {
        "id": slot * 10 + n,
        "sku": sku,
        "name": name,
        "quantity": quantity,
        "subtotal": subtotal,
        "total": subtotal,
        "price": float(price),
        "meta_data": meta,
    }
