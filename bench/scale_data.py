"""A busy shop's history, written straight into PostgreSQL with COPY (`bench/scale.py`).

Orders arrive at a steady rate per day going back in time from `now`: order `k`
(0 = the newest) was placed `k / per_day` days ago. Its age decides where it stands,
as in a shop that works: the last day still counting down (a few held or waiting for
a design, none due), then submitted, in production, shipped, and completed after
about eight days; about 2% cancelled, 0.5% returned, a handful failed at submission.
Each order has 1 to 3 lines, one fulfillment per provider its lines go to (a tenth are
split between two), a parcel per fulfillment once shipped, and the audit events its
life wrote (about 7 per finished order), a few of them staff notes from the sheet.

Ids are slots of the order's id (`order_id * 3 + j` for lines...), and the oldest order
has the lowest id, so history is added later (`write_orders(first_k=...)`) without
renumbering what is already there: the 1,000,000-order database is the
100,000-order one with 900,000 older orders added underneath.
"""

from __future__ import annotations

import io
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

FIRST_NAMES = [
    "Ana",
    "Ben",
    "Carla",
    "David",
    "Emma",
    "Felix",
    "Grace",
    "Hugo",
    "Iris",
    "Jack",
    "Kara",
    "Liam",
    "Mia",
    "Noah",
    "Olga",
    "Paul",
    "Quinn",
    "Rosa",
    "Sam",
    "Tara",
    "Uma",
    "Victor",
    "Wendy",
    "Xavier",
    "Yara",
    "Zoe",
    "Adam",
    "Bella",
    "Chris",
    "Dora",
    "Eli",
    "Fiona",
    "George",
    "Hannah",
    "Ivan",
    "Julia",
    "Kevin",
    "Laura",
    "Marco",
    "Nina",
    "Oscar",
    "Petra",
    "Ruth",
    "Simon",
    "Tom",
    "Ursula",
    "Vera",
    "Will",
]
_HEADS = "Ash Brook Clay Dun Elm Fair Glen Hart Hol Kings Lang Mar North Oak Pem Red Sel Stan"
_TAILS = "by dale field ford ham ley man mont more ridge son stead ton well wick wood worth"
SURNAMES = [h + t for h in _HEADS.split() for t in _TAILS.split()]
"""324 made-up surnames (`Hartwell`, `Oakley`): a surname search matches about 0.3%."""
SKUS = (
    ("TEE-BLK-M", "Custom Tee", "cc"),
    ("MUG-11OZ", "Photo Mug", "so"),
    ("HOOD-L", "Hoodie", "cc"),
)
COUNTDOWN = timedelta(hours=24)

ORDER_COLUMNS = [
    "id",
    "store_id",
    "number",
    "external_id",
    "status",
    "placed_at",
    "submit_at",
    "customer_name",
    "customer_email",
    "customer_phone",
    "shipping_address",
    "currency",
    "total",
    "shipping_total",
    "problems",
    "note",
    "shipped_at",
    "completed_at",
    "created_at",
    "updated_at",
    "version",
    "shipping_method_id",
    "shipping_method",
    "shipping_speed",
    "rush",
    "cancel_reason",
]
LINE_COLUMNS = [
    "id",
    "order_id",
    "position",
    "external_id",
    "sku",
    "name",
    "product_key",
    "provider_sku",
    "quantity",
    "quantity_shipped",
    "unit_price",
    "personalization",
    "image_urls",
    "problems",
    "print_file",
    "print_file_revision",
    "print_file_current",
    "provider",
]
PART_COLUMNS = [
    "id",
    "order_id",
    "seq",
    "kind",
    "status",
    "provider",
    "provider_order_id",
    "submit_attempts",
    "last_polled_at",
    "submitted_at",
    "shipped_at",
    "created_at",
    "updated_at",
    "version",
    "last_error",
]
PART_LINE_COLUMNS = ["id", "fulfillment_id", "line_item_id", "quantity", "provider_sku"]
SHIPMENT_COLUMNS = [
    "id",
    "order_id",
    "carrier",
    "tracking_number",
    "tracking_url",
    "shipped_at",
    "channel",
    "fulfillment_id",
]
SHIPMENT_LINE_COLUMNS = ["id", "shipment_id", "line_item_id", "quantity"]
EVENT_COLUMNS = [
    "id",
    "order_id",
    "at",
    "actor",
    "channel",
    "action",
    "from_status",
    "to_status",
    "detail",
]

TABLES: dict[str, list[str]] = {
    "orders": ORDER_COLUMNS,
    "line_items": LINE_COLUMNS,
    "fulfillments": PART_COLUMNS,
    "fulfillment_lines": PART_LINE_COLUMNS,
    "shipments": SHIPMENT_COLUMNS,
    "shipment_lines": SHIPMENT_LINE_COLUMNS,
    "events": EVENT_COLUMNS,
}


