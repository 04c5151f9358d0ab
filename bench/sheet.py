"""Sheet mirror benchmark against the fake Google Sheets server (real gspread).

Mirrors 10,000 line items from an empty spreadsheet, then an incremental cycle
with 50 changed rows, then a cycle importing 5,000 pasted tracking rows.
The fake server runs in a process of its own, as Google's servers run on other
machines; requests and bytes are counted there. CPU is the mirror thread's own
(`time.thread_time`).

`tracking_import_s` is the wall time of the WHOLE cycle that imports the rows:
one read, validating and recording 5,000 parcels (shipments, events, outbox),
then one write holding the 5,000 results AND the 10,000 Orders rows those
parcels changed (status, shipped, tracking). The results and the mirror share
that write, so the mirror is not left out of the figure. The 5,000 rows are
pasted beforehand through the API, as a browser paste arrives. The fake's
answers are included in the wall time (about what Google's round trips cost).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import gspread
from gspread.utils import ValueInputOption
from sqlalchemy import update

from podops import services
from podops.db import Database
from podops.events import Actor, Channel
from podops.incoming import IncomingLineItem, IncomingOrder
from podops.models import Order
from podops.routing import ShopPolicy, StorePolicy
from podops.settings import Settings, SheetConfig
from podops.sheet.rows import TRACKING
from podops.status import OrderStatus
from sync.sheets.google import GoogleSheet
from sync.sheets.mirror import SheetMirror
from tests.fakes.sheets_process import FakeSheetsProcess
from tests.fakes.sheets_server import RedirectSession

ORDERS = 5_000  # two line items each: 10,000 rows
SYSTEM = Actor("bench", Channel.SYSTEM)


def seed(db: Database) -> None:
    placed = datetime.now(UTC) - timedelta(days=1)
    batch = [
        IncomingOrder(
            store="main",
            external_id=f"ext-{n}",
            number=str(100000 + n),
            placed_at=placed + timedelta(seconds=n),
            customer_name=f"Customer {n}",
            shipping_address={"address_1": "1 Main St", "country": "US"},
            total=Decimal("30.00"),
            items=[
                IncomingLineItem(
                    f"li-{n}-1", "TEE-BLK-M", "Custom Tee", 1, personalization={"name": f"N{n}"}
                ),
                IncomingLineItem(
                    f"li-{n}-2", "MUG-11OZ", "Photo Mug", 1, personalization={"message": "Hi"}
                ),
            ],
        )
        for n in range(ORDERS)
    ]
    policy = ShopPolicy({"main": StorePolicy(24, "manual")}, [])
    with db.unit_of_work() as session:
        services.receive_orders(session, batch, policy, SYSTEM)


def measured(fake: FakeSheetsProcess, mirror: SheetMirror) -> tuple[int, int, float, float]:
    fake.reset_log()
    wall, cpu = time.perf_counter(), time.thread_time()
    mirror.run_cycle()
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    requests, size = fake.stats()
    return requests, size, cpu, wall


def paste_tracking(client: gspread.Client, spreadsheet_id: str) -> None:
    """What staff do: paste order, carrier and tracking number for 5,000 parcels."""
    rows = [[str(100000 + n), "UPS", f"1Z999AA1{n + 2:010d}"] for n in range(ORDERS)]
    worksheet = client.open_by_key(spreadsheet_id).worksheet(TRACKING)
    worksheet.resize(rows=max(worksheet.row_count, ORDERS + 1))  # a paste grows the grid
    worksheet.update(rows, f"A2:C{ORDERS + 1}", value_input_option=ValueInputOption.raw)


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="podops-bench-sheet-"))
    db = Database(f"sqlite:///{folder / 'bench.db'}")
    db.upgrade()
    seed(db)
    settings = Settings(data_dir=folder, sheet=SheetConfig(backend="google"))
    with FakeSheetsProcess() as fake:
        client = gspread.Client(auth=None, session=RedirectSession(fake.base))  # type: ignore[arg-type]
        mirror = SheetMirror(db, GoogleSheet(client, fake.spreadsheet_id), settings)
        full = measured(fake, mirror)
        numbers = [str(100000 + n) for n in range(0, ORDERS, ORDERS // 25)][:25]
        with db.unit_of_work() as session:
            for number in numbers:
                services.hold(session, number, SYSTEM, "bench")
        incremental = measured(fake, mirror)
        with db.unit_of_work() as session:
            session.execute(update(Order).values(status=OrderStatus.SUBMITTED))
        mirror.run_cycle()
        paste_tracking(client, fake.spreadsheet_id)
        tracking = measured(fake, mirror)
        imported = sum(1 for r in fake.values(TRACKING)[1:] if r[5].startswith("imported"))
    report(full, incremental, tracking, imported)


def report(full, incremental, tracking, imported: int) -> None:  # type: ignore[no-untyped-def]
    print(f"{'step':<34}{'requests':>9}{'bytes':>12}{'cpu s':>8}{'wall s':>8}")
    for name, (requests, size, cpu, wall) in (
        ("full mirror (10,000 rows)", full),
        ("incremental (50 rows changed)", incremental),
        (f"tracking cycle ({imported} imported)", tracking),
    ):
        print(f"{name:<34}{requests:>9}{size:>12,}{cpu:>8.2f}{wall:>8.2f}")
    print(
        "tracking_import_s = wall time of the whole tracking cycle: read, record 5,000 parcels,\n"
        "write the 5,000 results together with the 10,000 Orders rows they changed."
    )
    figures = {
        "full_mirror_requests": {"value": full[0], "unit": "requests", "target": "<= 5"},
        "incremental_requests": {"value": incremental[0], "unit": "requests", "target": "<= 2"},
        "diff_cpu_s": {"value": round(incremental[2], 3), "unit": "s", "target": "<= 1.0"},
        "tracking_import_requests": {"value": tracking[0], "unit": "requests", "target": "<= 3"},
        "tracking_import_s": {"value": round(tracking[3], 3), "unit": "s", "target": "<= 3.0"},
    }
    print(json.dumps({"bench": "sheet", "figures": figures}))


if __name__ == "__main__":
    main()