@dataclass(frozen=True, slots=True)
class Shop:
    """The history to write: `total` orders at `per_day`, the newest placed just before `now`."""

    now: datetime
    total: int
    per_day: float
    store_id: int = 1

    def order_id(self, k: int) -> int:
        return self.total - k

    def number(self, k: int) -> str:
        return str(100000 + self.order_id(k))

    def placed(self, k: int) -> datetime:
        return self.now - timedelta(days=(k + 0.5) / self.per_day)

    def name_of(self, k: int) -> str:
        rng = random.Random(k)
        return f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"


def status_for(age_days: float, rng: random.Random) -> str:
    """Where an order of this age stands in a shop that works."""
    roll = rng.random()
    if age_days < 1:
        return "on_hold" if roll < 0.02 else "needs_design" if roll < 0.03 else "pending"
    if roll < 0.02:
        return "cancelled"
    if age_days < 2:
        return "submit_failed" if roll < 0.022 else "submitted"
    if age_days < 5:
        return "in_production"
    if age_days < 8:
        return "partially_shipped" if roll < 0.05 else "shipped"
    return "returned" if roll < 0.025 else "completed"


SUBMITTED = {"submitted", "in_production", "partially_shipped", "shipped", "completed", "returned"}
SHIPPED = {"shipped", "completed", "returned"}
PART_STATUS = {"completed": "shipped", "returned": "shipped"}
STEPS = {
    "submitted": ["begin_submit", "submit_ok"],
    "in_production": ["begin_submit", "submit_ok", "start_production"],
    "partially_shipped": ["begin_submit", "submit_ok", "start_production", "ship_part"],
    "shipped": ["begin_submit", "submit_ok", "start_production", "ship_all"],
    "completed": ["begin_submit", "submit_ok", "start_production", "ship_all", "complete"],
    "returned": ["begin_submit", "submit_ok", "ship_all", "complete", "return"],
    "submit_failed": ["begin_submit", "submit_fail"],
    "cancelled": ["cancel"],
    "on_hold": ["hold"],
    "needs_design": ["flag_design"],
}


def _ts(moment: datetime | None) -> str:
    return "\\N" if moment is None else moment.isoformat()


def _json(value: object) -> str:
    return json.dumps(value, separators=(",", ":")).replace("\\", "\\\\")


class Buffers:
    """One text COPY buffer per table."""

    def __init__(self) -> None:
        self.out = {table: io.StringIO() for table in TABLES}

    def row(self, table: str, values: list[object]) -> None:
        text = "\t".join("\\N" if v is None else str(v) for v in values)
        self.out[table].write(text + "\n")


def write_order(shop: Shop, k: int, out: Buffers) -> None:
    rng = random.Random(k * 7919)
    oid = shop.order_id(k)
    placed = shop.placed(k)
    age = (shop.now - placed).total_seconds() / 86400
    status = status_for(age, rng)
    name = shop.name_of(k)
    email = name.lower().replace(" ", ".") + f"{k % 97}@example.com"
    count = 1 if rng.random() < 0.6 else 2 if rng.random() < 0.75 else 3
    lines = [SKUS[(k + j) % len(SKUS)] if j else SKUS[k % 2] for j in range(count)]
    submitted = placed + COUNTDOWN if status in SUBMITTED or status == "submit_failed" else None
    shipped = placed + timedelta(days=5 + rng.random() * 2) if status in SHIPPED else None
    completed = (
        placed + timedelta(days=8 + rng.random()) if status in {"completed", "returned"} else None
    )
    updated = completed or shipped or submitted or placed
    if status == "cancelled":
        updated = placed + timedelta(hours=3)
    address = {
        "name": name,
        "address_1": f"{k % 900 + 1} Main St",
        "city": "Springfield",
        "postcode": f"{62000 + k % 999}",
        "country": "US",
    }
    out.row(
        "orders",
        [
            oid,
            shop.store_id,
            shop.number(k),
            f"ext-{oid}",
            status,
            _ts(placed),
            _ts(placed + COUNTDOWN),
            name,
            email,
            "",
            _json(address),
            "USD",
            "39.90",
            "4.99",
            _json(["needs a design"] if status == "needs_design" else []),
            "",
            _ts(shipped),
            _ts(completed),
            _ts(placed),
            _ts(updated),
            1,
            "std",
            "Standard Shipping",
            "standard",
            "false",
            "customer asked" if status == "cancelled" else None,
        ],
    )
    for j, (sku, title, provider) in enumerate(lines):
        qty = 1 + (k + j) % 2
        out.row(
            "line_items",
            [
                oid * 3 + j,
                oid,
                j + 1,
                f"li-{oid}-{j}",
                sku,
                title,
                sku.split("-")[0].lower(),
                None,
                qty,
                qty if status in SHIPPED else 0,
                "19.95",
                _json({"name": name.split()[0]}),
                "{}",
                "[]",
                f"print/{oid}-{j}.png" if submitted else None,
                1 if submitted else 0,
                "true" if submitted else "false",
                provider,
            ],
        )
    _parts(shop, k, oid, status, lines, placed, submitted, shipped, rng, out)
    _events(oid, status, placed, submitted, shipped, completed, updated, rng, out)


def _parts(
    shop: Shop,
    k: int,
    oid: int,
    status: str,
    lines: list[tuple[str, str, str]],
    placed: datetime,
    submitted: datetime | None,
    shipped: datetime | None,
    rng: random.Random,
    out: Buffers,
) -> None:
    if submitted is None:
        return
    providers = list(dict.fromkeys(p for _, _, p in lines))
    for seq, provider in enumerate(providers, start=1):
        pid = oid * 2 + seq - 1
        part = PART_STATUS.get(status, status)
        failed = status == "submit_failed"
        out.row(
            "fulfillments",
            [
                pid,
                oid,
                seq,
                "order",
                part,
                provider,
                None if failed else f"{provider}-{pid}",
                1,
                _ts(
                    None
                    if failed or part == "shipped"
                    else shop.now - timedelta(minutes=rng.random() * 60)
                ),
                _ts(None if failed else submitted),
                _ts(shipped),
                _ts(submitted),
                _ts(shipped or submitted),
                1,
                "provider refused the SKU" if failed else None,
            ],
        )
        mine = [(j, sku) for j, (sku, _, p) in enumerate(lines) if p == provider]
        for j, sku in mine:
            out.row("fulfillment_lines", [oid * 3 + j, pid, oid * 3 + j, 1 + (k + j) % 2, sku])
        if shipped is not None:
            out.row(
                "shipments",
                [
                    pid,
                    oid,
                    "UPS",
                    f"1Z{pid:012d}",
                    f"https://ups.example/track/1Z{pid:012d}",
                    _ts(shipped),
                    "provider",
                    pid,
                ],
            )
            for j, _ in mine:
                out.row("shipment_lines", [oid * 3 + j, pid, oid * 3 + j, 1 + (k + j) % 2])


def _events(
    oid: int,
    status: str,
    placed: datetime,
    submitted: datetime | None,
    shipped: datetime | None,
    completed: datetime | None,
    updated: datetime,
    rng: random.Random,
    out: Buffers,
) -> None:
    steps = ["receive", "queue", *STEPS.get(status, [])]
    times = [placed, placed]
    for step in steps[2:]:
        when = {
            "ship_all": shipped,
            "ship_part": shipped,
            "complete": completed,
            "return": updated + timedelta(days=3),
        }.get(step)
        times.append(when or submitted or updated)
    if rng.random() < 0.01:
        steps.append("sheet_note")
        times.append(placed + timedelta(hours=2))
    for e, (step, at) in enumerate(zip(steps, times, strict=True)):
        detail = {"line_item_id": oid * 3, "note": "gift wrap"} if step == "sheet_note" else {}
        actor, channel = ("sheet", "sheet") if step == "sheet_note" else ("system", "system")
        out.row(
            "events", [oid * 8 + e, oid, _ts(at), actor, channel, step, None, None, _json(detail)]
        )


def batches(shop: Shop, first_k: int, last_k: int, size: int = 20_000) -> Iterator[Buffers]:
    """The rows of orders `first_k` (newest) to `last_k` (exclusive), a batch at a time."""
    for start in range(first_k, last_k, size):
        out = Buffers()
        for k in range(start, min(start + size, last_k)):
            write_order(shop, k, out)
        yield out


def copy_batches(
    connection: object,
    shop: Shop,
    first_k: int,
    last_k: int,
    progress: Callable[[int], None] = lambda _n: None,
) -> None:
    """COPY the orders into the database through a psycopg connection (one commit each batch)."""
    done = first_k
    for out in batches(shop, first_k, last_k):
        with connection.cursor() as cursor:  # type: ignore[attr-defined]
            for table, columns in TABLES.items():
                data = out.out[table].getvalue()
                if not data:
                    continue
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    copy.write(data)
        connection.commit()  # type: ignore[attr-defined]
        done = min(last_k, done + 20_000)
        progress(done)


def finish(connection: object) -> None:
    """Sequences past the slot ids; rows laid out in id order, as a shop's tables are
    (written as orders arrive: history added underneath was appended after the newer
    rows, which a real database never holds); fresh planner statistics."""
    with connection.cursor() as cursor:  # type: ignore[attr-defined]
        for table in TABLES:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}))"
            )
    connection.commit()  # type: ignore[attr-defined]
    connection.autocommit = True  # type: ignore[attr-defined]
    with connection.cursor() as cursor:  # type: ignore[attr-defined]
        for table in TABLES:
            cursor.execute(f"CLUSTER {table} USING pk_{table}")
        cursor.execute("VACUUM ANALYZE")
    connection.autocommit = False  # type: ignore[attr-defined]
